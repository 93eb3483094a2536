"""DOCX extraction.

python-docx opens the package (and gives us the XML trees of the document,
styles, numbering, header/footer and note parts); the body is then walked in
document order directly on the XML, because python-docx's own iterators skip
content controls (``w:sdt``) and its table layout raises on some real files
("no tc element at grid_offset").  Tables are laid out from the raw
``w:tr``/``w:tc`` structure, which never raises, so one odd table can never
lose the rest of the document.
"""

from __future__ import annotations

import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ._base import NO_TEXT, DocBuilder, Extraction, ExtractionError, one_line
from .dates import first_date

log = logging.getLogger(__name__)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"


def _w(name: str) -> str:
    return _W + name


W_P, W_TBL, W_SDT, W_SDTCONTENT, W_CUSTOMXML = map(
    _w, ("p", "tbl", "sdt", "sdtContent", "customXml")
)
W_R, W_T, W_TAB, W_PTAB, W_BR, W_CR = map(_w, ("r", "t", "tab", "ptab", "br", "cr"))
W_NBH, W_HYPERLINK, W_SMARTTAG, W_INS, W_MOVETO, W_FLDSIMPLE = map(
    _w, ("noBreakHyphen", "hyperlink", "smartTag", "ins", "moveTo", "fldSimple")
)
W_DIR, W_BDO, W_DRAWING, W_PICT, W_OBJECT, W_TXBX = map(
    _w, ("dir", "bdo", "drawing", "pict", "object", "txbxContent")
)
W_PPR, W_PSTYLE, W_OUTLINELVL, W_NUMPR, W_ILVL, W_NUMID, W_VAL = map(
    _w, ("pPr", "pStyle", "outlineLvl", "numPr", "ilvl", "numId", "val")
)
W_TR, W_TC, W_TCPR, W_GRIDSPAN, W_VMERGE, W_TRPR, W_GRIDBEFORE, W_GRIDAFTER = map(
    _w, ("tr", "tc", "tcPr", "gridSpan", "vMerge", "trPr", "gridBefore", "gridAfter")
)
W_STYLE, W_NAME, W_BASEDON, W_STYLEID, W_TYPE = map(
    _w, ("style", "name", "basedOn", "styleId", "type")
)
W_NUM, W_ABSTRACTNUM, W_ABSTRACTNUMID, W_LVL, W_NUMFMT = map(
    _w, ("num", "abstractNum", "abstractNumId", "lvl", "numFmt")
)
W_BODY, W_FOOTNOTE, W_ENDNOTE = map(_w, ("body", "footnote", "endnote"))
MC_ALT, MC_CHOICE, MC_FALLBACK = _MC + "AlternateContent", _MC + "Choice", _MC + "Fallback"
M_OMATH, M_OMATHPARA, M_T = _M + "oMath", _M + "oMathPara", _M + "t"

_INLINE_CONTAINERS = {
    W_HYPERLINK,
    W_SMARTTAG,
    W_INS,
    W_MOVETO,
    W_FLDSIMPLE,
    W_CUSTOMXML,
    W_DIR,
    W_BDO,
}
_BLOCK_CONTAINERS = {W_CUSTOMXML, W_INS, W_MOVETO}

_HEADING_NAME_RE = re.compile(r"^heading\s*(\d)$")
#: paragraph styles of code ("Code", "HTML Preformatted", "Source Code", "Macro Text")
_CODE_STYLE_RE = re.compile(r"\b(?:code|source|preformatted|macro|console|verbatim|listing)\b")
_MONOSPACE_RE = re.compile(r"courier|consolas|menlo|monaco|mono|lucida console|fixedsys", re.I)
W_RPR, W_RFONTS, W_ASCII = map(_w, ("rPr", "rFonts", "ascii"))
_MAX_DEPTH = 60  # nested tables/sdt deeper than this are flattened to text


@dataclass(slots=True)
class _Style:
    name: str
    based_on: str | None
    outline: int | None  # 0-based outline level from the style's pPr
    num: tuple[str, int] | None  # (numId, ilvl) from the style's pPr


def _val(el, default=None):
    if el is None:
        return default
    return el.get(W_VAL, default)


def _int(s, default=None):
    try:
        return int(s)
    except (TypeError, ValueError):
        return default


def _num_pr(ppr) -> tuple[str, int] | None:
    if ppr is None:
        return None
    numpr = ppr.find(W_NUMPR)
    if numpr is None:
        return None
    num_id = _val(numpr.find(W_NUMID))
    ilvl = _int(_val(numpr.find(W_ILVL)), 0) or 0
    if num_id is None:
        return None
    return (num_id, ilvl)


class _Styles:
    def __init__(self, styles_el, numbering_el):
        self.styles: dict[str, _Style] = {}
        if styles_el is not None:
            for st in styles_el.iter(W_STYLE):
                sid = st.get(W_STYLEID)
                if not sid:
                    continue
                ppr = st.find(W_PPR)
                self.styles[sid] = _Style(
                    name=(_val(st.find(W_NAME), "") or "").strip().lower(),
                    based_on=_val(st.find(W_BASEDON)),
                    outline=_int(_val(ppr.find(W_OUTLINELVL))) if ppr is not None else None,
                    num=_num_pr(ppr),
                )
        # numbering: numId -> {ilvl: numFmt}
        self.formats: dict[str, dict[int, str]] = {}
        if numbering_el is not None:
            abstract: dict[str, dict[int, str]] = {}
            for an in numbering_el.iter(W_ABSTRACTNUM):
                lv: dict[int, str] = {}
                for lvl in an.iter(W_LVL):
                    lv[_int(lvl.get(W_ILVL), 0) or 0] = (
                        _val(lvl.find(W_NUMFMT), "decimal") or "decimal"
                    )
                abstract[an.get(W_ABSTRACTNUMID, "")] = lv
            for num in numbering_el.iter(W_NUM):
                aid = _val(num.find(W_ABSTRACTNUMID))
                self.formats[num.get(W_NUMID, "")] = abstract.get(aid or "", {})
        self._heading_cache: dict[str, int | None] = {}

    def _chain(self, sid: str | None):
        seen = set()
        while sid and sid not in seen and len(seen) < 12:
            seen.add(sid)
            st = self.styles.get(sid)
            if st is None:
                return
            yield st
            sid = st.based_on

    def heading_level(self, sid: str | None) -> int | None:
        if not sid:
            return None
        if sid in self._heading_cache:
            return self._heading_cache[sid]
        level = None
        for st in self._chain(sid):
            if st.name == "title":
                level = 1
                break
            m = _HEADING_NAME_RE.match(st.name)
            if m:
                level = max(1, int(m.group(1)))
                break
            if st.outline is not None and 0 <= st.outline < 9:
                level = st.outline + 1
                break
        self._heading_cache[sid] = level
        return level

    def is_code(self, sid: str | None) -> bool:
        return any(_CODE_STYLE_RE.search(st.name) for st in self._chain(sid))

    def style_num(self, sid: str | None) -> tuple[str, int] | None:
        for st in self._chain(sid):
            if st.num is not None:
                return st.num
        return None

    def list_kind(self, num: tuple[str, int]) -> str | None:
        """'ul', 'ol' or None (no visible numbering)."""
        num_id, ilvl = num
        if num_id in ("0", ""):
            return None
        fmts = self.formats.get(num_id)
        if fmts is None:
            return "ul"
        fmt = fmts.get(ilvl, fmts.get(0, "bullet"))
        if fmt == "none":
            return None
        return "ul" if fmt == "bullet" else "ol"


def _first_choice(alt):
    for c in alt:
        if c.tag == MC_CHOICE:
            return c
    for c in alt:
        if c.tag == MC_FALLBACK:
            return c
    return None


def _top_textboxes(el):
    """w:txbxContent elements under ``el`` (not under mc:Fallback, not nested in another)."""
    out = []
    for tb in el.iter(W_TXBX):
        a = tb.getparent()
        nested = False
        while a is not None and a is not el:
            if a.tag in (W_TXBX, MC_FALLBACK):
                nested = True
                break
            a = a.getparent()
        if not nested:
            out.append(tb)
    return out


class _Walker:
    """Turns WordprocessingML block content into a flat list of blocks.

    Blocks: ("h", level, text) | ("p", text) | ("li", kind, ilvl, text) | ("table", rows)
    """

    def __init__(self, styles: _Styles):
        self.st = styles

    # -- inline ------------------------------------------------------------
    def _inline(self, el, out: list[str], boxes: list, depth: int) -> None:
        for c in el:
            t = c.tag
            if t == W_R:
                self._run(c, out, boxes, depth)
            elif t in _INLINE_CONTAINERS:
                self._inline(c, out, boxes, depth)
            elif t == W_SDT:
                content = c.find(W_SDTCONTENT)
                if content is not None:
                    self._inline(content, out, boxes, depth)
            elif t == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self._inline(ch, out, boxes, depth)
            elif t == M_OMATHPARA or t == M_OMATH:
                out.append(" " + "".join(x.text or "" for x in c.iter(M_T)) + " ")
            # w:del, w:moveFrom, w:pPr, bookmarks, comments... carry no visible text

    def _run(self, r, out: list[str], boxes: list, depth: int) -> None:
        for c in r:
            t = c.tag
            if t == W_T:
                if c.text:
                    out.append(c.text)
            elif t == W_TAB or t == W_PTAB:
                out.append(" ")
            elif t == W_BR or t == W_CR:
                out.append("\n")
            elif t == W_NBH:
                out.append("-")
            elif t in (W_DRAWING, W_PICT, W_OBJECT):
                boxes.extend(_top_textboxes(c))
            elif t == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self._run(ch, out, boxes, depth)
            elif t in _INLINE_CONTAINERS or t == W_R:
                self._run(c, out, boxes, depth)

    def paragraph_text(self, p, boxes: list, depth: int = 0) -> str:
        out: list[str] = []
        self._inline(p, out, boxes, depth)
        text = "".join(out)
        # tidy: spaces inside lines, keep explicit line breaks
        lines = [" ".join(line.split()) for line in text.split("\n")]
        return "\n".join(line for line in lines if line)

    def code_text(self, p) -> str:
        """A code paragraph's text as typed (indentation kept)."""
        out: list[str] = []
        self._inline(p, out, [], 0)
        return "".join(out).rstrip()

    # -- blocks ----------------------------------------------------------------
    def blocks(self, parent, depth: int = 0) -> list[tuple]:
        out: list[tuple] = []
        self._blocks(parent, out, depth)
        return out

    def _blocks(self, parent, out: list[tuple], depth: int) -> None:
        for c in parent:
            t = c.tag
            if t == W_P:
                self._paragraph(c, out, depth)
            elif t == W_TBL:
                if depth >= _MAX_DEPTH:
                    out.append(("p", one_line(" ".join(c.itertext()))))
                else:
                    out.append(("table", self._table(c, depth + 1)))
            elif t == W_SDT:
                content = c.find(W_SDTCONTENT)
                if content is not None:
                    self._blocks(content, out, depth + 1)
            elif t in _BLOCK_CONTAINERS:
                self._blocks(c, out, depth + 1)
            elif t == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self._blocks(ch, out, depth + 1)

    def _paragraph(self, p, out: list[tuple], depth: int) -> None:
        boxes: list = []
        text = self.paragraph_text(p, boxes, depth)
        ppr = p.find(W_PPR)
        sid = _val(ppr.find(W_PSTYLE)) if ppr is not None else None
        if text:
            level = self.st.heading_level(sid)
            if level is None and ppr is not None:
                ol = _int(_val(ppr.find(W_OUTLINELVL)))
                if ol is not None and 0 <= ol < 9:
                    level = ol + 1
            num = _num_pr(ppr) or self.st.style_num(sid)
            kind = self.st.list_kind(num) if num is not None else None
            if level is None and (self.st.is_code(sid) or _monospace(p)):
                out.append(("code", self.code_text(p)))
            elif level is not None and len(text) <= 300:
                out.append(("h", level, text))
            elif kind is not None:
                out.append(("li", kind, min(num[1], 8), text))
            else:
                out.append(("p", text))
        if boxes and depth < _MAX_DEPTH:
            for tb in boxes:
                self._blocks(tb, out, depth + 1)

    # -- tables -------------------------------------------------------------------
    def _children(self, parent, tag):
        """Children of ``parent`` with ``tag``, also those wrapped in content controls."""
        for c in parent:
            if c.tag == tag:
                yield c
            elif c.tag in (W_SDT, W_CUSTOMXML):
                inner = c.find(W_SDTCONTENT) if c.tag == W_SDT else c
                if inner is not None:
                    yield from self._children(inner, tag)

    def _table(self, tbl, depth: int) -> list[list[list[tuple]]]:
        """rows -> cells -> blocks; merged (spanned) grid positions hold []."""
        rows: list[list[list[tuple]]] = []
        for tr in self._children(tbl, W_TR):
            row: list[list[tuple]] = []
            trpr = tr.find(W_TRPR)
            if trpr is not None:
                row.extend([] for _ in range(min(_int(_val(trpr.find(W_GRIDBEFORE)), 0) or 0, 64)))
            for tc in self._children(tr, W_TC):
                tcpr = tc.find(W_TCPR)
                span = 1
                cont = False
                if tcpr is not None:
                    span = min(max(_int(_val(tcpr.find(W_GRIDSPAN)), 1) or 1, 1), 64)
                    vm = tcpr.find(W_VMERGE)
                    cont = vm is not None and _val(vm, "continue") == "continue"
                row.append([] if cont else self.blocks(tc, depth))
                row.extend([] for _ in range(span - 1))
            rows.append(row)
        return rows


# --- rendering -------------------------------------------------------------------------


def _monospace(p) -> bool:
    """Every run with text is set in a monospace font (code typed in a plain style)."""
    fonts = []
    for r in p.iter(W_R):
        if not "".join(t.text or "" for t in r.iter(W_T)).strip():
            continue
        rpr = r.find(W_RPR)
        f = rpr.find(W_RFONTS) if rpr is not None else None
        fonts.append(f.get(W_ASCII, "") if f is not None else "")
    return bool(fonts) and all(_MONOSPACE_RE.search(f) for f in fonts)


def _blocks_text(blocks: list[tuple]) -> str:
    parts: list[str] = []
    for b in blocks:
        if b[0] == "table":
            for row in b[1]:
                cells = [_blocks_text(c) for c in row]
                line = " / ".join(c for c in cells if c)
                if line:
                    parts.append(line)
        else:
            parts.append(b[-1])
    return " ".join(" ".join(parts).split())


def _cell_md(blocks: list[tuple]) -> str:
    return _blocks_text(blocks).replace("\\", "\\\\").replace("|", "\\|")


def _render(blocks: list[tuple], b: DocBuilder) -> None:
    pending_list: list[str] = []
    pending_code: list[str] = []

    def flush_list():
        if pending_list:
            b.block("\n".join(pending_list))
            pending_list.clear()
        if pending_code:  # consecutive code paragraphs: one fenced block
            fence = "~~~~" if any("```" in ln for ln in pending_code) else "```"
            b.block("\n".join([fence, *pending_code, fence]))
            pending_code.clear()

    for blk in blocks:
        kind = blk[0]
        if kind == "code":
            if pending_list:
                b.block("\n".join(pending_list))
                pending_list.clear()
            pending_code.append(blk[1])
            continue
        if kind == "li":
            if pending_code:
                flush_list()
            _, lk, ilvl, text = blk
            pending_list.append(
                "  " * ilvl + ("1. " if lk == "ol" else "- ") + " ".join(text.split())
            )
            continue
        flush_list()
        if kind == "h":
            b.heading(blk[2], blk[1])
        elif kind == "p":
            b.block(blk[1])
        elif kind == "table":
            _render_table(blk[1], b)
    flush_list()


def _render_table(rows: list[list[list[tuple]]], b: DocBuilder) -> None:
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        return
    ncols = max(len(r) for r in rows)
    # A one-column table is layout, not data: render its content as blocks.
    if ncols == 1:
        for r in rows:
            _render(r[0], b)
        return
    cells = [[_cell_md(c) for c in r] + [""] * (ncols - len(r)) for r in rows]
    # drop columns that are empty everywhere (spans, layout padding)
    keep = [j for j in range(ncols) if any(row[j] for row in cells)]
    if not keep:
        return
    if len(keep) == 1:
        for row in cells:
            if row[keep[0]]:
                b.block(row[keep[0]])
        return
    cells = [[row[j] for j in keep] for row in cells]
    cells = [row for row in cells if any(row)]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(keep)]
    lines.extend("| " + " | ".join(row) + " |" for row in cells[1:])
    b.block("\n".join(lines))


# --- opening the package -----------------------------------------------------------


def _safe_parser():
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )


_RT_HEADER = "/header"
_RT_FOOTER = "/footer"
_RT_FOOTNOTES = "/footnotes"
_RT_ENDNOTES = "/endnotes"


def _natural_key(s: str):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", s)]


def _open_with_python_docx(path: Path):
    """-> (document root, styles root|None, numbering root|None, [(reltype, partname, root)])"""
    import docx

    doc = docx.Document(str(path))
    part = doc.part
    styles = numbering = None
    extras = []
    for rel in part.rels.values():
        if rel.is_external:
            continue
        rt = rel.reltype
        try:
            target = rel.target_part
        except Exception:  # pragma: no cover - broken relationship
            continue
        el = getattr(target, "element", None)
        if el is None:
            # parts python-docx does not model (footnotes in some versions) come as blobs
            if rt.endswith((_RT_FOOTNOTES, _RT_ENDNOTES)):
                try:
                    from lxml import etree

                    el = etree.fromstring(target.blob, _safe_parser())
                except Exception:
                    continue
            else:
                continue
        if rt.endswith("/styles"):
            styles = el
        elif rt.endswith("/numbering"):
            numbering = el
        elif rt.endswith((_RT_HEADER, _RT_FOOTER, _RT_FOOTNOTES, _RT_ENDNOTES)):
            extras.append((rt, str(target.partname), el))
    return doc.element, styles, numbering, extras


def _open_raw(path: Path):
    """Fallback when python-docx refuses the package (e.g. odd content types)."""
    from lxml import etree

    parser = _safe_parser()
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())

        def load(name):
            if name in names:
                try:
                    return etree.fromstring(z.read(name), parser)
                except etree.XMLSyntaxError:
                    return None
            return None

        root = load("word/document.xml")
        if root is None:
            raise ExtractionError("This Word document is damaged: its main text could not be read.")
        extras = []
        for name in sorted(names, key=_natural_key):
            m = re.fullmatch(r"word/(header|footer|footnotes|endnotes)\d*\.xml", name)
            if m:
                el = load(name)
                if el is not None:
                    extras.append(("/" + m.group(1), "/" + name, el))
        return root, load("word/styles.xml"), load("word/numbering.xml"), extras


_DCTERMS = "{http://purl.org/dc/terms/}"
#: where Word, LibreOffice and python-docx keep the core properties
_CORE_PART = "docProps/core.xml"
_CORE_MAX_BYTES = 1 << 20
#: the timestamp of python-docx's own template, kept by every file it writes unless the
#: program sets its own: the date of the template, not of the document
_TEMPLATE_STAMP = "2013-12-23T23:15:00Z"


def docx_date(path: Path) -> str | None:
    """The core properties' ``dcterms:created`` (else ``modified``) as ISO text; read from
    the archive directly, so that it works whichever way the body was opened."""
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as z:
            if z.getinfo(_CORE_PART).file_size > _CORE_MAX_BYTES:
                return None
            root = etree.fromstring(z.read(_CORE_PART), _safe_parser())
    except (KeyError, OSError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return None
    stamps = [(root.findtext(_DCTERMS + tag) or "").strip() for tag in ("created", "modified")]
    return first_date(*(s for s in stamps if s != _TEMPLATE_STAMP))


def _notes(root, tag) -> list:
    out = []
    for note in root.iter(tag):
        if note.get(_w("type")) in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        out.append(note)
    return out


def _open_docx(path: Path):
    """The document's XML parts by python-docx, else read directly from the archive."""
    try:
        return _open_with_python_docx(path)
    except (zipfile.BadZipFile, MemoryError, RecursionError):
        raise
    except Exception as exc:
        log.info("python-docx could not open %s (%s); reading the XML directly", path, exc)
        return _open_raw(path)


def extract_docx(path: Path) -> Extraction:
    path = Path(path)
    if path.stat().st_size == 0:
        raise ExtractionError("This file is empty.")
    warnings: list[str] = []
    try:
        root, styles_el, numbering_el, extras = _open_docx(path)
    except (ExtractionError, MemoryError, RecursionError):
        raise
    except zipfile.BadZipFile:
        raise ExtractionError(
            "This Word document is damaged (it is not a valid DOCX archive)."
        ) from None
    except Exception:
        raise ExtractionError("This Word document is damaged and could not be read.") from None

    walker = _Walker(_Styles(styles_el, numbering_el))
    body = root.find(W_BODY)
    if body is None:
        body = root
    b = DocBuilder()
    _render(walker.blocks(body), b)

    # Headers/footers and notes: appended once (each distinct paragraph once).
    notes_blocks: list[tuple] = []
    hf_blocks: list[tuple] = []
    seen: set[str] = set()
    for rt, _name, el in sorted(extras, key=lambda e: _natural_key(e[1])):
        if rt.endswith((_RT_FOOTNOTES, _RT_ENDNOTES)):
            tag = W_FOOTNOTE if rt.endswith(_RT_FOOTNOTES) else W_ENDNOTE
            for note in _notes(el, tag):
                for blk in walker.blocks(note):
                    notes_blocks.append(blk)
        else:
            for blk in walker.blocks(el):
                key = _blocks_text([blk])
                # skip page-number-only lines and repeats
                if not key or key in seen or not re.search(r"[^\W\d_]", key):
                    continue
                seen.add(key)
                hf_blocks.append(blk)
    if notes_blocks:
        b.new_section("Notes")
        _render(notes_blocks, b)
    if hf_blocks:
        b.new_section("Headers and footers")
        _render(hf_blocks, b)

    if b.empty:
        raise ExtractionError("This Word document contains no text.", NO_TEXT)
    return b.finish(page_count=None, warnings=warnings, date=docx_date(path))
