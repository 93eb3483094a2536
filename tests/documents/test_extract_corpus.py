"""Every corpus file ends `ready` (non-trivial text) or `failed` with a clear message.

Runs through the real pipeline entry points: sniff, then the isolated
extractor (worker process, time limit), so a hang or crash would show here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from draftsmith.documents.extract import Extraction, ExtractionError, extract_isolated
from draftsmith.documents.sniff import SniffError, detect_type
from draftsmith.text.words import word_count
from tests.corpus import CORPUS, corpus_files

pytestmark = pytest.mark.corpus


# file -> expected failure message fragment (everything else must be ready)
EXPECTED_FAILURES = {
    "pdf/plumb_empty.pdf": "empty",
    "pdf/plumb_password-example.pdf": "password",
    "pdf/pypdf_crazyones-encrypted-256.pdf": "password",
    "pdf/sf_libreoffice-writer-password.pdf": "password",
    "pdf/dl_ocr_test.pdf": "no extractable text",
    "pdf/un_loremipsum-flat.pdf": "no extractable text",
    "pdf/dl_nemotron_multipage.pdf": "no extractable text",
    "pdf/pm_pdf-with-jbig2.pdf": "no extractable text",
    "pdf/sf_imagemagick-CCITTFaxDecode.pdf": "no extractable text",
    "docx/pydocx_having-images.docx": "no text",
}

# Leftovers that must never reach users: raw PDFium markers, CRs, ligatures.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x02\r\ufffe\uffff\ufb00-\ufb06]")


def _rel(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


def _looks_user_facing(msg: str) -> bool:
    return (
        bool(msg)
        and msg[0].isupper()
        and msg.rstrip().endswith((".", ")", "?"))
        and "Traceback" not in msg
        and "Error:" not in msg
        and len(msg) < 300
    )


@pytest.mark.parametrize("path", corpus_files(), ids=_rel)
def test_every_corpus_file_ready_or_clear_failure(path: Path):
    rel = _rel(path)
    try:
        dt = detect_type(path)
        ex = extract_isolated(path, dt.kind, dt.encoding, timeout_s=120)
    except (SniffError, ExtractionError) as exc:
        msg = str(exc)
        assert _looks_user_facing(msg), f"{rel}: unclear message {msg!r}"
        assert rel in EXPECTED_FAILURES, f"{rel} failed unexpectedly: {msg}"
        assert EXPECTED_FAILURES[rel] in msg.lower(), f"{rel}: {msg!r}"
        return
    assert rel not in EXPECTED_FAILURES, f"{rel} should have failed ({EXPECTED_FAILURES.get(rel)})"
    assert isinstance(ex, Extraction)
    assert ex.word_count >= 1 and ex.markdown.strip()
    assert ex.word_count == word_count(ex.markdown)  # the one rule, every format
    assert ex.sections, rel
    prev_end = 0
    for s in ex.sections:
        assert 0 <= s.start < s.end <= len(ex.markdown)
        assert s.start >= prev_end, "sections must be ordered and disjoint"
        assert s.text == ex.markdown[s.start : s.end]
        prev_end = s.end
    if dt.kind == "pdf":
        assert ex.page_count and ex.page_count >= 1
        assert all(s.page is not None and 1 <= s.page <= ex.page_count for s in ex.sections)
        pages = [s.page for s in ex.sections]
        assert pages == sorted(pages)
        assert not _BAD_CHARS.search(ex.markdown), f"{rel}: control/ligature chars left"
        assert "\n\n\n" not in ex.markdown
    else:
        assert ex.page_count is None
        assert all(s.page is None for s in ex.sections)


def test_substantial_documents_have_substantial_text():
    """Non-trivial text, not just 'something': a floor per known document."""
    floors = {
        "pdf/un_DA-619p.pdf": 250_000,
        "pdf/pm_i1040nr.pdf": 40_000,
        "pdf/sf_GeoTopo-komprimiert.pdf": 25_000,
        "pdf/dl_normal_4pages.pdf": 1_000,  # Korean
        "docx/un_handbook-872p.docx": 100_000,
        "docx/dl_docx_rich_tables_01.docx": 1_400,
        "html/un_example-10k.html": 25_000,
        "html/dl_wiki_duck.html": 3_000,
        "md/pypdf_changelog-v1.md": 4_000,
    }
    for rel, floor in floors.items():
        p = CORPUS / rel
        dt = detect_type(p)
        ex = extract_isolated(p, dt.kind, dt.encoding)
        assert ex.word_count >= floor, f"{rel}: {ex.word_count} < {floor}"
