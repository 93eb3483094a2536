"""Markdown (kept as is, sections at headings) and plain text."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from ._base import Extraction, ExtractionError, Section, count_words

_CTRL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]+")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _guess_encoding(data: bytes) -> str:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    try:
        data[:65536].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= 65536 - 4:  # cut inside a multi-byte sequence
            return "utf-8"
    from ..sniff import _detect_charset

    enc, _ = _detect_charset(data[:65536])
    return enc or "utf-8"


def decode_bytes(data: bytes, encoding: str | None) -> str:
    """Decode with the sniffed encoding (BOM wins); never raises on bad bytes."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            data = data[len(bom) :]
            encoding = enc
            break
    if not encoding:
        encoding = _guess_encoding(data)
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    text = data.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def normalise_text(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x0c" in text:
        text = text.replace("\x0c", "\n\n")
    return _CTRL_RE.sub("", text)


# --- Markdown -----------------------------------------------------------------------

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_OR_QUOTE_RE = re.compile(r"^ {0,3}([-*+>]|\d+[.)])(\s|$)")


def _span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim whitespace from both ends of text[start:end]."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def markdown_sections(md: str) -> list[Section]:
    """Sections start at ATX/setext headings outside fenced code blocks."""
    cuts: list[tuple[int, str | None]] = [(0, None)]

    def cut(at: int, title: str | None) -> None:
        if cuts[-1][0] == at:
            cuts[-1] = (at, title)
        else:
            cuts.append((at, title))

    pos = 0
    fence: str | None = None
    para_start: int | None = None  # start of the current paragraph (setext candidate)
    para_lines: list[str] = []
    for line in md.split("\n"):
        start = pos
        pos += len(line) + 1
        if fence is not None:
            m = _FENCE_RE.match(line)
            if (
                m
                and m.group(1)[0] == fence[0]
                and len(m.group(1)) >= len(fence)
                and not line.strip().strip(fence[0])
            ):
                fence = None
            continue
        m = _FENCE_RE.match(line)
        if m:
            fence = m.group(1)
            para_start = None
            continue
        m = _ATX_RE.match(line)
        if m:
            cut(start, (m.group(2) or "").strip() or None)
            para_start = None
            continue
        if para_start is not None and _SETEXT_RE.match(line):
            cut(para_start, " ".join(para_lines)[:300] or None)
            para_start = None
            continue
        stripped = line.strip()
        if not stripped:
            para_start = None
        elif para_start is None:
            if (
                not _LIST_OR_QUOTE_RE.match(line)
                and not stripped.startswith("|")
                and not line.startswith("    ")
            ):
                para_start, para_lines = start, [stripped]
        else:
            para_lines.append(stripped)
    sections: list[Section] = []
    for i, (at, heading) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(md)
        sp = _span(md, at, end)
        if sp is None:
            continue
        sections.append(Section(heading, None, md[sp[0] : sp[1]], sp[0], sp[1]))
    return sections


def extract_markdown(path: Path, encoding: str | None = None) -> Extraction:
    data = Path(path).read_bytes()
    if not data:
        raise ExtractionError("This file is empty.")
    md = normalise_text(decode_bytes(data, encoding))
    if not md.strip():
        raise ExtractionError("This file contains no text.")
    return Extraction(md, markdown_sections(md), None, count_words(md), [])


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
        w = count_words(text[s:e])
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
        raise ExtractionError("This file contains no text.")
    return Extraction(text, text_sections(text), None, count_words(text), [])
