"""Where a passage is: PDF page labels and heading paths, for every format, kept per chunk."""

from __future__ import annotations

from pathlib import Path

import pytest

from draftsmith.documents.chunking import chunk_extraction
from draftsmith.documents.extract import Extraction, extract, extract_isolated
from draftsmith.documents.extract.pdf import assemble_pdf, read_pdf_half
from draftsmith.documents.locations import Location, locate, stored_sections
from tests.fixtures.make import LABELLED_PAGES, fixture_path


def _paths(ex: Extraction) -> dict[str, str | None]:
    """heading -> path of each section with a heading."""
    return {s.heading: s.path for s in ex.sections if s.heading}


def _small_chunks(ex: Extraction):
    return chunk_extraction(ex, min_words=5, target_words=10, max_words=40, overlap_words=0)


def test_pdf_page_labels_differ_from_physical_numbers():
    ex = extract(fixture_path("labelled.pdf"), "pdf")
    assert ex.page_labels == [label for label, _ in LABELLED_PAGES] == ["i", "ii", "1", "2", "3"]
    assert [ex.page_label(p) for p in (1, 2, 3, 5)] == ["i", "ii", "1", "3"]
    chunks = _small_chunks(ex)
    linux = next(c for c in chunks if "On Linux, install" in c.text)
    assert (linux.page, linux.page_label) == (3, "1")
    preface = next(c for c in chunks if "lantern clock is installed" in c.text)
    assert (preface.page, preface.page_label) == (1, "i")
    usage = ex.markdown.index("Start the lantern clock")
    assert locate(stored_sections(ex), usage) == Location(5, "3", "Usage")


def test_pdf_bookmarks_nest_into_a_path():
    ex = extract(fixture_path("labelled.pdf"), "pdf")
    assert _paths(ex) == {
        "Preface": "Preface",
        "Conventions": "Conventions",
        "Installation": "Installation",
        "Linux": "Installation › Linux",
        "macOS": "Installation › macOS",
        "Usage": "Usage",
    }
    macos = next(c for c in _small_chunks(ex) if "drag the lantern application" in c.text)
    assert (macos.section, macos.page_label) == ("Installation › macOS", "2")


def test_pdf_without_page_labels_uses_the_page_number():
    ex = extract(fixture_path("report.pdf"), "pdf")
    assert ex.page_labels is None
    chunks = chunk_extraction(ex)
    assert chunks and all(c.page_label == str(c.page) for c in chunks)


def test_page_labels_survive_the_worker_process_and_the_two_halves():
    path = fixture_path("labelled.pdf")
    isolated = extract_isolated(path, "pdf", None, timeout_s=60, memory_mb=1024)
    assert isolated.page_labels == ["i", "ii", "1", "2", "3"]
    assert _paths(isolated)["Linux"] == "Installation › Linux"
    long = fixture_path("long.pdf")
    head, tail = read_pdf_half(long, 0), read_pdf_half(long, 1)
    assert head is not None and tail is not None
    n, outline, labels, first, date = head
    assert date == "2024-01-02" and tail[4] is None  # fixtures/make.py's creation date
    assert tail[2] is None  # labels come with the first half
    whole = assemble_pdf(n, outline, first + tail[3], labels)
    assert whole.page_count == n and whole.page_label(n) == str(n)


def test_markdown_heading_paths_drop_the_document_title(tmp_path: Path):
    md = tmp_path / "guide.md"
    md.write_text(
        "# Lantern Guide\n\nIntro text here.\n\n## Installation\n\nGeneral steps.\n\n"
        "### Linux\n\nUse the package manager.\n\n```sh\n# not a heading\napt install x\n```\n\n"
        "### macOS\n\nDrag the app.\n\n## Usage\n\nRun it.\n",
        encoding="utf-8",
    )
    ex = extract(md, "markdown")
    assert _paths(ex) == {
        "Lantern Guide": "Lantern Guide",
        "Installation": "Installation",
        "Linux": "Installation › Linux",
        "macOS": "Installation › macOS",
        "Usage": "Usage",
    }
    # a chunk knows where it starts; a quote is placed by the stored sections
    quote = ex.markdown.index("Use the package manager.")
    assert locate(stored_sections(ex), quote) == Location(None, None, "Installation › Linux")
    assert locate(stored_sections(ex), 0) == Location(None, None, "Lantern Guide")


def test_html_heading_paths(tmp_path: Path):
    page = tmp_path / "guide.html"
    page.write_text(
        "<html><body><main><h1>Guide</h1><p>Intro paragraph for the guide.</p>"
        "<h2>Install</h2><p>General install words.</p><h3>Linux</h3><p>Linux install words.</p>"
        "<h2>Use</h2><p>Usage words here.</p><h1>Appendix</h1><p>Extra words.</p>"
        "</main></body></html>",
        encoding="utf-8",
    )
    paths = _paths(extract(page, "html"))
    assert paths["Linux"] == "Guide › Install › Linux"  # two level-1 headings: no title to drop
    assert paths["Use"] == "Guide › Use" and paths["Appendix"] == "Appendix"


def test_docx_heading_paths(tmp_path: Path):
    from docx import Document

    doc = Document()
    doc.add_heading("Install", level=1)
    doc.add_paragraph("General install words for everyone.")
    doc.add_heading("Linux", level=2)
    doc.add_paragraph("Linux install words for the penguin.")
    doc.add_heading("Use", level=1)
    doc.add_paragraph("Usage words here.")
    path = tmp_path / "guide.docx"
    doc.save(str(path))
    ex = extract(path, "docx")
    assert _paths(ex) == {"Install": "Install", "Linux": "Install › Linux", "Use": "Use"}
    linux = next(c for c in _small_chunks(ex) if "penguin" in c.text)
    assert linux.section == "Install › Linux"


@pytest.mark.parametrize("name", ["wrapped.txt", "notes-latin1.txt"])
def test_plain_text_has_no_section_or_page(name: str):
    ex = extract(fixture_path(name), "text")
    assert all(c.section is None and c.page_label is None for c in chunk_extraction(ex))


def test_a_chunk_opening_with_a_bare_heading_takes_the_section_of_its_text(tmp_path: Path):
    md = tmp_path / "short.md"
    md.write_text(
        "# Guide\n\n## Install\n\n### Linux\n\n" + "Linux words go here in plenty. " * 30,
        encoding="utf-8",
    )
    (chunk,) = chunk_extraction(extract(md, "markdown"))
    assert chunk.heading == "Guide" and chunk.section == "Install › Linux"


def test_long_or_odd_page_labels_fit_the_column(tmp_path: Path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(fixture_path("labelled.pdf")))
    writer.set_page_label(
        0, len(LABELLED_PAGES) - 1, style="/D", prefix="Annex\x07\n " * 9, start=1
    )
    path = tmp_path / "long-labels.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    labels = extract(path, "pdf").page_labels
    assert labels and len(labels[0]) == 40 and labels[0].startswith("Annex Annex ")
    assert all(label.isprintable() for label in labels)
