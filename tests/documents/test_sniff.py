"""Content-based type detection (never the file name)."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from draftsmith.documents.sniff import (
    CONTENT_TYPES,
    DetectedType,
    EmptyFile,
    UnsupportedType,
    detect_type,
)
from tests.corpus import corpus_files
from tests.fixtures.make import FIXTURES, fixture_path

EXPECTED_KIND = {"pdf": "pdf", "docx": "docx", "html": "html", "md": "markdown"}


GENERATED_KIND = {
    name: {"pdf": "pdf", "docx": "docx", "html": "html", "md": "markdown", "txt": "text"}[
        name.rsplit(".", 1)[1]
    ]
    for name in FIXTURES
}


def _copy_as(src: Path, tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    return dst


def _detected_from_content_not_name(path: Path, kind: str, tmp_path: Path) -> None:
    # a misleading name and no extension: only the bytes can decide
    renamed = _copy_as(path, tmp_path, "upload.bin")
    wrong = _copy_as(path, tmp_path, "report.pdf" if kind != "pdf" else "notes.txt")
    for p in (path, renamed, wrong):
        dt = detect_type(p)
        assert isinstance(dt, DetectedType)
        assert dt.kind == kind, p
        assert dt.content_type == CONTENT_TYPES[dt.kind]
    if dt.kind in ("html", "markdown", "text"):
        assert dt.encoding


@pytest.mark.parametrize("name", FIXTURES)
def test_generated_files_detected_from_content_not_name(name: str, tmp_path: Path):
    _detected_from_content_not_name(fixture_path(name), GENERATED_KIND[name], tmp_path)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "path", corpus_files(*EXPECTED_KIND), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_corpus_files_detected_from_content_not_name(path: Path, tmp_path: Path):
    if path.stat().st_size == 0:
        with pytest.raises(EmptyFile):
            detect_type(path)
        return
    _detected_from_content_not_name(path, EXPECTED_KIND[path.parent.name], tmp_path)


def test_plain_text_is_text(tmp_path: Path):
    p = tmp_path / "a.pdf"
    p.write_text(
        "Dear team,\n\nThe quarterly numbers look fine. See you on Monday.\n", encoding="utf-8"
    )
    dt = detect_type(p)
    assert (dt.kind, dt.content_type, dt.encoding) == ("text", "text/plain", "utf-8")


def test_markdown_signals(tmp_path: Path):
    p = tmp_path / "x.txt"
    p.write_text(
        "# Title\n\nSome text with a [link](https://example.org).\n\n- one\n- two\n\n```py\nx = "
        "1\n```\n"
    )
    assert detect_type(p).kind == "markdown"


def test_html_fragment_by_tag_density(tmp_path: Path):
    p = tmp_path / "x.md"
    p.write_text("<div><p>Hello <b>world</b></p><p>Second</p><ul><li>a</li><li>b</li></ul></div>")
    assert detect_type(p).kind == "html"


def test_pdf_signature_after_junk_prefix(tmp_path: Path):
    p = tmp_path / "x"
    p.write_bytes(
        b"\r\n" * 100 + b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    )
    assert detect_type(p).kind == "pdf"
    mention = tmp_path / "notes.md"
    mention.write_text(
        "# PDF notes\n\nEvery file starts with `%PDF-1.7`, see [spec](https://example.org).\n"
    )
    assert detect_type(mention).kind == "markdown"
    far = tmp_path / "far"
    far.write_bytes(b"x" * 2000 + b"%PDF-1.4\n")
    assert detect_type(far).kind == "text"  # signature outside the first 1024 bytes


def test_empty_file(tmp_path: Path):
    p = tmp_path / "empty.pdf"
    p.write_bytes(b"")
    with pytest.raises(EmptyFile) as ei:
        detect_type(p)
    assert "empty" in str(ei.value).lower()


def test_random_bytes_named_pdf(tmp_path: Path):
    p = tmp_path / "scan.pdf"
    p.write_bytes(os.urandom(200_000))
    with pytest.raises(UnsupportedType) as ei:
        detect_type(p)
    assert str(ei.value)


def test_random_bytes_without_nul_are_rejected(tmp_path: Path):
    data = bytes(b for b in os.urandom(50_000) if b != 0)
    p = tmp_path / "x.txt"
    p.write_bytes(data)
    with pytest.raises(UnsupportedType):
        detect_type(p)


@pytest.mark.parametrize(
    "header",
    [
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 40
        + b"PE\x00\x00",
    ],
    ids=["elf", "mz"],
)
def test_executables_rejected(tmp_path: Path, header: bytes):
    p = tmp_path / "document.docx"
    p.write_bytes(header + os.urandom(4096))
    with pytest.raises(UnsupportedType) as ei:
        detect_type(p)
    assert "program" in str(ei.value).lower()


def test_svg_rejected(tmp_path: Path):
    p = tmp_path / "doc.html"
    p.write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><text>Hi</text></svg>'
    )
    with pytest.raises(UnsupportedType) as ei:
        detect_type(p)
    assert "image" in str(ei.value).lower()


def test_image_rejected(tmp_path: Path):
    p = tmp_path / "doc.pdf"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(500))
    with pytest.raises(UnsupportedType) as ei:
        detect_type(p)
    assert "image" in str(ei.value).lower()


def test_text_that_starts_with_mz_is_still_text(tmp_path: Path):
    p = tmp_path / "x.txt"
    p.write_text("MZ is the signature of DOS executables, named after Mark Zbikowski.\n")
    assert detect_type(p).kind == "text"


def _docx_like(
    extra: dict[str, bytes] | None = None, *, with_document=True, compression=zipfile.ZIP_DEFLATED
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        if with_document:
            z.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def test_zip_bomb_huge_compressible_entry_rejected(tmp_path: Path):
    # 64 MB of zeros deflates to ~64 KB: ratio ~1000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        with z.open("word/media/padding.bin", "w", force_zip64=True) as f:
            block = b"\x00" * (1 << 20)
            for _ in range(64):
                f.write(block)
    p = tmp_path / "report.docx"
    p.write_bytes(buf.getvalue())
    assert p.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(UnsupportedType) as ei:
        detect_type(p)
    assert "zip bomb" in str(ei.value).lower()


def test_zip_bomb_thousands_of_entries_rejected(tmp_path: Path):
    extra = {f"word/media/i{i}.bin": b"" for i in range(6000)}
    p = tmp_path / "report.docx"
    p.write_bytes(_docx_like(extra, compression=zipfile.ZIP_STORED))
    with pytest.raises(UnsupportedType) as ei:
        detect_type(p)
    assert "zip bomb" in str(ei.value).lower()


def test_zip_without_word_document_rejected(tmp_path: Path):
    p = tmp_path / "report.docx"
    p.write_bytes(_docx_like({"readme.txt": b"hello"}, with_document=False))
    with pytest.raises(UnsupportedType) as ei:
        detect_type(p)
    assert "zip" in str(ei.value).lower()


def test_minimal_docx_accepted(tmp_path: Path):
    p = tmp_path / "x.bin"
    p.write_bytes(_docx_like())
    assert detect_type(p).kind == "docx"


def test_damaged_zip_rejected(tmp_path: Path):
    p = tmp_path / "x.docx"
    p.write_bytes(b"PK\x03\x04" + os.urandom(300))
    with pytest.raises(UnsupportedType):
        detect_type(p)


def test_utf16_with_bom_decoded(tmp_path: Path):
    p = tmp_path / "x.txt"
    p.write_bytes("Grüße aus Köln, naïve café.\nZweite Zeile.\n".encode("utf-16"))
    dt = detect_type(p)
    assert dt.kind == "text"
    assert dt.encoding.startswith("utf-16")


def test_utf16le_without_bom_decoded(tmp_path: Path):
    p = tmp_path / "x.txt"
    p.write_bytes(("Plain text in UTF-16 without a byte order mark. " * 20).encode("utf-16-le"))
    dt = detect_type(p)
    assert dt.kind == "text"
    assert dt.encoding == "utf-16-le"


def test_latin1_text_decoded(tmp_path: Path):
    p = tmp_path / "x.txt"
    text = (
        "Le cœur de l'été: déjà vu, garçon, façade, naïveté. Ça coûte très cher à Genève.\n"
        "Über die Brücke gehen wir später; Größe und Maß sind schön.\n"
    ) * 5
    p.write_bytes(text.replace("œ", "oe").encode("latin-1"))
    dt = detect_type(p)
    assert dt.kind == "text"
    assert dt.encoding and dt.encoding.replace("_", "-") not in ("utf-8", "ascii")
    assert p.read_bytes().decode(dt.encoding) == text.replace("œ", "oe")


def test_html_declared_charset(tmp_path: Path):
    p = tmp_path / "x.txt"
    html = (
        "<!DOCTYPE html><html><head><meta "
        'charset="windows-1252"><title>t</title></head><body><p>Café – déjà</p></body></html>'
    )
    p.write_bytes(html.encode("cp1252"))
    dt = detect_type(p)
    assert dt.kind == "html"
    assert p.read_bytes().decode(dt.encoding) == html


def test_only_a_prefix_is_read(tmp_path: Path, monkeypatch):
    """A huge text file is classified from a bounded prefix."""
    import draftsmith.documents.sniff as sniff

    reads: list[int] = []
    real = sniff._read_prefix

    def spy(path, n):
        reads.append(n)
        return real(path, n)

    monkeypatch.setattr(sniff, "_read_prefix", spy)
    p = tmp_path / "big.txt"
    with open(p, "wb") as f:
        line = b"All work and no play makes Jack a dull boy.\n"
        for _ in range(300_000):  # ~13 MB
            f.write(line)
    assert detect_type(p).kind == "text"
    assert reads and max(reads) <= 1024 * 1024
