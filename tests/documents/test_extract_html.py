"""HTML extraction: main text only, structure kept, nothing fetched."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from draftsmith.documents.extract import ExtractionError, extract
from draftsmith.documents.sniff import detect_type
from tests.corpus import CORPUS
from tests.fixtures.make import SCRIPT_LINES, fixture_path
from tests.fixtures.prose import LIGHTHOUSES

HTML = CORPUS / "html"


def _script_bodies(raw: str) -> list[str]:
    out = []
    for m in re.finditer(r"<script[^>]*>(.*?)</script>", raw, re.S | re.I):
        for line in m.group(1).splitlines():
            line = line.strip()
            if len(line) > 25 and "CDATA" not in line and not line.startswith("//"):
                out.append(line)
    return out


def test_generated_page_keeps_the_article_and_drops_the_chrome():
    path = fixture_path("lighthouses.html")
    dt = detect_type(path)
    assert (dt.kind, dt.encoding) == ("html", "utf-8")
    ex = extract(path, dt.kind, dt.encoding)
    md = ex.markdown
    assert md.startswith(f"# {LIGHTHOUSES.title}\n")
    assert [s.heading for s in ex.sections] == [
        LIGHTHOUSES.title,
        *[h for h, _ in LIGHTHOUSES.sections()[5:]],
    ]
    for line in SCRIPT_LINES:
        assert line not in md and line.split("(")[0] not in md
    for chrome in (
        "Coastal Blog home",
        "Archive of every post",
        "Subscribe to the newsletter",
        "Copyright notice",
        "font-family",
    ):
        assert chrome not in md, chrome
    assert all(s in md for s in LIGHTHOUSES.sections()[5][1])
    assert "| Light | Range |\n|---|---|\n| Fixed white | 12 miles |" in md


@pytest.mark.corpus
def test_page_with_scripts_has_no_script_text():
    path = HTML / "un_example-with-scripts.html"
    raw = path.read_text("utf-8")
    bodies = _script_bodies(raw)
    assert len(bodies) > 10
    md = extract(path, "html", "utf-8").markdown
    for line in bodies:
        assert line not in md
    for token in ("jQuery", "function (", "GoogleAnalyticsObject", "@import url"):
        assert token not in md
    assert md.startswith("# Russian Offensive Campaign Assessment, December 13")
    # source line breaks inside a paragraph are not hard breaks
    assert "Karolina Hird, George Barros" in md


@pytest.mark.corpus
def test_wikipedia_main_content_headings_and_no_chrome():
    path = HTML / "dl_wiki_duck.html"
    dt = detect_type(path)
    ex = extract(path, dt.kind, dt.encoding)
    md = ex.markdown
    assert md.startswith("# Duck\n")  # the title from the article's own <header>
    assert "Afrikaans" not in md  # ...without the language menu next to it
    assert "## Etymology" in md and "## Taxonomy" in md
    assert "Etymology" in [s.heading for s in ex.sections]
    assert "Jump to content" not in md and "Main menu" not in md
    assert "[edit]" not in md
    assert "| Kingdom: | Animalia |" in md  # infobox table kept


@pytest.mark.corpus
def test_inline_xbrl_10k_hidden_header_dropped():
    md = extract(HTML / "un_example-10k.html", "html", "utf-8").markdown
    assert "ANNUAL REPORT PURSUANT TO SECTION 13" in md
    assert "dei:" not in md and "xbrli" not in md.lower()


def test_structure_and_dropped_elements(tmp_path: Path):
    html = """<!doctype html><html><head><title>T</title><style>p{color:red}</style>
    <script>var secret = "SCRIPTTEXT";</script></head><body>
    <header>SITE HEADER</header><nav><a href="/">NAVLINK</a></nav>
    <main><h1>Main   title</h1><p>First <b>bold</b>
    paragraph.<br>Second line.</p>
    <ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>
    <ol><li>first</li><li>second</li></ol>
    <table><tr><th>Key</th><th>Value</th></tr><tr><td>a|b</td><td>1</td></tr></table>
    <div hidden>HIDDEN</div><div style="display: none">ALSOHIDDEN</div>
    <form><label>FORMLABEL</label><input value="x"></form><template><p>TEMPLATE</p></template>
    <noscript>NOSCRIPT</noscript><pre>code  block
  indented</pre></main>
    <aside>ASIDE</aside><footer>FOOTER</footer></body></html>"""
    p = tmp_path / "x.html"
    p.write_text(html)
    ex = extract(p, "html", "utf-8")
    md = ex.markdown
    for gone in (
        "SITE HEADER",
        "NAVLINK",
        "SCRIPTTEXT",
        "color:red",
        "HIDDEN",
        "FORMLABEL",
        "TEMPLATE",
        "NOSCRIPT",
        "ASIDE",
        "FOOTER",
    ):
        assert gone not in md, gone
    assert md.startswith("# Main title")
    assert "First bold paragraph.\nSecond line." in md
    assert "- one\n- two\n  - nested" in md
    assert "1. first\n1. second" in md
    assert "| Key | Value |\n|---|---|\n| a\\|b | 1 |" in md
    assert "```\ncode  block\n  indented\n```" in md


def test_nothing_is_fetched(tmp_path: Path, monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    html = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
    <html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css">
    <script src="http://127.0.0.1:9/x.js"></script></head>
    <body><iframe src="http://127.0.0.1:9/frame"></iframe><img src="http://127.0.0.1:9/i.png">
    <p>Offline &amp; fine &eacute;</p></body></html>"""
    p = tmp_path / "x.html"
    p.write_text(html)
    assert extract(p, "html", "utf-8").markdown == "Offline & fine é"


def test_declared_legacy_charset(tmp_path: Path):
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; '
        'charset=windows-1252"></head><body><p>Caf\xe9 \u2013 na\xefve</p></body></html>'
    )
    p = tmp_path / "x.html"
    p.write_bytes(html.encode("cp1252"))
    dt = detect_type(p)
    assert extract(p, dt.kind, dt.encoding).markdown == "Caf\xe9 \u2013 na\xefve"


def test_xml_declared_xhtml(tmp_path: Path):
    p = tmp_path / "x.xhtml"
    p.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<html><body><p>Hello XHTML</p></body></html>'
    )
    dt = detect_type(p)
    assert dt.kind == "html"
    assert extract(p, dt.kind, dt.encoding).markdown == "Hello XHTML"


def test_empty_page_clear_error(tmp_path: Path):
    p = tmp_path / "x.html"
    p.write_text("<html><head><script>only()</script></head><body><nav>menu</nav></body></html>")
    with pytest.raises(ExtractionError) as ei:
        extract(p, "html", "utf-8")
    assert "no readable text" in str(ei.value)
