"""Markdown (kept as is, sections at headings) and plain text (charset detected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from draftsmith.documents.extract import ExtractionError, extract, extract_isolated
from draftsmith.documents.sniff import detect_type
from tests.corpus import CORPUS
from tests.fixtures.make import BOM_TEXT, LATIN1_TEXT, fixture_path

MD = """Preamble line.

# Title

Intro text.

## Part A

```python
# not a heading
x = 1
```

Setext heading
--------------

Body of setext section.

### Part C ###

Last words.
"""


def test_markdown_kept_and_sectioned(tmp_path: Path):
    p = tmp_path / "doc.md"
    p.write_text(MD, encoding="utf-8")
    ex = extract(p, "markdown", "utf-8")
    assert ex.markdown == MD  # as is
    assert [s.heading for s in ex.sections] == [None, "Title", "Part A", "Setext heading", "Part C"]
    for s in ex.sections:
        assert s.text == ex.markdown[s.start : s.end] and s.text == s.text.strip()
    assert "# not a heading" in ex.sections[2].text
    assert ex.sections[3].text.startswith("Setext heading\n----")
    assert ex.word_count == 23  # Markdown marks (#, ```, ---, =) are not words


def test_markdown_crlf_and_bom(tmp_path: Path):
    p = tmp_path / "doc.md"
    p.write_bytes(b"\xef\xbb\xbf# Hi\r\n\r\ntext\r\n")
    ex = extract(p, "markdown", "utf-8-sig")
    assert ex.markdown == "# Hi\n\ntext\n"
    assert [s.heading for s in ex.sections] == ["Hi"]


@pytest.mark.parametrize(
    "p",
    [
        pytest.param(fixture_path("changelog.md"), id="generated"),
        pytest.param(
            CORPUS / "md" / "pypdf_changelog-v1.md", marks=pytest.mark.corpus, id="corpus"
        ),
    ],
)
def test_many_markdown_sections(p: Path):
    dt = detect_type(p)
    ex = extract_isolated(p, dt.kind, dt.encoding)
    assert ex.markdown == p.read_text("utf-8").replace("\r\n", "\n")
    assert len(ex.sections) > 50
    assert all(s.heading for s in ex.sections[1:])


def test_generated_markdown_with_code_fences():
    p = fixture_path("tide-pools.md")
    dt = detect_type(p)
    ex = extract(p, dt.kind, dt.encoding)
    assert dt.kind == "markdown" and ex.markdown == p.read_text("utf-8")
    assert "# a comment, not a heading" not in [s.heading for s in ex.sections]
    assert len(ex.sections) == 6 and 1400 < ex.word_count < 1700


@pytest.mark.parametrize(
    "name,text", [("diary-bom.txt", BOM_TEXT), ("notes-latin1.txt", LATIN1_TEXT)]
)
def test_generated_text_files_decode(name: str, text: str):
    p = fixture_path(name)
    dt = detect_type(p)
    assert dt.kind == "text"
    assert extract_isolated(p, dt.kind, dt.encoding).markdown == text


def test_plain_text_utf16(tmp_path: Path):
    text = "Grüße aus Köln.\n\nZweiter Absatz — mit Gedankenstrich.\n"
    p = tmp_path / "x.txt"
    p.write_bytes(text.encode("utf-16"))
    dt = detect_type(p)
    ex = extract(p, dt.kind, dt.encoding)
    assert ex.markdown == text
    assert len(ex.sections) == 1  # small: one section


def test_plain_text_latin1_without_declared_encoding(tmp_path: Path):
    text = "Ça coûte très cher à Genève; déjà vu. Über die Brücke, schön.\n" * 10
    p = tmp_path / "x.txt"
    p.write_bytes(text.encode("latin-1"))
    ex = extract(p, "text")  # encoding detected inside
    assert ex.markdown == text
    dt = detect_type(p)
    assert extract(p, dt.kind, dt.encoding).markdown == text


def test_plain_text_sections_are_grouped_blocks(tmp_path: Path):
    para = " ".join(["word"] * 300)
    text = "\n\n".join(f"Block {i}. {para}" for i in range(20))
    p = tmp_path / "x.txt"
    p.write_text(text)
    ex = extract(p, "text", "utf-8")
    assert 2 < len(ex.sections) < 20
    for s in ex.sections:
        assert s.text.startswith("Block ") and s.text == ex.markdown[s.start : s.end]
    assert ex.sections[0].start == 0 and ex.sections[-1].end == len(text)


def test_whitespace_only_text_is_an_error(tmp_path: Path):
    p = tmp_path / "x.txt"
    p.write_text("   \n\n\t  \n")
    with pytest.raises(ExtractionError):
        extract(p, "text", "utf-8")


def test_unknown_kind_is_an_extraction_error(tmp_path: Path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"x")
    with pytest.raises(ExtractionError):
        extract(p, "spreadsheet")


def test_missing_file_is_an_extraction_error(tmp_path: Path):
    with pytest.raises(ExtractionError):
        extract(tmp_path / "gone.pdf", "pdf")


def test_markdown_headings_only_where_markdown_it_sees_them(tmp_path: Path):
    md = (
        "# Real\n\nText.\n\n~~~~\n```\n# inside a tilde fence\n```\n~~~~\n\n"
        "    # indented code\n\n> # quoted heading\n\n- # list heading\n\nEnd\n===\n"
    )
    p = tmp_path / "doc.md"
    p.write_text(md, encoding="utf-8")
    ex = extract(p, "markdown", "utf-8")
    assert [s.heading for s in ex.sections] == ["Real", "End"]
    assert "# inside a tilde fence" in ex.sections[0].text


def test_stored_encoding_is_used_not_redetected(tmp_path: Path):
    text = "Ça coûte très cher.\n"
    p = tmp_path / "x.txt"
    p.write_bytes(text.encode("cp1252"))
    # what upload stored decides, even where detection would choose otherwise
    assert extract(p, "text", "cp1252").markdown == text
    assert extract(p, "text", "cp1251").markdown == text.encode("cp1252").decode("cp1251")
    utf16 = tmp_path / "y.txt"
    utf16.write_bytes(text.encode("utf-16"))  # BOM: stored as "utf-16", which drops it
    assert extract(utf16, "text", detect_type(utf16).encoding).markdown == text
