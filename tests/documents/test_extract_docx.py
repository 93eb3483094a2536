"""DOCX extraction: body order, headings, lists, tables, content controls, bad tables."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest

from draftsmith.documents.extract import ExtractionError, extract, extract_isolated
from tests.corpus import CORPUS
from tests.fixtures.make import fixture_path
from tests.fixtures.prose import LIGHTHOUSES

DOCX = CORPUS / "docx"


def _rewrite_document_xml(src: Path, dst: Path, edit) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = edit(data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)


def _naive_python_docx_words(path: Path) -> int:
    """What a straightforward python-docx walk finds (skips content controls)."""
    d = docx.Document(str(path))
    n = 0
    for block in d.iter_inner_content():
        if hasattr(block, "rows"):
            try:
                for row in block.rows:
                    for cell in row.cells:
                        n += len(cell.text.split())
            except ValueError:
                pass
        else:
            n += len(block.text.split())
    return n


@pytest.mark.corpus
def test_content_controls_are_not_lost():
    path = DOCX / "dl_docx_rich_tables_01.docx"
    ex = extract(path, "docx")
    assert ex.word_count >= 1400
    assert _naive_python_docx_words(path) < 300  # what we would get without walking w:sdt
    assert "Phase 1" in ex.markdown
    assert "| Feature | Action Needed | Comment/Links |" in ex.markdown  # a table inside an sdt


# A table python-docx cannot lay out (a vertical merge over a row with a missing cell).
GRID_OFFSET_TABLE = (
    "<w:tbl><w:tblGrid><w:gridCol w:w='4320'/><w:gridCol w:w='4320'/></w:tblGrid>"
    "<w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:tcPr><w:vMerge w:val='restart'/></w:tcPr><w:p><w:r><w:t>Merged "
    "B1-B3</w:t></w:r></w:p></w:tc></w:tr>"
    "<w:tr><w:tc><w:p><w:r/></w:p></w:tc></w:tr>"
    "<w:tr><w:tc><w:p><w:r><w:t>C</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:tcPr><w:vMerge w:val='continue'/></w:tcPr><w:p/></w:tc></w:tr></w:tbl>"
)


def _grid_offset_docx(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("Placeholder.")
    base = tmp_path / "base.docx"
    d.save(str(base))
    src = tmp_path / "grid_offset.docx"
    _rewrite_document_xml(
        base,
        src,
        lambda x: x.replace("<w:p><w:r><w:t>Placeholder.</w:t></w:r></w:p>", GRID_OFFSET_TABLE, 1),
    )
    return src


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(None, id="generated"),
        pytest.param(DOCX / "un_grid_offset_error.docx", marks=pytest.mark.corpus, id="corpus"),
    ],
)
def test_grid_offset_table_keeps_its_text_and_the_rest(tmp_path: Path, source: Path | None):
    src = source or _grid_offset_docx(tmp_path)
    ex = extract(src, "docx")
    assert "Merged B1-B3" in ex.markdown and "A" in ex.markdown and "C" in ex.markdown

    # Same broken table, with content before and after it.
    before = "<w:p><w:r><w:t>Text before the bad table.</w:t></w:r></w:p>"
    after = (
        "<w:p><w:r><w:t>Text after the bad table survives.</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>k1</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>v1</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "<w:p><w:r><w:t>The very end.</w:t></w:r></w:p>"
    )

    def edit(xml: str) -> str:
        xml = xml.replace("<w:body>", "<w:body>" + before, 1)
        return xml.replace("<w:sectPr", after + "<w:sectPr", 1)

    dst = tmp_path / "grid.docx"
    _rewrite_document_xml(src, dst, edit)
    # python-docx itself cannot lay this table out
    with pytest.raises(ValueError, match="grid_offset"):
        for row in docx.Document(str(dst)).tables[0].rows:
            _ = row.cells
    ex = extract(dst, "docx")
    md = ex.markdown
    order = [
        md.index(s)
        for s in (
            "Text before",
            "Merged B1-B3",
            "Text after the bad table survives.",
            "| k1 | v1 |",
            "The very end.",
        )
    ]
    assert order == sorted(order)


def _build_docx(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_heading("Report title", level=0)  # Title style
    d.add_heading("Introduction", level=1)
    d.add_paragraph("First paragraph of the introduction.")
    d.add_paragraph("Bullet one", style="List Bullet")
    d.add_paragraph("Bullet two", style="List Bullet")
    d.add_paragraph("Step one", style="List Number")
    d.add_paragraph("Step two", style="List Number")
    d.add_heading("Details", level=2)
    t = d.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("Name", "Value"), ("alpha", "1"), ("pipe|char", "2")]):
        t.cell(r, 0).text = a
        t.cell(r, 1).text = b
    d.add_paragraph("Closing words.")
    d.sections[0].header.paragraphs[0].text = "ACME Confidential"
    p = tmp_path / "built.docx"
    d.save(str(p))
    return p


def test_headings_lists_tables_in_body_order(tmp_path: Path):
    ex = extract(_build_docx(tmp_path), "docx")
    md = ex.markdown
    assert "# Report title" in md
    assert "# Introduction" in md
    assert "## Details" in md
    assert "- Bullet one\n- Bullet two" in md
    assert "1. Step one\n1. Step two" in md
    assert "| Name | Value |\n|---|---|\n| alpha | 1 |\n| pipe\\|char | 2 |" in md
    order = [
        md.index(s)
        for s in (
            "Report title",
            "Introduction",
            "First paragraph",
            "Bullet one",
            "Step two",
            "Details",
            "| Name",
            "Closing words.",
        )
    ]
    assert order == sorted(order)
    # sections split at headings, no pages for DOCX
    assert [s.heading for s in ex.sections][:3] == ["Report title", "Introduction", "Details"]
    assert ex.page_count is None and all(s.page is None for s in ex.sections)
    assert md.count("ACME Confidential") == 1  # header appended once


def test_block_and_inline_content_controls_and_textboxes(tmp_path: Path):
    src = _build_docx(tmp_path)
    block_sdt = (
        "<w:sdt><w:sdtPr><w:alias w:val='x'/></w:sdtPr><w:sdtContent>"
        "<w:p><w:r><w:t>Inside a block content control.</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
    )
    inline_sdt = (
        "<w:p><w:r><w:t xml:space='preserve'>Signed by </w:t></w:r>"
        "<w:sdt><w:sdtContent><w:r><w:t>Jane Inline</w:t></w:r></w:sdtContent></w:sdt>"
        "<w:hyperlink><w:r><w:t xml:space='preserve'> via link</w:t></w:r></w:hyperlink>"
        "<w:del><w:r><w:delText>DELETED</w:delText></w:r></w:del></w:p>"
    )
    textbox = (
        '<w:p><w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        "<mc:Choice Requires='wps'><w:drawing><w:txbxContent><w:p><w:r><w:t>Boxed "
        "text</w:t></w:r></w:p>"
        "</w:txbxContent></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Boxed "
        "text</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r></w:p>"
    )
    dst = tmp_path / "sdt.docx"
    _rewrite_document_xml(
        src,
        dst,
        lambda x: x.replace("<w:sectPr", block_sdt + inline_sdt + textbox + "<w:sectPr", 1),
    )
    md = extract(dst, "docx").markdown
    assert "Inside a block content control." in md
    assert "Signed by Jane Inline via link" in md
    assert "DELETED" not in md
    assert md.count("Boxed text") == 1  # mc:Fallback not duplicated


def test_generated_docx_structure():
    ex = extract(fixture_path("lighthouses.docx"), "docx")
    md = ex.markdown
    assert md.startswith(f"# {LIGHTHOUSES.title}\n")
    headings = [h for h, _ in LIGHTHOUSES.sections()[:5]]
    assert [s.heading for s in ex.sections] == [LIGHTHOUSES.title, *headings, "Headers and footers"]
    assert (
        "- Stone towers with coal fires\n- Timber towers with candles\n- Lightships at anchor" in md
    )
    assert "1. Trim the wick\n1. Polish the lens\n1. Wind the clockwork" in md
    assert "| Light | Range | Period |\n|---|---|---|\n| Fixed white | 12 miles | steady |" in md
    assert md.count("Coastal Heritage Society") == 1 and md.count("Printed for members only") == 1
    assert md.index("Coastal Heritage Society") > md.index(
        LIGHTHOUSES.sections()[4][1][-1]
    )  # after the body
    assert 1400 < ex.word_count < 1800 and ex.page_count is None


def test_generated_pictures_only_docx_says_no_text():
    with pytest.raises(ExtractionError) as ei:
        extract(fixture_path("pictures-only.docx"), "docx")
    assert "no text" in str(ei.value)


@pytest.mark.corpus
def test_corpus_docx_structure():
    ex = extract(DOCX / "dl_word_sample.docx", "docx")
    assert "# Swimming in the lake" in ex.markdown
    assert "- You can relax and look around" in ex.markdown
    assert "| Leaves | Ash, Elm, Maple | 50 |" in ex.markdown
    hf = extract(DOCX / "un_docx-hdrftr.docx", "docx")
    assert hf.markdown.startswith("Main document")
    assert hf.markdown.count("First header para") == 1
    hb = extract_isolated(DOCX / "un_handbook-872p.docx", "docx")
    assert hb.word_count > 100_000
    assert len(hb.sections) > 50 and all(s.heading for s in hb.sections[1:])


@pytest.mark.corpus
def test_pictures_only_docx_says_no_text():
    with pytest.raises(ExtractionError) as ei:
        extract(DOCX / "pydocx_having-images.docx", "docx")
    assert "no text" in str(ei.value)


def test_broken_docx_clear_error(tmp_path: Path):
    p = tmp_path / "x.docx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document><w:body><w:p>")  # truncated XML
    with pytest.raises(ExtractionError) as ei:
        extract(p, "docx")
    assert "Word document" in str(ei.value)


def test_raw_fallback_when_python_docx_refuses(tmp_path: Path):
    """A package python-docx rejects (no relationships) still yields its text."""
    p = tmp_path / "x.docx"
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(
            "word/document.xml",
            f'<w:document xmlns:w="{w}"><w:body><w:p><w:r><w:t>Recovered '
            "anyway.</w:t></w:r></w:p></w:body></w:document>",
        )
    assert extract(p, "docx").markdown == "Recovered anyway."


def test_xml_entities_not_expanded(tmp_path: Path):
    """No external entity resolution (XXE) while reading the XML."""
    p = tmp_path / "x.docx"
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<w:document xmlns:w="{w}"><w:body><w:p><w:r><w:t>a &x; '
        "b</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", xml)
    try:
        md = extract(p, "docx").markdown
    except ExtractionError:
        return
    assert "TOPSECRET" not in md
    assert re.search(r"\ba\b", md)
