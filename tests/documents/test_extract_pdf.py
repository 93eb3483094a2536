"""PDF extraction: pages, clean text, passwords, scans, damaged files."""

from __future__ import annotations

import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from draftsmith.documents.extract import ExtractionError, extract, extract_isolated
from draftsmith.documents.extract.pdf import (
    _find_title,
    clean_pdf_text,
    extract_pdf,
    extract_pdf_pdfminer,
)
from tests.corpus import CORPUS
from tests.fixtures.make import LONG_PAGES, REPORT_PAGES, fixture_path
from tests.fixtures.prose import LIGHTHOUSES, TIDE_POOLS

PDF = CORPUS / "pdf"


# --- text clean-up (unit) -------------------------------------------------------------


def test_soft_hyphen_markers_joined():
    assert clean_pdf_text("infor-\x02\r\nmation here") == "information here"
    assert clean_pdf_text("infor\x02\r\nmation") == "information"
    assert clean_pdf_text("Ex\ufffeisting systems") == "Existing systems"  # pdfium >= 6xxx


def test_crlf_formfeed_nul_ligatures():
    raw = "\ufb01rst \ufb02oor\r\nof\x00\x0c the o\ufb03ce \ufb00 \ufb04 \ufb06\r\n"
    assert clean_pdf_text(raw) == "first floor\nof the office ff ffl st"


def test_blank_lines_collapsed_and_trailing_space_removed():
    assert clean_pdf_text("a  \r\n\r\n\r\n\r\n  \r\nb\t\r\n") == "a\n\nb"


# --- generated fixtures (tests/fixtures/make.py) --------------------------------------------


def _pdfium_page_text(path: Path, index: int) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[index]
        tp = page.get_textpage()
        raw = clean_pdf_text(tp.get_text_range())
        tp.close()
        page.close()
    finally:
        pdf.close()
    return raw


def test_generated_pages_bookmarks_and_page_text():
    path = fixture_path("report.pdf")
    ex = extract(path, "pdf")
    assert ex.page_count == REPORT_PAGES
    assert {s.page for s in ex.sections} == set(range(1, REPORT_PAGES + 1))
    # every bookmark title becomes a section heading, in outline order
    expected = [h for h, _ in TIDE_POOLS.sections() + LIGHTHOUSES.sections()[:6]]
    assert [s.heading for s in ex.sections if s.heading] == expected
    assert ex.word_count > 4000  # ~4,800 words printed
    first_sentence = TIDE_POOLS.sentences()[0]
    assert first_sentence in " ".join(ex.markdown.split())
    # page text really comes from that page
    page3 = " ".join(s.text for s in ex.sections if s.page == 3)
    assert " ".join(_pdfium_page_text(path, 2).split()) == " ".join(page3.split())


def test_generated_pdf_without_bookmarks_has_no_invented_headings():
    ex = extract(fixture_path("unbookmarked.pdf"), "pdf")
    assert ex.page_count == 3 and all(s.heading is None for s in ex.sections)


def test_generated_encrypted_pdf_says_password():
    with pytest.raises(ExtractionError) as ei:
        extract_isolated(fixture_path("encrypted.pdf"), "pdf")
    assert "password" in str(ei.value).lower()


def test_generated_owner_password_only_pdf_opens():
    ex = extract(fixture_path("owner-locked.pdf"), "pdf")
    assert ex.page_count == 5 and TIDE_POOLS.sections()[5][1][0] in " ".join(ex.markdown.split())


def test_generated_scan_has_no_extractable_text():
    with pytest.raises(ExtractionError) as ei:
        extract(fixture_path("scanned.pdf"), "pdf")
    assert "no extractable text" in str(ei.value)


def test_generated_partial_scan_keeps_text_pages_with_warning():
    ex = extract(fixture_path("partly-scanned.pdf"), "pdf")
    assert ex.page_count == 4 and {s.page for s in ex.sections} == {1, 2, 4}
    assert any("1 of 4 pages have no extractable text" in w for w in ex.warnings)


def test_generated_two_columns_read_column_by_column():
    md = " ".join(extract(fixture_path("two-columns.pdf"), "pdf").markdown.split())
    left, right = TIDE_POOLS.sections()[3][1][:8], LIGHTHOUSES.sections()[3][1][:8]
    assert " ".join(left) in md and " ".join(right) in md
    assert md.index(left[-1]) < md.index(right[0])


def test_generated_damaged_pdf_recovered_by_pdfminer():
    path = fixture_path("damaged.pdf")
    assert _pdfium_rejects(path) is not None
    ex = extract(path, "pdf")
    assert any("fallback" in w for w in ex.warnings)
    assert ex.page_count == 3 and TIDE_POOLS.sentences()[0] in " ".join(ex.markdown.split())


def test_damaged_pdf_after_an_encrypted_one_in_the_same_worker():
    """PDFium's last error code outlives the encrypted file's failed load; the damaged
    file (which loads, with no pages) must not be read as password-protected."""
    from draftsmith.documents.extract import configure_workers

    try:
        configure_workers(max_workers=1)
        with pytest.raises(ExtractionError, match="password"):
            extract_isolated(fixture_path("encrypted.pdf"), "pdf")
        ex = extract_isolated(fixture_path("damaged.pdf"), "pdf")
    finally:
        configure_workers()
    assert any("fallback" in w for w in ex.warnings)


def test_damaged_pdf_after_an_encrypted_one_in_process():
    with pytest.raises(ExtractionError, match="password"):
        extract(fixture_path("encrypted.pdf"), "pdf")
    ex = extract(fixture_path("damaged.pdf"), "pdf")
    assert any("fallback" in w for w in ex.warnings)
    with pytest.raises(ExtractionError, match="password"):
        extract(fixture_path("encrypted.pdf"), "pdf")


def test_generated_isolated_matches_in_process_with_a_split():
    """A long PDF is read in halves by two pool workers: same result as in-process."""
    path = fixture_path("long.pdf")
    a = extract(path, "pdf")
    b = extract_isolated(path, "pdf")
    assert a == b and a.page_count == LONG_PAGES


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_generated_pdfminer_fallback_honours_time_limit():
    try:
        ex = extract_pdf_pdfminer(fixture_path("long.pdf"), time_limit_s=0.1)
    except ExtractionError as exc:
        assert "too long" in str(exc)
    else:
        assert ex.page_count < LONG_PAGES
        assert any("too long" in w for w in ex.warnings)


# --- corpus -------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    [
        "plumb_password-example.pdf",
        "pypdf_crazyones-encrypted-256.pdf",
        "sf_libreoffice-writer-password.pdf",
    ],
)
def test_user_password_pdfs_say_so(name: str):
    with pytest.raises(ExtractionError) as ei:
        extract(PDF / name, "pdf")
    assert "password" in str(ei.value).lower()


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name", ["dl_ocr_test.pdf", "un_loremipsum-flat.pdf", "dl_nemotron_multipage.pdf"]
)
def test_scanned_pdfs_have_no_extractable_text(name: str):
    with pytest.raises(ExtractionError) as ei:
        extract(PDF / name, "pdf")
    assert "no extractable text" in str(ei.value)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name,needle", [("pm_dmca.pdf", "Digital Millennium"), ("pm_kampo.pdf", None)]
)
def test_owner_password_only_pdfs_open(name: str, needle: str | None):
    ex = extract(PDF / name, "pdf")
    assert ex.word_count > 0
    if needle:
        assert needle.lower() in ex.markdown.lower()


@pytest.mark.corpus
def test_619_pages_kept_with_page_numbers():
    ex = extract_isolated(PDF / "un_DA-619p.pdf", "pdf")
    assert ex.page_count == 619
    pages = {s.page for s in ex.sections}
    assert min(pages) == 1 and max(pages) == 619
    assert len(pages) > 600  # nearly every page has text
    # outline (bookmark) titles become section headings
    assert sum(1 for s in ex.sections if s.heading) > 500
    # page text really comes from that page
    raw = _pdfium_page_text(PDF / "un_DA-619p.pdf", 99)
    page100 = " ".join(s.text for s in ex.sections if s.page == 100)
    # (a bookmark title inside the page starts a new section/paragraph there; the page
    # number printed at its foot is page furniture and is left out)
    assert raw.rstrip().endswith("100")
    assert " ".join(raw.rstrip()[:-3].split()) == " ".join(page100.split())


@pytest.mark.corpus
def test_isolated_matches_in_process():
    """The worker (which may split big PDFs across processes) gives the same result."""
    a = extract(PDF / "sf_GeoTopo-komprimiert.pdf", "pdf")
    b = extract_isolated(PDF / "sf_GeoTopo-komprimiert.pdf", "pdf")
    assert a == b


@pytest.mark.corpus
def test_partial_scan_keeps_text_pages_with_warning():
    ex = extract(PDF / "dl_redp5110_sampled.pdf", "pdf")
    assert ex.page_count == 18
    assert any("no extractable text" in w for w in ex.warnings)


@pytest.mark.corpus
def test_multilingual_text():
    ko = extract(PDF / "dl_normal_4pages.pdf", "pdf")
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko.markdown)  # Hangul
    ar = extract(PDF / "sf_habibi.pdf", "pdf")
    assert any("\u0600" <= ch <= "\u06ff" for ch in ar.markdown)


def _pdfium_rejects(path: Path) -> str | None:
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        return str(exc)
    n = len(pdf)
    pdf.close()
    return None if n else "no pages"


@pytest.mark.corpus
def test_damaged_pdfs_recovered_by_pdfminer_or_clear_error():
    """Report which files pypdfium2 rejects and which of them pdfminer recovers."""
    recovered, failed = [], []
    for p in sorted(PDF.glob("*.pdf")):
        if p.stat().st_size == 0:
            continue
        why = _pdfium_rejects(p)
        if why is None or "password" in why.lower():
            continue
        try:
            ex = extract_isolated(p, "pdf", timeout_s=120)
        except ExtractionError as exc:
            failed.append((p.name, str(exc)))
            continue
        assert any("fallback" in w for w in ex.warnings)
        recovered.append((p.name, ex.word_count))
    print("\npypdfium2 rejected; pdfminer recovered:", recovered, "failed:", failed)
    assert "sf_unreadablemetadata.pdf" in [n for n, _ in recovered]
    for _name, msg in failed:
        assert "damaged" in msg or "no extractable text" in msg


@pytest.mark.corpus
def test_unreadable_metadata_pdf_recovers_real_text():
    ex = extract(PDF / "sf_unreadablemetadata.pdf", "pdf")
    assert "Potentiometer" in ex.markdown
    assert ex.page_count and ex.sections[0].page == 1


@pytest.mark.corpus
def test_corrupted_zen_of_python():
    ex = extract(PDF / "pm_zen_of_python_corrupted.pdf", "pdf")
    assert "Beautiful is better than ugly." in ex.markdown


@pytest.mark.corpus
# The in-page limit is a SIGALRM; when it lands inside a GC finalizer of some
# other test's leftovers, Python reports "Exception ignored in ..." and the
# (repeating) alarm fires again: expected, hence the filter.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_pdfminer_fallback_honours_time_limit():
    # 619 pages cannot be parsed by pdfminer in 0.2 s: partial result or clear error
    try:
        ex = extract_pdf_pdfminer(PDF / "un_DA-619p.pdf", time_limit_s=0.2)
    except ExtractionError as exc:
        assert "too long" in str(exc)
    else:
        assert ex.page_count < 619
        assert any("too long" in w for w in ex.warnings)


def test_garbage_pdf_fails_cleanly(tmp_path: Path):
    p = tmp_path / "x.pdf"
    p.write_bytes(b"%PDF-1.7\n" + os.urandom(5000))
    with pytest.raises(ExtractionError) as ei:
        extract_pdf(p)
    assert "damaged" in str(ei.value) or "no extractable text" in str(ei.value)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(fixture_path("report.pdf"), id="generated"),
        pytest.param(PDF / "pm_naacl06-shinyama.pdf", marks=pytest.mark.corpus, id="corpus"),
    ],
)
def test_truncated_pdf_fails_or_recovers(tmp_path: Path, source: Path):
    data = source.read_bytes()
    p = tmp_path / "cut.pdf"
    p.write_bytes(data[: len(data) // 2])
    try:
        ex = extract(p, "pdf")
    except ExtractionError as exc:
        assert "damaged" in str(exc) or "no extractable text" in str(exc)
    else:
        assert ex.word_count > 0


def test_a_bookmark_printed_with_other_punctuation_is_found_where_it_is_printed():
    page = "reasons for checking the globs first. 2.13. Non-regular files Sometimes it is"
    flat = page.replace("\n", " ")
    # the outline says "Nonregular": not found, its section would start at the page's top
    at = _find_title(flat, flat.lower(), "2.13. Nonregular files", 0)
    assert at == page.index("2.13.")
    assert _find_title(flat, flat.lower(), "2.14. Content types", 0) == -1
    assert _find_title(flat, flat.lower(), "Globs", 0) == page.index("globs")  # as before
