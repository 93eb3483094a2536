"""Decide what an uploaded file is from its content (never its name or declared type).

Only bounded prefixes are read (plus a ZIP's central directory), so a huge
file costs no more than a small one.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DetectedType",
    "SniffError",
    "UnsupportedType",
    "EmptyFile",
    "detect_type",
    "CONTENT_TYPES",
]

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "markdown": "text/markdown",
    "text": "text/plain",
}

SAMPLE_BYTES = 64 * 1024
PDF_SIGNATURE_WINDOW = 1024

# ZIP (DOCX) limits, checked on the central directory before anything is inflated.
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100
# The ratio is only meaningful for archives that would inflate to something
# sizeable; small XML-heavy documents legitimately compress very well.
ZIP_RATIO_FLOOR = 16 * 1024 * 1024
ZIP_MAX_ENTRY_UNCOMPRESSED = 100 * 1024 * 1024

_SUPPORTED = "Supported formats are PDF, Word (.docx), HTML, Markdown and plain text."


class SniffError(ValueError):
    """Base class; ``str(exc)`` is a sentence a user understands."""


class UnsupportedType(SniffError):
    pass


class EmptyFile(SniffError):
    def __init__(self, message: str = "The file is empty."):
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class DetectedType:
    kind: str  # pdf | docx | html | markdown | text
    content_type: str
    encoding: str | None = None  # for html / markdown / text


# --- binary signatures we recognise only to give a helpful refusal -----------------

# (signature, message[, only_if_binary]): short signatures that could start
# ordinary text ("MZ...", "ID3...") only count when the prefix holds NUL bytes.
_BINARY_SIGNATURES: tuple[tuple, ...] = (
    (b"\x7fELF", "This is an executable program, not a document."),
    (b"MZ", "This is a Windows executable program, not a document.", True),
    (b"\xca\xfe\xba\xbe", "This is a compiled program, not a document."),
    (b"\xcf\xfa\xed\xfe", "This is an executable program, not a document."),
    (b"\xce\xfa\xed\xfe", "This is an executable program, not a document."),
    (b"\x00asm", "This is a compiled program, not a document."),
    (b"\x89PNG\r\n\x1a\n",
     "This is an image (PNG), not a document. Upload the document itself, or a PDF with text."),
    (b"\xff\xd8\xff",
     "This is an image (JPEG), not a document. Upload the document itself, or a PDF with text."),
    (b"GIF87a", "This is an image (GIF), not a document."),
    (b"GIF89a", "This is an image (GIF), not a document."),
    (b"II*\x00", "This is an image (TIFF), not a document."),
    (b"MM\x00*", "This is an image (TIFF), not a document."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "This is an old-style Office file (.doc/.xls/.ppt) or a password-protected Office document. "
     "Save it as .docx (without a password) or PDF and upload it again."),
    (b"{\\rtf", "RTF files are not supported. Save it as .docx or PDF and upload it again."),
    (b"\x1f\x8b", "This is a compressed archive (gzip), not a document."),
    (b"7z\xbc\xaf\x27\x1c", "This is a compressed archive (7-Zip), not a document."),
    (b"Rar!\x1a\x07", "This is a compressed archive (RAR), not a document."),
    (b"BZh", "This is a compressed archive (bzip2), not a document.", True),
    (b"\xfd7zXZ\x00", "This is a compressed archive (xz), not a document."),
    (b"SQLite format 3\x00", "This is a database file, not a document."),
    (b"OggS", "This is an audio/video file, not a document."),
    (b"ID3", "This is an audio file, not a document.", True),
    (b"fLaC", "This is an audio file, not a document."),
    (b"\x1aE\xdf\xa3", "This is a video file, not a document."),
    (b"%!PS", "PostScript files are not supported. Convert it to PDF and upload it again."),
)  # fmt: skip
_RIFF_KINDS = {b"WEBP": "an image (WebP)", b"WAVE": "an audio file", b"AVI ": "a video file"}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)


def _read_prefix(path: Path, n: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def detect_type(path: Path) -> DetectedType:
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile()
    head = _read_prefix(path, SAMPLE_BYTES)
    if not head:
        raise EmptyFile()

    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        _check_docx(path, size)
        return DetectedType("docx", CONTENT_TYPES["docx"])

    at = head.find(b"%PDF-", 0, PDF_SIGNATURE_WINDOW)
    if at == 0 or (at > 0 and _pdf_structure(path, head, size)):
        # (a signature after some junk counts when PDF objects follow, so a
        # text file that merely mentions "%PDF-1.7" stays text)
        return DetectedType("pdf", CONTENT_TYPES["pdf"])

    for sig, message, *weak in _BINARY_SIGNATURES:
        if head.startswith(sig):
            if weak and b"\x00" not in head[:1024]:
                continue
            raise UnsupportedType(message)
    if head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS:
        raise UnsupportedType(f"This is {_RIFF_KINDS[head[8:12]]}, not a document.")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        raise UnsupportedType("This is an image or video file, not a document.")

    text, encoding = _decode_sample(head)
    if _SVG_RE.match(text):
        raise UnsupportedType("This is an image (SVG), not a document.")
    kind = _classify_text(text)
    return DetectedType(kind, CONTENT_TYPES[kind], encoding)


_PDF_OBJ_RE = re.compile(rb"\d+\s+\d+\s+obj\b|\bxref\b|%%EOF|/Type\s*/")


def _pdf_structure(path: Path, head: bytes, size: int) -> bool:
    if _PDF_OBJ_RE.search(head):
        return True
    with open(path, "rb") as f:
        f.seek(max(0, size - 2048))
        return b"%%EOF" in f.read(2048)


# --- ZIP / DOCX -------------------------------------------------------------------------


def _check_docx(path: Path, size: int) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except zipfile.BadZipFile:
        raise UnsupportedType(
            "This looks like a ZIP/Word file but it is damaged and cannot be opened."
        ) from None
    except (OSError, ValueError, NotImplementedError, EOFError):
        raise UnsupportedType(
            "This looks like a ZIP/Word file but it is damaged and cannot be opened."
        ) from None

    bomb = (
        "This file looks like a Word document but is a suspicious archive "
        "(a possible 'zip bomb'); it was rejected."
    )
    if len(infos) > ZIP_MAX_ENTRIES:
        raise UnsupportedType(bomb)
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise UnsupportedType(
            "This is a ZIP archive, not a Word document. " + _SUPPORTED
            if not any(n.startswith(("xl/", "ppt/")) for n in names)
            else "Only Word documents (.docx) are supported among Office files; "
            "save it as PDF and upload it again."
        )
    total = sum(i.file_size for i in infos)
    compressed = sum(i.compress_size for i in infos)
    if total > ZIP_MAX_TOTAL_UNCOMPRESSED:
        raise UnsupportedType(bomb)
    if any(i.file_size > ZIP_MAX_ENTRY_UNCOMPRESSED for i in infos):
        raise UnsupportedType(bomb)
    if total > ZIP_RATIO_FLOOR and total > ZIP_MAX_RATIO * max(compressed, 1):
        raise UnsupportedType(bomb)
    # The central directory's sizes cannot be trusted alone: check that the
    # entries actually fit in the file we have.
    if compressed > size:
        raise UnsupportedType("This Word document is damaged (its archive index is inconsistent).")
    for i in infos:
        if i.flag_bits & 0x1:
            raise UnsupportedType(
                "This Word document is encrypted; remove the password and upload it again."
            )


# --- text ------------------------------------------------------------------------------------

_CTRL_OK = set(b"\t\n\r\x0c\x1b")


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    z_even, z_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if z_odd > 0.4 and z_even < 0.05:
        return "utf-16-le"
    if z_even > 0.4 and z_odd < 0.05:
        return "utf-16-be"
    return None


def _decode_sample(head: bytes) -> tuple[str, str]:
    binary = "This file is not a document we can read (it looks like binary data). " + _SUPPORTED
    encoding = None
    body = head
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            encoding, body = name, head[len(bom) :]
            codec_for_sample = codec
            break
    else:
        codec_for_sample = None
        if b"\x00" in head:
            guess = _utf16_without_bom(head)
            if guess is None:
                raise UnsupportedType(binary)
            encoding = codec_for_sample = guess

    if codec_for_sample is not None:
        text = _decode_prefix(body, codec_for_sample)
        if text is None:
            raise UnsupportedType(binary)
    else:
        text = _decode_prefix(head, "utf-8")
        if text is not None:
            encoding = "utf-8"
        else:
            encoding, text = _detect_charset(head)
            if text is None:
                raise UnsupportedType(binary)
    if _control_ratio(text) > 0.01 or "\x00" in text:
        raise UnsupportedType(binary)
    if not text.strip():
        raise UnsupportedType("This file contains no text.")
    return text, encoding


def _decode_prefix(data: bytes, codec: str) -> str | None:
    """Strict decode, tolerating a multi-byte sequence cut at the end of the prefix."""
    try:
        dec = codecs.getincrementaldecoder(codec)("strict")
        return dec.decode(data, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(
        1 for ch in text if ord(ch) < 32 and ord(ch) not in _CTRL_OK or 0x7F <= ord(ch) < 0xA0
    )
    return bad / len(text)


def _detect_charset(head: bytes) -> tuple[str | None, str | None]:
    # A declared charset in an HTML/XML prefix wins when it decodes cleanly.
    declared = _declared_charset(head)
    if declared:
        text = _decode_prefix(head, declared)
        if text is not None:
            return declared, text
    from charset_normalizer import from_bytes

    results = from_bytes(head)
    best = results.best()
    if best is None:
        return None, None
    enc = best.encoding
    # charset-normalizer often ranks a Baltic/Central-European code page first
    # for Western text; when Windows-1252 is (nearly) as good, it is by far
    # the likelier encoding.
    if enc not in ("cp1252", "latin_1", "iso8859_15", "ascii"):
        near = any(
            m.encoding == "cp1252"
            and m.chaos <= best.chaos + 0.05
            and m.coherence >= best.coherence - 0.05
            for m in results
        )
        if near or (enc in _OTHER_LATIN and _looks_western(head)):
            enc = "cp1252"
    text = _decode_prefix(head, enc)
    if text is None:
        text = head.decode(enc, errors="replace")
    return enc, text


# Single-byte Latin code pages that charset-normalizer confuses with Windows-1252.
_OTHER_LATIN = {
    "cp1250", "cp1254", "cp1257", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9",
    "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_16", "mac_latin2", "mac_roman",
    "mac_iceland", "cp850", "cp437",
}  # fmt: skip
_WESTERN_RE = re.compile(
    "[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u20ac\u00a0\u00ab\u00bb\u00b0\u00a7\u00a9\u00ae]"
)


def _looks_western(head: bytes) -> bool:
    """Windows-1252 decodes the sample into ordinary Western letters/punctuation only."""
    text = _decode_prefix(head, "cp1252")
    if text is None:
        return False
    non_ascii = [ch for ch in text if ord(ch) > 127]
    if not non_ascii:
        return True
    good = sum(1 for ch in non_ascii if _WESTERN_RE.match(ch))
    return good >= 0.97 * len(non_ascii)


_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""",
    re.I,
)


def _declared_charset(head: bytes) -> str | None:
    m = _META_CHARSET_RE.search(head[:8192])
    if not m:
        return None
    name = (m.group(1) or m.group(2)).decode("ascii", "ignore").lower()
    # WHATWG: latin-1 and ascii labels mean windows-1252
    if name in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "iso8859-1"):
        name = "cp1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


# --- HTML / Markdown / text classification ------------------------------------------

_SVG_RE = re.compile(
    r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE\s+svg[^>]*>\s*)?<svg[\s>]", re.I | re.S
)
_HTML_STRONG_RE = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.I)
_HTML_TAG_RE = re.compile(
    r"</?(?:p|div|span|a|table|tr|td|th|br|ul|ol|li|h[1-6]|img|meta|link|script|style|title|section|"
    r"article|header|footer|nav|main|em|strong|b|i|font|center|form|input|blockquote|pre|code)\b[^>]*>",
    re.I,
)
_MD_HEADING_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.M)
_MD_SETEXT_RE = re.compile(r"^\S.*\n {0,3}(?:=+|-{3,})[ \t]*$", re.M)
_MD_FENCE_RE = re.compile(r"^ {0,3}(?:```|~~~)", re.M)
_MD_LINK_RE = re.compile(r"!?\[[^\]\n]+\]\([^)\s]+(?:\s+\"[^\"]*\")?\)|^\[[^\]\n]+\]:\s*\S+", re.M)
_MD_LIST_RE = re.compile(r"^ {0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+\S", re.M)
_MD_EMPH_RE = re.compile(r"(\*\*|__)(?=\S)[^\n]+?(?<=\S)\1|`[^`\n]+`")
_MD_TABLE_RE = re.compile(r"^ {0,3}\|?(?: *:?-{3,}:? *\|)+ *:?-{3,}:? *\|? *$", re.M)
_MD_QUOTE_RE = re.compile(r"^ {0,3}>[ \t]", re.M)


def _classify_text(text: str) -> str:
    head = text[:4096]
    if _HTML_STRONG_RE.search(head):
        return "html"
    headings = len(_MD_HEADING_RE.findall(text)) + len(_MD_SETEXT_RE.findall(text))
    fences = len(_MD_FENCE_RE.findall(text))
    links = len(_MD_LINK_RE.findall(text))
    lists = len(_MD_LIST_RE.findall(text))
    emph = len(_MD_EMPH_RE.findall(text))
    tables = len(_MD_TABLE_RE.findall(text))
    quotes = len(_MD_QUOTE_RE.findall(text))
    strong = headings + fences + links + tables
    md_score = 2 * strong + min(lists, 5) + min(emph, 5) + min(quotes, 3)

    tags = _HTML_TAG_RE.findall(text)
    if tags:
        tag_chars = sum(len(t) for t in tags)
        if len(tags) >= 5 and (tag_chars >= 0.1 * len(text) or len(tags) >= 3 * max(md_score, 1)):
            return "html"
    if strong >= 1 and md_score >= 3:
        return "markdown"
    return "text"
