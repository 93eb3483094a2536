"""PDF text extraction: pypdfium2 page by page, pdfminer.six as a fallback."""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
from pathlib import Path

from ._base import ENCRYPTED, NO_TEXT_LAYER, DocBuilder, Extraction, ExtractionError, HeadingPath
from .dates import first_date

log = logging.getLogger(__name__)

PASSWORD_MESSAGE = "This PDF is password-protected; remove the password and upload it again."
NO_TEXT_MESSAGE = (
    "This PDF has no extractable text (is it a scan?). "
    "Run it through OCR, or export it with a text layer, and upload it again."
)
DAMAGED_MESSAGE = "This PDF is damaged and no text could be recovered from it."
EMPTY_MESSAGE = "This file is empty."

# Budget for the pure-Python pdfminer fallback when called in-process.
PDFMINER_TIME_LIMIT_S = 60.0

# --- text clean-up -------------------------------------------------------------

# PDFium marks a soft hyphen at a line end with \x02 (older builds, followed by
# \r\n) or U+FFFE (current builds, line break already removed).  A visible
# hyphen may precede the marker.  "word-\x02\r\nbreak" -> "wordbreak".
_SOFT_HYPHEN_RE = re.compile("-?[\x02\ufffe\u00ad](?:[ \t]*\r?\n)?")
# Control characters (except \t and \n), non-characters; \x0c form feed too.
_CTRL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]+")
_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",  # long s + t
    "\ufb06": "st",
}
_LIG_RE = re.compile("[\ufb00-\ufb06]")
_TRAILING_WS_RE = re.compile("[ \t\u00a0]+\n")
_LEADING_BLANK_RE = re.compile("\n[ \t\u00a0]+\n")
_MANY_NL_RE = re.compile("\n{3,}")


def _ctrl_repl(m: re.Match) -> str:
    # A tab becomes a space; every other control character disappears.
    return " " if "\t" in m.group() else ""


def clean_pdf_text(s: str) -> str:
    """Normalise raw PDF text.  Cheap when there is nothing to fix."""
    if not s:
        return ""
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if "\x02" in s or "\ufffe" in s or "\u00ad" in s:
        s = _SOFT_HYPHEN_RE.sub("", s)
    s = _CTRL_RE.sub(_ctrl_repl, s)
    if _LIG_RE.search(s) is not None:
        s = _LIG_RE.sub(lambda m: _LIGATURES[m.group()], s)
    # substring pre-checks are much cheaper than a regex scan that finds nothing
    if " \n" in s or "\t\n" in s or "\u00a0\n" in s:
        s = _TRAILING_WS_RE.sub("\n", s)
    if "\n " in s or "\n\t" in s or "\n\u00a0" in s:
        s = _LEADING_BLANK_RE.sub("\n\n", s)
    if "\n\n\n" in s:
        s = _MANY_NL_RE.sub("\n\n", s)
    return s.strip()


# --- headings from the outline (bookmarks) ----------------------------------------

_MAX_TOC = 5000


#: (title, heading path) of a bookmark; a heading in force is one too
Bookmark = tuple[str, str]


def _toc_by_page(pdf, n_pages: int) -> dict[int, list[Bookmark]]:
    """page index -> (title, path) of the bookmarks pointing to it, in outline order."""
    out: dict[int, list[Bookmark]] = {}
    paths = HeadingPath()
    try:
        for i, bm in enumerate(pdf.get_toc(max_depth=6)):
            if i >= _MAX_TOC:
                break
            dest = bm.get_dest()
            if dest is None:
                continue
            idx = dest.get_index()
            if idx is None or not (0 <= idx < n_pages):
                continue
            title = " ".join(bm.get_title().split())
            if title:
                out.setdefault(idx, []).append((title, paths.enter(title, bm.level)))
    except Exception:  # a broken outline must never break extraction
        log.debug("ignoring unreadable PDF outline", exc_info=True)
    return out


def _find_title(flat: str, flat_lower: str | None, title: str, pos: int) -> int:
    """Offset of ``title`` in the page text (newlines already turned to spaces), or -1."""
    for hay, needle in ((flat, title), (flat_lower, title.lower())):
        if hay is None:
            continue
        start = pos
        for _ in range(20):
            at = hay.find(needle, start)
            if at < 0:
                break
            end = at + len(needle)
            # whole words only ("A" must not match inside "Abomination")
            if (at == 0 or not hay[at - 1].isalnum()) and (
                end >= len(hay) or not hay[end].isalnum()
            ):
                return at
            start = at + 1
    return _find_loose_title(flat, title, pos)


def _find_loose_title(flat: str, title: str, pos: int) -> int:
    """Offset of ``title`` printed with other punctuation or spacing ("2.13. Nonregular
    files" printed "2.13. Non-regular files"): its letters and digits in order, at most
    three other characters between two of them; -1 if not found (or too short to tell)."""
    chars = [ch for ch in title if ch.isalnum()]
    if len(chars) < 6:
        return -1
    gap = r"[^\w]{0,3}"
    loose = re.compile(r"(?<!\w)" + gap.join(map(re.escape, chars)) + r"(?!\w)", re.I)
    m = loose.search(flat, pos)
    return m.start() if m else -1


def pdf_date(pdf) -> str | None:
    """The PDF's CreationDate (else ModDate) from its Info dictionary, as ISO text."""
    try:
        meta = pdf.get_metadata_dict(skip_empty=True)
    except Exception:  # unreadable metadata must never break extraction
        log.debug("ignoring unreadable PDF metadata", exc_info=True)
        return None
    return first_date(meta.get("CreationDate"), meta.get("ModDate"))


def page_labels(pdf, n_pages: int) -> list[str] | None:
    """The label printed on each page (the PDF's /PageLabels), or None when it defines none."""
    import pypdfium2.raw as pdfium_c

    if n_pages == 0 or pdfium_c.FPDF_GetPageLabel(pdf, 0, None, 0) <= 2:
        return None  # the first page has no label: the file defines none
    try:
        labels = [pdf.get_page_label(i) for i in range(n_pages)]
    except Exception:  # a broken label tree must never break extraction
        log.debug("ignoring unreadable PDF page labels", exc_info=True)
        return None
    return [_label(label) or str(i + 1) for i, label in enumerate(labels)]


#: longest page label kept (the chunks column holds 40 characters)
MAX_LABEL_CHARS = 40


def _label(raw: str) -> str:
    """A page label on one line, without control characters, at most MAX_LABEL_CHARS."""
    return " ".join(_CTRL_RE.sub("", raw).split())[:MAX_LABEL_CHARS]


def _add_page(
    b: DocBuilder, text: str, page_no: int, titles: list[Bookmark], current: Bookmark | None
) -> Bookmark | None:
    """Add one page as one or more sections; returns the heading in force after it."""
    cuts: list[tuple[int, Bookmark]] = []
    pos = 0
    # same length as ``text``, so offsets carry over
    flat = text.replace("\n", " ")
    lower = flat.lower()
    flat_lower = lower if len(lower) == len(flat) else None
    for mark in titles[:50]:
        at = _find_title(flat, flat_lower, mark[0], pos)
        if at < 0:
            # bookmark on this page but its text not found: applies from the top
            if not cuts:
                current = mark
            continue
        if cuts and cuts[-1][0] == at:
            cuts[-1] = (at, mark)
        else:
            cuts.append((at, mark))
        pos = at + len(mark[0])
    if not cuts or cuts[0][0] > 0:
        _new_section(b, current, page_no)
        b.block(text[: cuts[0][0]] if cuts else text)
    for j, (at, mark) in enumerate(cuts):
        end = cuts[j + 1][0] if j + 1 < len(cuts) else len(text)
        _new_section(b, mark, page_no)
        b.block(text[at:end])
        current = mark
    return current


def _new_section(b: DocBuilder, mark: Bookmark | None, page_no: int) -> None:
    """A section of page ``page_no`` under the bookmark ``mark`` (or under none)."""
    if mark is None:
        b.new_section(None, page_no)
    else:
        b.new_section(mark[0], page_no, mark[1])


# --- pypdfium2 ------------------------------------------------------------------------


#: fonts that set code: TeX's cmtt, Courier, Consolas, Menlo, DejaVu Sans Mono, ...
_MONO_FONT_RE = re.compile(
    r"mono|courier|consol|menlo|monaco|typewriter|inconsolata|^(?:[A-Z]{6}\+)?(?:cm|lm|sf)tt",
    re.IGNORECASE,
)
_FIXED_PITCH = 1  # the FXFONT_FIXED_PITCH flag of FPDFText_GetFontInfo


def _monospace_at(textpage, index: int, buf, flags) -> bool:
    import pypdfium2.raw as pdfium_c

    pdfium_c.FPDFText_GetFontInfo(textpage, index, buf, len(buf), flags)
    name = buf.value.decode("latin-1", "replace")
    return bool(flags.value & _FIXED_PITCH) or bool(_MONO_FONT_RE.search(name))


def fence_monospace_lines(textpage, raw: str) -> str:
    """Runs of two or more whole lines set in a monospace font (pdfium's font of their
    first, middle and last characters) fenced as code: a listing stays a code block."""
    import ctypes

    if len(raw) != textpage.count_chars() or "\n" not in raw:
        return raw
    buf, flags = ctypes.create_string_buffer(96), ctypes.c_int()
    lines = raw.split("\n")
    mono: list[bool] = []
    pos = 0
    for line in lines:
        idx = [pos + i for i, ch in enumerate(line) if not ch.isspace()]
        probe = {idx[0], idx[len(idx) // 2], idx[-1]} if idx else set()
        mono.append(bool(probe) and all(_monospace_at(textpage, i, buf, flags) for i in probe))
        pos += len(line) + 1
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and mono[j]:
            j += 1
        if j - i >= 2:
            out += ["```", *(ln.rstrip("\r") for ln in lines[i:j]), "```\r"]
            i = j
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def _page_texts(pdf, start: int, stop: int):
    """Cleaned text of pages [start, stop); None for a page pdfium cannot load."""
    import pypdfium2 as pdfium

    for i in range(start, stop):
        page = textpage = None
        try:
            page = pdf[i]
            textpage = page.get_textpage()
            raw = fence_monospace_lines(textpage, textpage.get_text_range())
        except pdfium.PdfiumError:
            yield None
            continue
        finally:
            if textpage is not None:
                textpage.close()
            if page is not None:
                page.close()
        yield clean_pdf_text(raw)


def _finish(
    b: DocBuilder,
    n_pages: int,
    empty_pages: int,
    failed_pages: int,
    warnings: list[str],
    labels: list[str] | None = None,
) -> Extraction:
    if b.empty:
        if failed_pages and failed_pages == n_pages:
            raise ExtractionError(DAMAGED_MESSAGE)
        raise ExtractionError(NO_TEXT_MESSAGE, NO_TEXT_LAYER)
    if failed_pages:
        warnings.append(f"{failed_pages} of {n_pages} pages could not be read and were skipped.")
    if empty_pages:
        warnings.append(
            f"{empty_pages} of {n_pages} pages have no extractable text (scanned images?) "
            "and were skipped."
        )
    return b.finish(page_count=n_pages, warnings=warnings, page_labels=labels)


def _open_pdf(path: Path):
    """``path`` as a pypdfium2 document; PdfiumError with PDFium's code if it cannot load.

    Not ``PdfDocument(path)``: pypdfium2 reads FPDF_GetLastError whenever a
    document has no pages, but PDFium sets that code only when loading fails,
    so a damaged file that loads with no pages would get a stale code (after
    an encrypted file in the same process: "password"). Here the code is read
    only after a failed load; a document without pages opens (and is closed)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    raw = pdfium_c.FPDF_LoadDocument(os.fsencode(path) + b"\0", None)
    if not raw:
        code = pdfium_c.FPDF_GetLastError()
        raise pdfium.PdfiumError(f"PDFium could not load the document (error {code}).", code)
    return pdfium.PdfDocument(raw)


def extract_pdf(path: Path) -> Extraction:
    path = Path(path)
    if path.stat().st_size == 0:
        raise ExtractionError(EMPTY_MESSAGE)
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = _open_pdf(path)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ExtractionError(PASSWORD_MESSAGE, ENCRYPTED) from None
        log.info("pypdfium2 could not open %s (%s); trying pdfminer", path, exc)
        return extract_pdf_pdfminer(path, reason=str(exc))
    try:
        n = len(pdf)
        if n == 0:
            return extract_pdf_pdfminer(path, reason="pypdfium2 found no pages")
        toc = _toc_by_page(pdf, n)
        labels = page_labels(pdf, n)
        texts = list(_page_texts(pdf, 0, n))
        date = pdf_date(pdf)
    finally:
        pdf.close()
    ex = assemble_pdf(n, toc, texts, labels)
    ex.date = date
    return ex


# A PDF at least this long is worth reading in two halves by two pool workers.
SPLIT_MIN_PAGES = 48


def read_pdf_half(
    path: Path, half: int
) -> tuple[int, dict[int, list[Bookmark]], list[str] | None, list, str | None] | None:
    """Page count, outline, page labels, cleaned page texts and date of the first (0) or
    second (1) half of a long PDF (outline, labels, date: first half only), for
    :func:`assemble_pdf`; None when the PDF is short or
    pypdfium2 cannot open it, so that the caller extracts it whole."""
    import pypdfium2 as pdfium

    try:
        pdf = _open_pdf(path)
    except pdfium.PdfiumError:
        return None
    try:
        n = len(pdf)
        if n < SPLIT_MIN_PAGES:
            return None
        if half == 0:
            texts = list(_page_texts(pdf, 0, n // 2))
            return n, _toc_by_page(pdf, n), page_labels(pdf, n), texts, pdf_date(pdf)
        return n, {}, None, list(_page_texts(pdf, n // 2, n)), None
    finally:
        pdf.close()


_PAGE_NUMBER_LINE = re.compile(r"^\W*(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\W*$", re.I)
_EDGE_LINES = 2


def _edge_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()).lower())


def strip_running_lines(texts: list) -> list:
    """Page texts without running headers and footers: lines among the first or last two
    of a page that recur (digits aside) on at least three pages and 25% of them, and bare
    page numbers there ("12", "Page 3 of 9")."""
    seen: dict[str, int] = {}
    pages = [t for t in texts if t]
    for text in pages:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        for key in {_edge_key(ln) for ln in lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]}:
            seen[key] = seen.get(key, 0) + 1
    # odd and even pages often carry different headers: each recurs on a quarter at least
    running = {k for k, c in seen.items() if c >= 3 and c >= 0.25 * len(pages)}
    out = []
    for text in texts:
        if not text:
            out.append(text)
            continue
        lines = text.split("\n")
        filled = [i for i, ln in enumerate(lines) if ln.strip()]
        edges = set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:])
        kept = [
            ln
            for i, ln in enumerate(lines)
            if i not in edges
            or not (_edge_key(ln) in running or _PAGE_NUMBER_LINE.match(ln.strip()))
        ]
        out.append("\n".join(kept).strip("\n"))
    return out


def assemble_pdf(
    n: int, toc: dict[int, list[Bookmark]], texts: list, labels: list[str] | None = None
) -> Extraction:
    """Markdown and sections from the cleaned text of each page (None: unreadable)."""
    texts = strip_running_lines(texts)
    b = DocBuilder()
    empty = failed = 0
    heading: Bookmark | None = None
    for i, text in enumerate(texts):
        if text is None:
            failed += 1
            continue
        titles = toc.get(i)
        if not text:
            empty += 1
            if titles:
                heading = titles[-1]
            continue
        if titles:
            heading = _add_page(b, text, i + 1, titles, heading)
        else:
            _new_section(b, heading, i + 1)
            b.block(text)
    return _finish(b, n, empty, failed, [], labels)


# --- pdfminer.six fallback ---------------------------------------------------------


class _Deadline(ExtractionError):
    # an ExtractionError, so that even a late-delivered alarm surfaces as a
    # clear message rather than an internal error
    def __init__(self) -> None:
        super().__init__(
            "This PDF is damaged and recovering its text took too long; "
            "repair or re-export it and upload it again."
        )


class _Alarm:
    """SIGALRM handler raising _Deadline.  The timer repeats until the deadline
    is acknowledged, because an exception raised while the interpreter runs a
    finalizer/GC callback is swallowed ("Exception ignored in ...")."""

    def __init__(self) -> None:
        self.acknowledged = False

    def __call__(self, signum, frame):  # pragma: no cover - timing dependent
        if not self.acknowledged:
            raise _Deadline()


def extract_pdf_pdfminer(
    path: Path, *, reason: str = "", time_limit_s: float | None = None
) -> Extraction:
    """Recover text with pdfminer.six (pure Python; slower, more forgiving).

    Runs under a time budget: checked between pages always, and enforced
    inside a page too (SIGALRM) when called from the main thread, which is
    the case in the isolation worker.
    """
    limit = PDFMINER_TIME_LIMIT_S if time_limit_s is None else time_limit_s
    deadline = time.monotonic() + limit
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(
        signal, "setitimer"
    )
    pdfminer_log = logging.getLogger("pdfminer")
    old_level = pdfminer_log.level
    pdfminer_log.setLevel(logging.ERROR)
    old_handler = None
    state = {"n": 0, "empty": 0, "errors": 0}
    b = DocBuilder()
    warnings = [
        "Recovered with the fallback PDF reader (the file is damaged); layout may be imperfect."
    ]
    timed_out = False
    try:
        if use_alarm:
            alarm = _Alarm()
            old_handler = signal.signal(signal.SIGALRM, alarm)
            signal.setitimer(signal.ITIMER_REAL, max(limit, 0.001), 0.25)
        try:
            _pdfminer_pages(path, b, deadline, state, warnings)
        except _Deadline:
            timed_out = True
            if use_alarm:
                alarm.acknowledged = True
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        pdfminer_log.setLevel(old_level)

    n, page_errors = state["n"], state["errors"]
    if timed_out:
        if b.empty:
            raise ExtractionError(
                "This PDF is damaged and recovering its text took too long; "
                "repair or re-export it and upload it again."
            )
        warnings.append(
            "Recovering text from this damaged PDF took too long; only the first pages were kept."
        )
    if n == 0:
        raise ExtractionError(DAMAGED_MESSAGE)
    if b.empty:
        # Every page failed to parse: damaged.  Pages parsed but held no text:
        # an image-only PDF.
        if page_errors >= n:
            raise ExtractionError(DAMAGED_MESSAGE)
        raise ExtractionError(NO_TEXT_MESSAGE, NO_TEXT_LAYER)
    return _finish(b, n, state["empty"], page_errors, warnings)


def _pdfminer_pages(
    path: Path, b: DocBuilder, deadline: float, state: dict, warnings: list[str]
) -> None:
    import io

    from pdfminer.converter import TextConverter
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    try:
        from pdfminer.pdfdocument import PDFEncryptionError
    except ImportError:  # pragma: no cover
        PDFEncryptionError = PDFPasswordIncorrect  # type: ignore

    rsrc = PDFResourceManager(caching=True)
    laparams = LAParams()
    with open(path, "rb") as fp:
        try:
            for i, page in enumerate(PDFPage.get_pages(fp, caching=True, check_extractable=False)):
                state["n"] = i + 1
                if time.monotonic() > deadline:
                    raise _Deadline()
                out = io.StringIO()
                device = TextConverter(rsrc, out, laparams=laparams)
                try:
                    PDFPageInterpreter(rsrc, device).process_page(page)
                except (_Deadline, MemoryError, RecursionError):
                    raise
                except Exception:
                    log.debug("pdfminer failed on page %d", i + 1, exc_info=True)
                    state["errors"] += 1
                    continue
                finally:
                    device.close()
                text = clean_pdf_text(out.getvalue())
                if not text:
                    state["empty"] += 1
                    continue
                b.new_section(None, i + 1)
                b.block(text)
        except (_Deadline, MemoryError, RecursionError):
            raise
        except (PDFPasswordIncorrect, PDFEncryptionError):
            raise ExtractionError(PASSWORD_MESSAGE, ENCRYPTED) from None
        except Exception as exc:
            log.info("pdfminer could not read %s: %s", path, exc)
            if b.empty:
                raise ExtractionError(DAMAGED_MESSAGE) from None
            warnings.append("The end of the file is damaged; some pages may be missing.")
