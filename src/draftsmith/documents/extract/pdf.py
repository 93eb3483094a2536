"""PDF text extraction: pypdfium2 page by page, pdfminer.six as a fallback."""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
from pathlib import Path

from ._base import DocBuilder, Extraction, ExtractionError

log = logging.getLogger(__name__)

PASSWORD_MESSAGE = "This PDF is password-protected; remove the password and upload it again."
NO_TEXT_MESSAGE = (
    "This PDF has no extractable text (is it a scan?). "
    "Run it through OCR, or export it with a text layer, and upload it again."
)
DAMAGED_MESSAGE = "This PDF is damaged and no text could be recovered from it."
EMPTY_MESSAGE = "This file is empty."

# Budget for the pure-Python pdfminer fallback when called in-process.
PDFMINER_TIME_LIMIT_S = float(os.environ.get("DRAFTSMITH_PDFMINER_TIME_LIMIT_S", "60"))

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
    s = _TRAILING_WS_RE.sub("\n", s)
    s = _LEADING_BLANK_RE.sub("\n\n", s)
    s = _MANY_NL_RE.sub("\n\n", s)
    return s.strip()


# --- headings from the outline (bookmarks) ----------------------------------------

_MAX_TOC = 5000


def _toc_by_page(pdf, n_pages: int) -> dict[int, list[str]]:
    """page index -> bookmark titles pointing to it, in outline order."""
    out: dict[int, list[str]] = {}
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
                out.setdefault(idx, []).append(title)
    except Exception:  # a broken outline must never break extraction
        log.debug("ignoring unreadable PDF outline", exc_info=True)
    return out


def _title_regex(title: str) -> re.Pattern | None:
    words = title.split()[:12]
    if not words:
        return None
    try:
        return re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    except re.error:  # pragma: no cover - escaped, should not happen
        return None


def _add_page(b: DocBuilder, text: str, page_no: int, titles: list[str], current: str | None) -> str | None:
    """Add one page as one or more sections; returns the heading in force after it."""
    cuts: list[tuple[int, str]] = []
    pos = 0
    for title in titles[:50]:
        rx = _title_regex(title)
        m = rx.search(text, pos) if rx is not None else None
        if m is None:
            # bookmark on this page but text not found: applies from the top
            if not cuts and pos == 0:
                current = title
            continue
        cuts.append((m.start(), title))
        pos = m.end()
    if not cuts or cuts[0][0] > 0:
        b.new_section(current, page_no)
        b.block(text[: cuts[0][0]] if cuts else text)
    for j, (at, title) in enumerate(cuts):
        end = cuts[j + 1][0] if j + 1 < len(cuts) else len(text)
        b.new_section(title, page_no)
        b.block(text[at:end])
        current = title
    return current


# --- pypdfium2 ------------------------------------------------------------------------


def _pdfium_pages(path: Path):
    """Yield (page_count, index, raw_text or None on page error); raises pdfium errors on open."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        n = len(pdf)
        toc = _toc_by_page(pdf, n) if n else {}
        yield n, toc
        for i in range(n):
            page = textpage = None
            try:
                page = pdf[i]
                textpage = page.get_textpage()
                raw = textpage.get_text_range()
            except pdfium.PdfiumError:
                raw = None
            finally:
                if textpage is not None:
                    textpage.close()
                if page is not None:
                    page.close()
            yield raw
    finally:
        pdf.close()


def _finish(b: DocBuilder, n_pages: int, empty_pages: int, failed_pages: int, warnings: list[str]) -> Extraction:
    if b.empty:
        if failed_pages and failed_pages == n_pages:
            raise ExtractionError(DAMAGED_MESSAGE)
        raise ExtractionError(NO_TEXT_MESSAGE)
    if failed_pages:
        warnings.append(f"{failed_pages} of {n_pages} pages could not be read and were skipped.")
    if empty_pages:
        warnings.append(
            f"{empty_pages} of {n_pages} pages have no extractable text (scanned images?) and were skipped."
        )
    return b.finish(page_count=n_pages, warnings=warnings)


def extract_pdf(path: Path) -> Extraction:
    path = Path(path)
    if path.stat().st_size == 0:
        raise ExtractionError(EMPTY_MESSAGE)
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    warnings: list[str] = []
    try:
        gen = _pdfium_pages(path)
        n, toc = next(gen)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ExtractionError(PASSWORD_MESSAGE) from None
        log.info("pypdfium2 could not open %s (%s); trying pdfminer", path, exc)
        return extract_pdf_pdfminer(path, reason=str(exc))
    if n == 0:
        gen.close()
        return extract_pdf_pdfminer(path, reason="pypdfium2 found no pages")

    b = DocBuilder()
    empty = failed = 0
    heading: str | None = None
    try:
        for i, raw in enumerate(gen):
            if raw is None:
                failed += 1
                continue
            text = clean_pdf_text(raw)
            titles = toc.get(i)
            if not text:
                empty += 1
                if titles:
                    heading = titles[-1]
                continue
            if titles:
                heading = _add_page(b, text, i + 1, titles, heading)
            else:
                b.new_section(heading, i + 1)
                b.block(text)
    finally:
        gen.close()
    return _finish(b, n, empty, failed, warnings)


# --- pdfminer.six fallback ---------------------------------------------------------


class _Deadline(Exception):
    pass


def _alarm_handler(signum, frame):  # pragma: no cover - timing dependent
    raise _Deadline()


def extract_pdf_pdfminer(path: Path, *, reason: str = "", time_limit_s: float | None = None) -> Extraction:
    """Recover text with pdfminer.six (pure Python; slower, more forgiving).

    Runs under a time budget: between pages always, and inside a page too when
    called from the main thread (SIGALRM), which is the case in the isolation
    worker.
    """
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

    limit = PDFMINER_TIME_LIMIT_S if time_limit_s is None else time_limit_s
    deadline = time.monotonic() + limit
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    old_handler = None
    if use_alarm:
        old_handler = signal.signal(signal.SIGALRM, _alarm_handler)
        signal.setitimer(signal.ITIMER_REAL, limit)

    b = DocBuilder()
    warnings = ["Recovered with the fallback PDF reader (the file is damaged); layout may be imperfect."]
    n = empty = page_errors = 0
    timed_out = False
    pdfminer_log = logging.getLogger("pdfminer")
    old_level = pdfminer_log.level
    pdfminer_log.setLevel(logging.ERROR)
    try:
        rsrc = PDFResourceManager(caching=True)
        laparams = LAParams()
        with open(path, "rb") as fp:
            try:
                for i, page in enumerate(PDFPage.get_pages(fp, caching=True, check_extractable=False)):
                    n = i + 1
                    if time.monotonic() > deadline:
                        timed_out = True
                        break
                    out = io.StringIO()
                    device = TextConverter(rsrc, out, laparams=laparams)
                    try:
                        PDFPageInterpreter(rsrc, device).process_page(page)
                    except _Deadline:
                        raise
                    except Exception:
                        log.debug("pdfminer failed on page %d", n, exc_info=True)
                        page_errors += 1
                        continue
                    finally:
                        device.close()
                    text = clean_pdf_text(out.getvalue())
                    if not text:
                        empty += 1
                        continue
                    b.new_section(None, n)
                    b.block(text)
            except _Deadline:
                timed_out = True
            except (PDFPasswordIncorrect, PDFEncryptionError):
                raise ExtractionError(PASSWORD_MESSAGE) from None
            except ExtractionError:
                raise
            except (MemoryError, RecursionError):
                raise
            except Exception as exc:
                log.info("pdfminer could not read %s: %s", path, exc)
                if b.empty:
                    raise ExtractionError(DAMAGED_MESSAGE) from None
                warnings.append("The end of the file is damaged; some pages may be missing.")
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        pdfminer_log.setLevel(old_level)

    if timed_out:
        if b.empty:
            raise ExtractionError(
                "This PDF is damaged and recovering its text took too long; repair or re-export it and upload it again."
            )
        warnings.append("Recovering text from this damaged PDF took too long; only the first pages were kept.")
    if n == 0:
        raise ExtractionError(DAMAGED_MESSAGE)
    if b.empty:
        # Every page failed to parse: damaged.  Pages parsed but held no text:
        # an image-only PDF.
        raise ExtractionError(DAMAGED_MESSAGE if page_errors >= n else NO_TEXT_MESSAGE)
    return _finish(b, n, empty, page_errors, warnings)
