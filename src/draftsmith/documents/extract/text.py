"""Markdown (kept as is, sections at headings) and plain text."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from draftsmith.text.words import word_count

from ._base import NO_TEXT, Extraction, ExtractionError, HeadingPath, Section, drop_title
from .dates import first_date

_CTRL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]+")


def decode_bytes(data: bytes, encoding: str | None) -> str:
    """Decode with the encoding upload stored (``sniff.detect_type``; its BOM names
    ``utf-8-sig``/``utf-16``/``utf-32`` drop the BOM); detect it only when absent.
    Never raises on bad bytes."""
    if not encoding:
        encoding = _detect_encoding(data)
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff")


def _detect_encoding(data: bytes) -> str:
    """What upload would have stored: the one detector, in ``sniff``."""
    from ..sniff import SAMPLE_BYTES, SniffError, _decode_sample

    try:
        return _decode_sample(data[:SAMPLE_BYTES])[1] or "utf-8"
    except SniffError:
        return "utf-8"


def normalise_text(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x0c" in text:
        text = text.replace("\x0c", "\n\n")
    return _CTRL_RE.sub("", text)


# --- Markdown -----------------------------------------------------------------------


def _span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim whitespace from both ends of text[start:end]."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


_MD = MarkdownIt("commonmark")


def markdown_sections(md: str) -> list[Section]:
    """Sections start at the document's top-level headings (ATX or setext), as
    markdown-it parses them: never inside code, quotes or lists."""
    line_starts = [0, *(m.end() for m in re.finditer("\n", md))]
    cuts: list[tuple[int, str | None, str | None]] = [(0, None, None)]
    paths = HeadingPath()
    tokens = _MD.parse(md)
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open" or tok.level != 0 or tok.map is None:
            continue
        at = line_starts[tok.map[0]]
        title = " ".join(tokens[i + 1].content.split())[:300] or None
        path = paths.enter(title, int(tok.tag[1:])) if title else None
        if cuts[-1][0] == at:
            cuts[-1] = (at, title, path)
        else:
            cuts.append((at, title, path))
    sections: list[Section] = []
    for i, (at, heading, path) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(md)
        sp = _span(md, at, end)
        if sp is not None:
            sections.append(Section(heading, None, md[sp[0] : sp[1]], sp[0], sp[1], path))
    return drop_title(sections)


# YAML front matter: "---" on the first line, closed by "---" (or "...") within a few KB
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.{0,4000}?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_DATE_RE = re.compile(
    r"^(?:date|published|pubdate)[ \t]*:[ \t]*[\"']?([^\"'\n]+)", re.M | re.I
)


def front_matter_date(md: str) -> str | None:
    """The ``date:`` line of a Markdown file's YAML front matter, as ISO text."""
    fm = _FRONT_MATTER_RE.match(md)
    if fm is None:
        return None
    return first_date(*(m.group(1) for m in _FRONT_DATE_RE.finditer(fm.group(1))))


def extract_markdown(path: Path, encoding: str | None = None) -> Extraction:
    data = Path(path).read_bytes()
    if not data:
        raise ExtractionError("This file is empty.")
    md = normalise_text(decode_bytes(data, encoding))
    if not md.strip():
        raise ExtractionError("This file contains no text.", NO_TEXT)
    return Extraction(
        md, markdown_sections(md), None, word_count(md), [], date=front_matter_date(md)
    )


# --- plain text ------------------------------------------------------------------------

_BLANK_RE = re.compile(r"\n[ \t]*\n\s*")
SECTION_WORDS = 2000


def text_sections(text: str, max_words: int = SECTION_WORDS) -> list[Section]:
    """Blank-line separated blocks, grouped into sections of about ``max_words``."""
    blocks: list[tuple[int, int]] = []
    pos = 0
    for m in _BLANK_RE.finditer(text):
        sp = _span(text, pos, m.start())
        if sp:
            blocks.append(sp)
        pos = m.end()
    sp = _span(text, pos, len(text))
    if sp:
        blocks.append(sp)
    sections: list[Section] = []
    cur_start = cur_end = None
    words = 0
    for s, e in blocks:
        w = word_count(text[s:e])
        if cur_start is not None and words + w > max_words:
            sections.append(Section(None, None, text[cur_start:cur_end], cur_start, cur_end))
            cur_start, words = None, 0
        if cur_start is None:
            cur_start = s
        cur_end = e
        words += w
    if cur_start is not None:
        sections.append(Section(None, None, text[cur_start:cur_end], cur_start, cur_end))
    return sections


def extract_plain(path: Path, encoding: str | None = None) -> Extraction:
    data = Path(path).read_bytes()
    if not data:
        raise ExtractionError("This file is empty.")
    text = normalise_text(decode_bytes(data, encoding))
    if not text.strip():
        raise ExtractionError("This file contains no text.", NO_TEXT)
    return Extraction(text, text_sections(text), None, word_count(text), [])
