"""HTML extraction: the page's main text as Markdown.

Parsing is offline (lxml/libxml2 HTML parser, network access disabled; no
external resource, stylesheet, script or frame is ever loaded).  Scripts,
styles, navigation, headers/footers, asides, forms, templates and hidden
elements are dropped; headings, paragraphs, lists and tables are kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from ._base import NO_TEXT, DocBuilder, Extraction, ExtractionError, one_line
from .dates import first_date
from .text import decode_bytes

_DROP_TAGS = (
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template",
    "svg", "math", "iframe", "frame", "frameset", "object", "embed", "canvas", "audio", "video",
    "button", "select", "input", "textarea", "label", "dialog", "head", "title", "meta", "link",
    "base", "map", "ix:header",
)  # fmt: skip
_DROP_ROLES = {
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
}
# class/id tokens that mark page chrome rather than content (exact token match)
_CHROME_TOKENS = {
    "navbox", "navbar", "sidebar", "breadcrumb", "breadcrumbs", "cookie-banner", "cookie-notice",
    "mw-editsection", "mw-jump-link", "skip-link", "skiplink", "noprint", "printfooter", "catlinks",
    "mw-navigation", "vector-header", "vector-page-toolbar", "share-buttons", "social-share",
}  # fmt: skip
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK = {
    "p", "div", "section", "article", "main", "blockquote", "address", "center", "details",
    "summary", "fieldset", "figure", "figcaption", "dl", "dt", "dd", "hr", "body", "html",
    "caption", "legend", "hgroup", "li", "tr", "td", "th", "thead", "tbody", "tfoot",
}  # fmt: skip
_XML_DECL_RE = re.compile(rb"^\s*<\?xml[^>]*\?>", re.I)


def _tag(el) -> str:
    t = el.tag
    return t.lower() if isinstance(t, str) else ""


def _is_chrome(el) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE_RE.search(style):
        return True
    role = el.get("role")
    if role and role.lower() in _DROP_ROLES:
        return True
    cls = el.get("class")
    if cls and not _CHROME_TOKENS.isdisjoint(cls.lower().split()):
        return True
    ident = el.get("id")
    if ident and ident.lower() in _CHROME_TOKENS:
        return True
    return False


def _in_content(el) -> bool:
    a = el.getparent()
    while a is not None:
        if _tag(a) in ("main", "article") or a.get("role") == "main":
            return True
        a = a.getparent()
    return False


def _non_heading_parts(header) -> list:
    """Descendants of ``header`` that neither are nor contain a heading."""
    keep = set()
    for h in header.iter(*_HEADINGS):
        a = h
        while a is not None and a is not header:
            keep.add(a)
            a = a.getparent()
    out = []
    stack = [header]
    while stack:
        el = stack.pop()
        for c in el:
            if not _tag(c):
                continue
            if c in keep:
                if _tag(c) not in _HEADINGS:
                    stack.append(c)
            else:
                out.append(c)
    return out


def _clean_tree(root) -> None:
    doomed = []
    for el in root.iter():
        t = _tag(el)
        if not t:
            continue
        if t == "header" and _in_content(el):
            # an article's own header holds its title: keep only its headings
            if _is_chrome(el):
                doomed.append(el)
            else:
                doomed.extend(_non_heading_parts(el))
            continue
        if t in _DROP_TAGS or _is_chrome(el):
            doomed.append(el)
    for el in doomed:
        parent = el.getparent()
        if parent is None:
            continue
        try:
            el.drop_tree()  # keeps the tail text
        except Exception:  # pragma: no cover - already detached with an ancestor
            pass


#: <meta> names and properties that hold a page's publication date, best first
_DATE_METAS = (
    "article:published_time", "date", "dcterms.date", "dc.date", "dcterms.created",
    "dc.date.created", "citation_publication_date", "datepublished",
)  # fmt: skip


def html_date(root) -> str | None:
    """The page's publication date: a date <meta>, else the <time datetime> of the article's
    header (or one marked ``itemprop="datePublished"``). Read before the head is dropped."""
    metas: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").lower()
        if key in _DATE_METAS and key not in metas:
            metas[key] = meta.get("content") or ""
    found = first_date(*(metas.get(key) for key in _DATE_METAS))
    if found is not None:
        return found
    times = root.xpath(
        "//time[@itemprop='datePublished'][@datetime] | //article//header//time[@datetime]"
    )
    return first_date(*(t.get("datetime") for t in times[:1]))


def _text_len(el) -> int:
    return sum(len(s.strip()) for s in el.itertext())


def _main_root(root):
    """<main>/role=main/a single <article> when it holds most of the text."""
    body = root.find("body")
    if body is None:
        body = root
    total = _text_len(body)
    if total == 0:
        return body
    cands = root.xpath("//main | //*[@role='main']")
    if not cands:
        arts = root.xpath("//article")
        if len(arts) == 1:
            cands = arts
    best = max(cands, key=_text_len, default=None)
    if best is not None and _text_len(best) >= 0.25 * total:
        return best
    return body


class _Md:
    def __init__(self) -> None:
        self.b = DocBuilder()
        self.buf: list[str] = []

    # -- inline buffer ---------------------------------------------------------
    def flush(self) -> None:
        if not self.buf:
            return
        text = "".join(self.buf)
        self.buf.clear()
        # only <br> produced newlines; source whitespace was collapsed already
        lines = [" ".join(line.split()) for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self.b.block(text)

    # -- walking ------------------------------------------------------------------
    def walk(self, el, depth: int = 0) -> None:
        if el.text:
            self.buf.append(_ws(el.text))
        for child in el:
            t = _tag(child)
            if not t:
                pass  # comment / processing instruction
            elif t in _HEADINGS:
                self.flush()
                self.b.heading(inline_text(child), _HEADINGS[t])
            elif t in ("ul", "ol"):
                self.flush()
                lines: list[str] = []
                _list_lines(child, 0, lines)
                if lines:
                    self.b.block("\n".join(lines))
            elif t == "table":
                self.flush()
                self.table(child, depth)
            elif t == "pre":
                self.flush()
                code = "".join(child.itertext()).strip("\n").replace("\r\n", "\n")
                if code.strip():
                    fence = "~~~~" if "```" in code else "```"
                    self.b.block(f"{fence}{_code_language(child)}\n{code}\n{fence}")
            elif t == "br":
                self.buf.append("\n")
            elif t in _BLOCK:
                self.flush()
                self.walk(child, depth + 1)
                self.flush()
            else:
                self.walk(child, depth + 1)
            if child.tail:
                self.buf.append(_ws(child.tail))

    def table(self, tbl, depth: int) -> None:
        rows = []
        for tr in _rows(tbl):
            cells = [c for c in tr if _tag(c) in ("td", "th")]
            rows.append(cells)
        rows = [r for r in rows if r]
        if not rows:
            return
        # layout tables (one column, nested tables or long prose cells): walk as blocks
        ncols = max(sum(_span(c) for c in r) for r in rows)
        layout = ncols <= 1 or any(
            c.find(".//table") is not None or len(flat_text(c).split()) > 120
            for r in rows
            for c in r
        )
        if layout:
            for r in rows:
                for c in r:
                    self.walk(c, depth + 1)
                    self.flush()
            return
        grid = []
        for r in rows:
            line: list[str] = []
            for c in r:
                line.append(_cell(c))
                line.extend("" for _ in range(_span(c) - 1))
            grid.append(line + [""] * (ncols - len(line)))
        keep = [j for j in range(ncols) if any(row[j] for row in grid)]
        grid = [[row[j] for j in keep] for row in grid]
        grid = [row for row in grid if any(row)]
        if not grid:
            return
        if len(keep) == 1:
            for row in grid:
                self.b.block(row[0])
            return
        lines = ["| " + " | ".join(grid[0]) + " |", "|" + "---|" * len(keep)]
        lines.extend("| " + " | ".join(row) + " |" for row in grid[1:])
        self.b.block("\n".join(lines))


def _span(cell) -> int:
    try:
        return min(max(int(cell.get("colspan", "1")), 1), 50)
    except ValueError:
        return 1


def _rows(tbl):
    for c in tbl:
        t = _tag(c)
        if t == "tr":
            yield c
        elif t in ("thead", "tbody", "tfoot"):
            for r in c:
                if _tag(r) == "tr":
                    yield r


def _cell(c) -> str:
    return flat_text(c).replace("\\", "\\\\").replace("|", "\\|")


_WS_RE = re.compile(r"\s+")


def _ws(s: str) -> str:
    return _WS_RE.sub(" ", s)


def _flat(el, out: list[str]) -> None:
    if el.text:
        out.append(el.text)
    for c in el:
        t = _tag(c)
        block = t in _BLOCK or t in _HEADINGS or t in ("br", "ul", "ol", "table", "pre")
        if block:
            out.append(" ")
        if t:
            _flat(c, out)
        if block:
            out.append(" ")
        if c.tail:
            out.append(c.tail)


def flat_text(el) -> str:
    """Text of ``el`` on one line: inline markup glued, block boundaries spaced."""
    out: list[str] = []
    _flat(el, out)
    return one_line("".join(out))


inline_text = flat_text


def _list_lines(lst, level: int, out: list[str]) -> None:
    ordered = _tag(lst) == "ol"
    marker = "1. " if ordered else "- "
    for li in lst:
        if _tag(li) != "li":
            if _tag(li) in ("ul", "ol") and level < 10:
                _list_lines(li, level + 1, out)
            continue
        parts: list[str] = []
        nested = []
        if li.text:
            parts.append(li.text)
        for c in li:
            if _tag(c) in ("ul", "ol"):
                nested.append(c)
            else:
                parts.append(
                    " " + flat_text(c) + " "
                    if _tag(c) in _BLOCK
                    else flat_text(c)
                    if _tag(c)
                    else ""
                )
            if c.tail:
                parts.append(c.tail)
        text = one_line("".join(parts))
        if text:
            out.append("  " * level + marker + text)
        for n in nested:
            if level < 10:
                _list_lines(n, level + 1, out)


def html_to_markdown(data: bytes, encoding: str | None) -> Extraction:
    import lxml.html
    from lxml import etree

    text = decode_bytes(data, encoding)
    # re-encode as UTF-8 and tell the parser so: the declared <meta charset>
    # no longer matters (we already decoded with the right one).
    blob = _XML_DECL_RE.sub(b"", text.encode("utf-8", "replace"), count=1)
    parser = lxml.html.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        default_doctype=False,
    )
    try:
        root = lxml.html.document_fromstring(blob, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        raise ExtractionError(
            "This HTML page could not be read (it contains no parsable content)."
        ) from None
    date = html_date(root)
    _clean_tree(root)
    md = _Md()
    md.walk(_main_root(root))
    md.flush()
    if md.b.empty:
        raise ExtractionError("This HTML page contains no readable text.", NO_TEXT)
    return md.b.finish(page_count=None, date=date)


def extract_html(path: Path, encoding: str | None = None) -> Extraction:
    data = Path(path).read_bytes()
    if not data:
        raise ExtractionError("This file is empty.")
    return html_to_markdown(data, encoding)


def _code_language(pre) -> str:
    """The language a <pre> (or its <code>) declares: class="language-python", "lang-js"."""
    for el in (pre, *pre.iter("code")):
        m = re.search(r"\b(?:language|lang)-([\w+#-]+)", el.get("class") or "")
        if m:
            return m.group(1).lower()
    return ""
