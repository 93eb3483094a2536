"""Downloads of a blog draft: Markdown, standalone HTML and Word (.docx).

All functions are pure (bytes in memory, no I/O). Each export makes sure the
title is the draft's one leading ``#`` heading (see :func:`with_title`); the
HTML and DOCX exports also append a ``## Sources`` list built from
``citations`` when the Markdown has none. The DOCX is built by walking the
same markdown-it tokens the HTML renderer uses, so citation markers, the
Sources anchors and what counts as code agree between the two.
"""

from __future__ import annotations

import html as _html
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from markdown_it.token import Token

from draftsmith.generation.citations import render_sources
from draftsmith.text.markdown import escape_inline, strip_control_chars

from .render import (
    find_sources_heading,
    inline_text,
    parse_tokens,
    plain_title,
    render_html,
    safe_href,
)

__all__ = [
    "content_disposition_name",
    "export_docx",
    "export_html",
    "export_markdown",
    "with_title",
]

MONOSPACE = "Consolas"
LINK_COLOR = RGBColor(0x05, 0x63, 0xC1)
MAX_DOCX_COLUMNS = 63  # Word's limit
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)
}


# --------------------------------------------------------------------------
# Markdown helpers


def _clean_title(title: str | None) -> str:
    return " ".join(strip_control_chars(title or "").split())


def _normalize_newlines(text: str) -> str:
    return strip_control_chars(text or "").replace("\r\n", "\n").replace("\r", "\n")


def _apply_title(text: str, title: str, tokens: Sequence[Token]) -> str:
    line = "# " + escape_inline(title)
    first = tokens[0] if tokens else None
    if first is not None and first.type == "heading_open" and first.tag == "h1" and first.map:
        current = " ".join(inline_text(tokens[1].children).split())
        if current == title:
            return text
        lines = text.split("\n")
        start, end = first.map
        lines[start:end] = [line]
        return "\n".join(lines)
    body = text.lstrip("\n")
    return line + "\n\n" + body if body.strip() else line + "\n"


def _final_newline(text: str) -> str:
    return text + "\n" if text and not text.endswith("\n") else text


def with_title(title: str, markdown: str) -> str:
    """``markdown`` whose first block is ``# title``, exactly once.

    A leading level-1 heading with the same text is kept as written; a
    leading level-1 heading with another text is replaced by the title; with
    no leading level-1 heading, ``# title`` is prepended. An empty title leaves
    the Markdown alone. Newlines are normalised to ``\\n``, control characters
    dropped, and the result ends with a newline."""
    text = _normalize_newlines(markdown)
    t = _clean_title(title)
    if t:
        text = _apply_title(text, t, parse_tokens(text))
    return _final_newline(text)


def _prepare(title: str, markdown: str, citations: Iterable[Any] | None) -> tuple[str, str]:
    """(display title, full Markdown) for the HTML and DOCX exports: the
    title heading ensured, and a Sources list from ``citations`` appended if
    the Markdown has none (one parse for both checks)."""
    text = _normalize_newlines(markdown)
    t = _clean_title(title)
    tokens = parse_tokens(text)
    if t:
        text = _apply_title(text, t, tokens)
    if citations and find_sources_heading(tokens) is None:
        extra = render_sources(citations)
        if extra:
            text = text.rstrip("\n") + "\n\n" + extra
    text = _final_newline(text)
    return t or plain_title(text) or "Draft", text


# --------------------------------------------------------------------------
# Markdown and HTML


def export_markdown(title: str, markdown: str) -> bytes:
    """The draft as UTF-8 Markdown, with its ``# title`` heading (see :func:`with_title`)."""
    return with_title(title, markdown).encode("utf-8")


_CSS = """
:root { color-scheme: light dark; }
body { margin: 0; padding: 2rem 1rem; background: Canvas; color: CanvasText;
  font: 1.0625rem/1.65 Georgia, "Times New Roman", serif; }
article { max-width: 42rem; margin: 0 auto; }
h1, h2, h3, h4, h5, h6 { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
  line-height: 1.25; margin: 2rem 0 0.75rem; }
h1 { font-size: 2.1rem; margin-top: 0; }
a { color: #0563c1; }
code, pre { font-family: Consolas, Menlo, monospace; font-size: 0.9em; }
pre { overflow-x: auto; padding: 0.75rem 1rem; background: rgba(127,127,127,0.12);
  border-radius: 4px; }
blockquote { margin: 1rem 0; padding: 0 1rem; border-left: 3px solid rgba(127,127,127,0.5); }
table { border-collapse: collapse; margin: 1rem 0; display: block; overflow-x: auto; }
th, td { border: 1px solid rgba(127,127,127,0.5); padding: 0.3rem 0.6rem; vertical-align: top; }
th { text-align: left; }
.align-left { text-align: left; }
.align-center { text-align: center; }
.align-right { text-align: right; }
sup.cite { line-height: 0; font-size: 0.75em; }
sup.cite a { text-decoration: none; }
li[id^="source-"]:target { background: rgba(255,214,0,0.25); }
hr { border: 0; border-top: 1px solid rgba(127,127,127,0.5); margin: 2rem 0; }
""".strip()


def export_html(title: str, markdown: str, citations: Sequence[Any] | None = None) -> bytes:
    """A standalone, sanitised HTML5 document (UTF-8) of the draft."""
    shown, md = _prepare(title, markdown, citations)
    body = render_html(md, list(citations) if citations else None)
    doc = (
        "<!doctype html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="generator" content="Draftsmith">\n'
        f"<title>{_html.escape(shown)}</title>\n"
        f"<style>\n{_CSS}\n</style>\n"
        "</head>\n"
        "<body>\n"
        "<article>\n"
        f"{body}"
        "</article>\n"
        "</body>\n"
        "</html>\n"
    )
    return doc.encode("utf-8")


# --------------------------------------------------------------------------
# DOCX


def _bookmark_name(fragment_id: str) -> str:
    return fragment_id.replace("-", "_")  # Word bookmark names: letters, digits, _


#: Child order of ``<w:pPr>`` in the WordprocessingML schema (Word rejects
#: files whose elements are out of order).
_PPR_ORDER = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr",
    "w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs",
    "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
    "w:pPrChange",
)  # fmt: skip


def _insert_in_ppr(p: Paragraph, element: Any, tag: str) -> None:
    """Add ``element`` (a ``tag`` such as ``"w:shd"``) to ``<w:pPr>`` at its schema position."""
    ppr = p._p.get_or_add_pPr()
    successors = _PPR_ORDER[_PPR_ORDER.index(tag) + 1 :]
    ppr.insert_element_before(element, *successors)


class _DocxWriter:
    def __init__(self, document: Any, tokens: list[Token]) -> None:
        self.doc = document
        self.tokens = tokens
        self.lists: list[dict[str, Any]] = []
        self.quote = 0
        self.para: Paragraph | None = None
        self.table: dict[str, Any] | None = None
        self.bookmark_id = 0
        self.bookmarks = {
            _bookmark_name(str(t.attrGet("id")))
            for t in tokens
            if t.type == "list_item_open" and t.attrGet("id")
        }

    # ---- blocks

    def write(self) -> None:
        tokens = self.tokens
        for i, t in enumerate(tokens):
            handler = getattr(self, "_" + t.type, None)
            if handler is not None:
                handler(t, i)

    def _new_para(self, style: str | None = None) -> Paragraph:
        p = self.doc.add_paragraph()
        if style is not None:
            try:
                p.style = self.doc.styles[style]
            except KeyError:
                pass
        return p

    def _block_para(self) -> Paragraph:
        """A paragraph styled for where we are (list item, quote or body)."""
        if self.lists:
            frame = self.lists[-1]
            depth = len(self.lists)
            suffix = "" if min(depth, 3) == 1 else f" {min(depth, 3)}"
            if not frame["started"]:
                frame["started"] = True
                kind = "List Number" if frame["ordered"] else "List Bullet"
                p = self._new_para(kind + suffix)
                if frame["ordered"]:
                    self._restart_numbering(p, frame, kind + suffix)
                if depth > 3:
                    p.paragraph_format.left_indent = Inches(0.25 * (depth + 1))
                if frame["bookmark"]:
                    self._add_bookmark(p, frame["bookmark"])
                    frame["bookmark"] = None
                return p
            p = self._new_para("List Continue" + suffix)
            if depth > 3:
                p.paragraph_format.left_indent = Inches(0.25 * (depth + 1))
            return p
        if self.quote:
            return self._new_para("Quote")
        return self._new_para()

    def _restart_numbering(self, p: Paragraph, frame: dict[str, Any], style: str) -> None:
        """Each Markdown ordered list counts from its own start (not on from the last list)."""
        try:
            if frame["num_id"] is None:
                style_el = self.doc.styles[style].element
                num_id = style_el.pPr.numPr.numId.val
                numbering = self.doc.part.numbering_part.element
                abstract_id = numbering.num_having_numId(num_id).abstractNumId.val
                num = numbering.add_num(abstract_id)
                num.add_lvlOverride(ilvl=0).add_startOverride(max(0, min(frame["start"], 32767)))
                frame["num_id"] = num.numId
            num_pr = p._p.get_or_add_pPr().get_or_add_numPr()
            num_pr.get_or_add_ilvl().val = 0
            num_pr.get_or_add_numId().val = frame["num_id"]
        except Exception:  # numbering is cosmetic; never fail the export for it
            frame["num_id"] = None

    def _add_bookmark(self, p: Paragraph, name: str) -> None:
        self.bookmark_id += 1
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(self.bookmark_id))
        start.set(qn("w:name"), name)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(self.bookmark_id))
        p._p.append(start)
        p._p.append(end)

    def _mark_item_content(self) -> None:
        if self.lists:
            self.lists[-1]["started"] = True

    def _heading_open(self, t: Token, i: int) -> None:
        level = int(t.tag[1:]) if t.tag[1:].isdigit() else 1
        if level == 1 and i == 0:
            style = "Title"
        else:
            style = f"Heading {max(1, min(level, 6))}"
        self._mark_item_content()
        self.para = self._new_para(style)

    def _heading_close(self, t: Token, i: int) -> None:
        self.para = None

    def _paragraph_open(self, t: Token, i: int) -> None:
        if self.table is None:
            self.para = self._block_para()

    def _paragraph_close(self, t: Token, i: int) -> None:
        self.para = None

    def _inline(self, t: Token, i: int) -> None:
        if self.table is not None and self.table["cell"] is not None:
            self.table["cell"].extend(t.children or [])
            return
        if self.para is None:
            self.para = self._block_para()
        self._add_inline(self.para, t.children or [])

    def _list_open(self, t: Token, ordered: bool) -> None:
        start = 1
        if ordered:
            try:
                start = int(t.attrGet("start") or 1)
            except (TypeError, ValueError):
                start = 1
        self._mark_item_content()
        self.lists.append(
            {"ordered": ordered, "start": start, "num_id": None, "started": False, "bookmark": None}
        )

    def _bullet_list_open(self, t: Token, i: int) -> None:
        self._list_open(t, False)

    def _ordered_list_open(self, t: Token, i: int) -> None:
        self._list_open(t, True)

    def _bullet_list_close(self, t: Token, i: int) -> None:
        if self.lists:
            self.lists.pop()

    _ordered_list_close = _bullet_list_close

    def _list_item_open(self, t: Token, i: int) -> None:
        if self.lists:
            frame = self.lists[-1]
            frame["started"] = False
            ident = t.attrGet("id")
            name = _bookmark_name(str(ident)) if ident else None
            frame["bookmark"] = name

    def _list_item_close(self, t: Token, i: int) -> None:
        if self.lists and not self.lists[-1]["started"]:
            self._block_para()  # an empty item still shows its bullet/number
        self.para = None

    def _blockquote_open(self, t: Token, i: int) -> None:
        self._mark_item_content()
        self.quote += 1

    def _blockquote_close(self, t: Token, i: int) -> None:
        self.quote = max(0, self.quote - 1)

    def _code(self, content: str) -> None:
        self._mark_item_content()
        p = self._new_para()
        fmt = p.paragraph_format
        indent = len(self.lists) + (1 if self.quote else 0)
        if indent:
            fmt.left_indent = Inches(0.25 * indent)
        fmt.space_before = Pt(4)
        fmt.space_after = Pt(8)
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:color"), "auto")
        shd.set(qn("w:fill"), "F2F2F2")
        _insert_in_ppr(p, shd, "w:shd")
        text = content[:-1] if content.endswith("\n") else content
        run = p.add_run(text)  # python-docx turns \n into <w:br/> and \t into <w:tab/>
        run.font.name = MONOSPACE
        run.font.size = Pt(9.5)

    def _fence(self, t: Token, i: int) -> None:
        self._code(t.content)

    def _code_block(self, t: Token, i: int) -> None:
        self._code(t.content)

    def _html_block(self, t: Token, i: int) -> None:  # only with html=True; kept as text
        self._mark_item_content()
        self._new_para().add_run(t.content.strip("\n"))

    def _hr(self, t: Token, i: int) -> None:
        self._mark_item_content()
        p = self._new_para()
        bdr = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
            bottom.set(qn(k), v)
        bdr.append(bottom)
        _insert_in_ppr(p, bdr, "w:pBdr")

    # ---- tables

    def _table_open(self, t: Token, i: int) -> None:
        self._mark_item_content()
        self.table = {"rows": [], "row": None, "cell": None, "header": False}

    def _thead_open(self, t: Token, i: int) -> None:
        if self.table is not None:
            self.table["header"] = True

    def _thead_close(self, t: Token, i: int) -> None:
        if self.table is not None:
            self.table["header"] = False

    def _tr_open(self, t: Token, i: int) -> None:
        if self.table is not None:
            self.table["row"] = {"header": self.table["header"], "cells": []}

    def _tr_close(self, t: Token, i: int) -> None:
        if self.table is not None and self.table["row"] is not None:
            self.table["rows"].append(self.table["row"])
            self.table["row"] = None

    def _th_open(self, t: Token, i: int) -> None:
        if self.table is not None:
            self.table["cell"] = []

    _td_open = _th_open

    def _th_close(self, t: Token, i: int) -> None:
        tb = self.table
        if tb is not None and tb["cell"] is not None and tb["row"] is not None:
            tb["row"]["cells"].append(tb["cell"])
        if tb is not None:
            tb["cell"] = None

    _td_close = _th_close

    def _table_close(self, t: Token, i: int) -> None:
        tb, self.table = self.table, None
        if not tb or not tb["rows"]:
            return
        ncols = min(max((len(r["cells"]) for r in tb["rows"]), default=0), MAX_DOCX_COLUMNS)
        if ncols <= 0:
            return
        table = self.doc.add_table(rows=0, cols=ncols)
        try:
            table.style = self.doc.styles["Table Grid"]
        except KeyError:
            pass
        for row in tb["rows"]:
            tr = table.add_row()._tr
            if row["header"]:
                tr_pr = tr.get_or_add_trPr()
                tr_pr.append(OxmlElement("w:tblHeader"))  # repeat on each page
            cells = [_Cell(tc, table) for tc in tr.tc_lst]
            for k, children in enumerate(row["cells"]):
                para = cells[min(k, ncols - 1)].paragraphs[0]
                if k >= ncols and children:
                    para.add_run(" | ")
                self._add_inline(para, children, bold=row["header"])
        self.para = None

    # ---- inline

    def _add_inline(self, p: Paragraph, children: Sequence[Token], bold: bool = False) -> None:
        runs = _InlineRuns(p, self.bookmarks, bold)
        for t in children:
            runs.token(t)


# Paired inline tokens (``strong_open``/``strong_close``…) and the run property they nest.
_NESTED_STYLES = {"strong": "bold", "em": "italic", "s": "strike", "cite": "sup"}


class _InlineRuns:
    """Runs of one Word paragraph from markdown-it inline tokens.

    Emphasis nests by counting opens and closes; a link becomes a
    ``<w:hyperlink>`` (external URL, or an anchor to a known bookmark) unless
    it sits inside another link, which Word cannot nest."""

    def __init__(self, p: Paragraph, bookmarks: set[str], bold: bool) -> None:
        self.p = p
        self.bookmarks = bookmarks
        self.st = {"bold": 1 if bold else 0, "italic": 0, "strike": 0, "sup": 0}
        self.targets: list[Any] = []  # open <w:hyperlink> elements (innermost last)
        self.link_kinds: list[bool] = []  # per link_open: did it open a hyperlink?

    def token(self, t: Token) -> None:
        kind = t.type
        base, _, edge = kind.rpartition("_")
        if base in _NESTED_STYLES and edge in ("open", "close"):
            flag = _NESTED_STYLES[base]
            self.st[flag] = self.st[flag] + 1 if edge == "open" else max(0, self.st[flag] - 1)
        elif kind in ("text", "text_special", "html_inline"):
            self.add(t.content)
        elif kind == "code_inline":
            self.add(t.content, code=True)
        elif kind == "softbreak":
            self.add(" ")
        elif kind == "hardbreak":
            run = self.p.add_run()
            if self.targets:
                self.targets[-1].append(run._r)
            run.add_break()
        elif kind in ("link_open", "cite_link_open"):
            self.link_kinds.append(self.open_link(safe_href(str(t.attrGet("href") or ""))))
        elif kind in ("link_close", "cite_link_close"):
            if self.link_kinds and self.link_kinds.pop() and self.targets:
                self.targets.pop()
        elif kind == "image":
            self.add(inline_text(t.children), italic=True)

    def add(self, text: str, *, code: bool = False, italic: bool = False) -> None:
        text = strip_control_chars(text)
        if not text:
            return
        run = self.p.add_run(text)
        if self.targets:
            self.targets[-1].append(run._r)
        st = self.st
        if st["bold"]:
            run.bold = True
        if st["italic"] or italic:
            run.italic = True
        if st["strike"]:
            run.font.strike = True
        if st["sup"]:
            run.font.superscript = True
        if code:
            run.font.name = MONOSPACE
        if self.targets:
            run.font.color.rgb = LINK_COLOR
            run.font.underline = not st["sup"]

    def open_link(self, href: str | None) -> bool:
        """Open a hyperlink for ``href`` if it has a target; whether one was opened."""
        if self.targets or href is None:
            return False
        h = OxmlElement("w:hyperlink")
        if href.startswith("#"):
            name = _bookmark_name(href[1:])
            if name not in self.bookmarks:
                return False
            h.set(qn("w:anchor"), name)
        else:
            h.set(qn("r:id"), self.p.part.relate_to(href, RT.HYPERLINK, is_external=True))
        self.p._p.append(h)
        self.targets.append(h)
        return True


def export_docx(title: str, markdown: str, citations: Sequence[Any] | None = None) -> bytes:
    """The draft as a Word document (python-docx), built from the Markdown tokens.

    ``#`` -> Title (the leading one) or Heading 1, ``##``/``###``… -> Heading 2/3…,
    lists -> List Bullet/List Number (2, 3 for nesting), blockquotes -> Quote,
    code -> monospace shaded paragraphs, tables -> Word tables with a header
    row; citation markers stay ``[n]`` as superscript runs linked to the
    Sources item's bookmark. Control characters are dropped; any Markdown is
    accepted."""
    shown, md = _prepare(title, markdown, citations)
    tokens = parse_tokens(md, citations)
    document = docx.Document()
    props = document.core_properties
    props.title = shown[:255]
    props.author = ""
    props.last_modified_by = ""
    props.comments = "Exported from Draftsmith"
    now = datetime.now(UTC).replace(microsecond=0)
    props.created = now
    props.modified = now
    props.revision = 1
    _DocxWriter(document, tokens).write()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------
# file names


def content_disposition_name(title: str, ext: str) -> str:
    """A safe ASCII file name for a download: ``"My Post!"``, ``"md"`` -> ``my-post.md``.

    Letters are transliterated where Unicode allows (``é`` -> ``e``), anything
    else becomes ``-``; at most 80 characters; ``draft`` when nothing is left
    (or for a Windows device name). ``ext`` is reduced to ``[a-z0-9]``."""
    e = re.sub(r"[^a-z0-9]", "", (ext or "").lower())[:10]
    s = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"['`]", "", s)
    s = re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower()
    if len(s) > 80:
        cut = s[:80]
        s = (cut.rsplit("-", 1)[0] if "-" in cut[40:] else cut).strip("-")
    if not s:
        s = "draft"
    elif s in _WINDOWS_RESERVED:
        s = f"{s}-draft"
    return f"{s}.{e}" if e else s
