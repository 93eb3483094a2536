"""A document's own publication date, found at extraction in each format's metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from draftsmith.documents.extract import extract, extract_isolated
from draftsmith.documents.extract.dates import normalise_date
from tests.fixtures.make import fixture_path

NEXT_YEAR = str(datetime.now(UTC).year + 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("D:20230401120000Z", "2023-04-01"),
        ("D:20230401120000+02'00'", "2023-04-01"),
        ("D:202304", "2023-04"),
        ("D:2023", "2023"),
        ("2023-04-01T12:00:00Z", "2023-04-01"),
        ("2023-04-01", "2023-04-01"),
        (" 2023/04/01 ", "2023-04-01"),
        ("2023-04", "2023-04"),
        ("1999", "1999"),
        (datetime(2023, 4, 1, 23, 59, tzinfo=UTC), "2023-04-01"),
        ("D:18991231000000Z", None),  # before 1900
        (f"{NEXT_YEAR}-01-01", None),  # in the future
        ((datetime.now(UTC) + timedelta(days=40)).strftime("D:%Y%m%d"), None),
        ("2023-13-01", None),
        ("2023-02-30", None),
        ("April 2023", None),
        ("", None),
        (None, None),
        (20230401, None),
    ],
)
def test_dates_are_normalised_and_nonsense_rejected(raw, expected):
    assert normalise_date(raw) == expected


def test_pdf_creation_date(tmp_path: Path):
    pdf = FPDF()
    pdf.set_creation_date(datetime(2023, 4, 1, 12, tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 6, "Kelp forests grow fastest in cold, nutrient-rich water.")
    path = tmp_path / "dated.pdf"
    pdf.output(str(path))
    assert extract(path, "pdf").date == "2023-04-01"


def test_pdf_date_survives_the_worker_and_the_split_into_halves():
    assert extract_isolated(fixture_path("report.pdf"), "pdf").date == "2024-01-02"
    # long.pdf is read in two halves by two workers: the date comes with the first
    assert extract_isolated(fixture_path("long.pdf"), "pdf").date == "2024-01-02"


def _docx(path: Path, created: datetime, modified: datetime) -> Path:
    d = docx.Document()
    d.add_paragraph("Lighthouses were lit with whale oil before kerosene.")
    d.core_properties.created = created
    d.core_properties.modified = modified
    d.save(str(path))
    return path


def test_docx_created_date_else_modified(tmp_path: Path):
    both = _docx(tmp_path / "a.docx", datetime(2021, 6, 5, 8), datetime(2022, 1, 1))
    assert extract(both, "docx").date == "2021-06-05"
    nonsense = _docx(tmp_path / "b.docx", datetime(1601, 1, 1), datetime(2022, 3, 4, 9))
    assert extract(nonsense, "docx").date == "2022-03-04"


def test_docx_keeping_python_docxs_template_stamp_has_no_date(tmp_path: Path):
    d = docx.Document()  # its template says created = modified = 2013-12-23T23:15:00Z
    d.add_paragraph("Lighthouses were lit with whale oil before kerosene.")
    d.save(str(tmp_path / "t.docx"))
    assert extract(tmp_path / "t.docx", "docx").date is None


def test_docx_without_core_properties_has_no_date(tmp_path: Path):
    import zipfile

    src = _docx(tmp_path / "a.docx", datetime(2021, 6, 5), datetime(2021, 6, 6))
    dst = tmp_path / "bare.docx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename != "docProps/core.xml":
                zout.writestr(item, zin.read(item.filename))
    ex = extract(dst, "docx")
    assert ex.date is None and "whale oil" in ex.markdown


_BODY = (
    "<article><header><h1>Tide pools</h1>{time}</header>"
    "<p>Anemones close at low tide.</p></article>"
)
_PUBLISHED = '<meta property="article:published_time" content="2023-04-01T09:00:00+00:00">'


@pytest.mark.parametrize(
    ("head", "time", "expected"),
    [
        (_PUBLISHED, "", "2023-04-01"),
        ('<meta name="date" content="2022-11">', "", "2022-11"),
        ('<meta name="DC.date" content="2020-02-03">', "", "2020-02-03"),
        ('<meta name="dcterms.date" content="2019">', "", "2019"),
        ("", '<time datetime="2021-07-08T10:00">July 8</time>', "2021-07-08"),
        ('<meta name="date" content="not a date">', "", None),
        ("", "", None),
    ],
)  # fmt: skip
def test_html_meta_date_else_article_header_time(tmp_path: Path, head, time, expected):
    path = tmp_path / "page.html"
    html = f"<html><head>{head}</head><body>{_BODY.format(time=time)}</body></html>"
    path.write_text(html, encoding="utf-8")
    ex = extract(path, "html")
    assert ex.date == expected and "Anemones close" in ex.markdown


def test_markdown_front_matter_date(tmp_path: Path):
    path = tmp_path / "notes.md"
    path.write_text(
        '---\ntitle: Kelp\ndate: "2023-04-01"\n---\n\n# Kelp\n\nKelp grows fast.\n',
        encoding="utf-8",
    )
    assert extract(path, "markdown").date == "2023-04-01"
    # a "date:" line outside front matter is text, not metadata
    plain = tmp_path / "plain.md"
    plain.write_text("# Kelp\n\ndate: 2023-04-01\n\nKelp grows fast.\n", encoding="utf-8")
    assert extract(plain, "markdown").date is None


def test_plain_text_has_no_date(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("date: 2023-04-01\n\nKelp grows fast.\n", encoding="utf-8")
    assert extract(path, "text").date is None
