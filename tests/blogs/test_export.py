"""Markdown, HTML and DOCX exports of a draft, and download file names."""

from __future__ import annotations

import io
import zipfile

import docx
import lxml.html
import pytest
from docx.oxml.ns import qn
from hypothesis import given, settings
from hypothesis import strategies as st

from draftsmith.blogs.export import (
    content_disposition_name,
    export_docx,
    export_html,
    export_markdown,
    with_title,
)
from draftsmith.blogs.render import plain_title

DRAFT = """# Grounded Writing

Retrieval keeps a draft honest [1]. It also **helps *recall* [2]** with `code[1]` and
~~old~~ a [reference](https://example.com/ref).

## How it works

1. Split documents into passages [1, 2].
2. Retrieve the best ones.
   - nested bullet
     - deeper bullet

- a bullet point
- another

> A quoted line [2].

### Code

```python
def f(x):
\treturn x[1]
```

| Step | Cost |
|------|-----:|
| Split [1] | low |
| Embed | **high** |

---

## Sources

- [1] report.pdf, p. 3 — “Retrieval keeps drafts grounded.”
- [2] notes.md — “Recall improves with passages.”
"""

CITATIONS = [
    {"n": 1, "document_name": "report.pdf", "page": 3, "quote": "Retrieval keeps drafts grounded."},
    {"n": 2, "document_name": "notes.md", "page": None, "quote": "Recall improves with passages."},
]


def open_docx(data: bytes):
    assert isinstance(data, bytes)
    return docx.Document(io.BytesIO(data))


def body_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")


def runs_of(document):
    """Every w:r of the body, including those inside hyperlinks."""
    return document.element.body.iter(qn("w:r"))


def run_text(r) -> str:
    return "".join(t.text or "" for t in r.iter(qn("w:t")))


def is_superscript(r) -> bool:
    va = r.find(f"{qn('w:rPr')}/{qn('w:vertAlign')}")
    return va is not None and va.get(qn("w:val")) == "superscript"


# --------------------------------------------------------------------------
# Markdown


def test_markdown_round_trips():
    assert export_markdown("Grounded Writing", DRAFT).decode("utf-8") == DRAFT


def test_markdown_prepends_missing_title_once():
    out = export_markdown("My Post", "Body [1].\n").decode()
    assert out == "# My Post\n\nBody [1].\n"
    assert export_markdown("My Post", out).decode() == out


def test_markdown_replaces_a_different_leading_title():
    out = export_markdown("New Name", "# Old Name\n\nBody.\n## Sub\n").decode()
    assert out == "# New Name\n\nBody.\n## Sub\n"
    out = export_markdown("New Name", "Old Name\n========\n\nBody.\n").decode()
    assert out == "# New Name\n\nBody.\n"


def test_markdown_title_only_and_empty_inputs():
    assert export_markdown("T", "").decode() == "# T\n"
    assert export_markdown("", "just text").decode() == "just text\n"
    assert export_markdown("   ", "").decode() == ""


def test_markdown_is_utf8_and_normalised():
    out = export_markdown("Café ☕", "# Café ☕\r\n\r\nÜber\x00 alles\r\n")
    assert out == "# Café ☕\n\nÜber alles\n".encode()


@pytest.mark.parametrize(
    "title",
    [
        "C# tips",
        "Issue #",
        "Using *args* and _x_",
        "[1] refs",
        "a <b> & &amp; c",
        "`code`",
        "~~no~~",
        "back\\slash",
        "1. Not a list",
    ],
)
def test_title_with_markdown_characters_survives(title):
    md = with_title(title, "Body.\n")
    assert plain_title(md) == title
    assert md.count("\n# ") == 0 and md.startswith("# ")
    assert (
        'class="cite"'
        not in export_html(title, "Body.").decode().split("<article>")[1].split("</h1>")[0]
    )


# --------------------------------------------------------------------------
# HTML


def test_html_document_structure():
    data = export_html("Grounded <Writing> & more", DRAFT, CITATIONS)
    text = data.decode("utf-8")
    assert text.startswith("<!doctype html>")
    root = lxml.html.document_fromstring(data)
    assert root.find(".//meta[@charset]").get("charset") == "utf-8"
    assert root.findtext(".//title") == "Grounded <Writing> & more"
    assert "<title>Grounded &lt;Writing&gt; &amp; more</title>" in text
    assert len(root.findall(".//style")) == 1 and root.findall(".//script") == []
    (h1,) = root.findall(".//h1")
    assert h1.text_content() == "Grounded <Writing> & more"


def test_html_has_cited_links_and_source_anchors():
    root = lxml.html.document_fromstring(export_html("Grounded Writing", DRAFT, CITATIONS))
    links = [a for a in root.iter("a") if a.get("class") == "cite-link"]
    assert all(a.getparent().tag == "sup" and a.getparent().get("class") == "cite" for a in links)
    assert {a.get("href") for a in links} == {"#source-1", "#source-2"}
    assert [a.get("title") for a in links][:1] == ["report.pdf, p. 3"]
    ids = [li.get("id") for li in root.iter("li") if li.get("id")]
    assert ids == ["source-1", "source-2"]
    assert "code[1]" in [c.text for c in root.iter("code")]


def test_html_appends_sources_from_citations_when_missing():
    root = lxml.html.document_fromstring(
        export_html(
            "T", "Claim [1]. Other [2].", CITATIONS + [{"n": 3, "document_name": "x <y>.txt"}]
        )
    )
    h2 = [h.text_content() for h in root.iter("h2")]
    assert h2 == ["Sources"]
    items = {li.get("id"): li.text_content() for li in root.iter("li")}
    assert items["source-1"] == "[1] report.pdf, p. 3 — “Retrieval keeps drafts grounded.”"
    assert items["source-3"] == "[3] x <y>.txt"


def test_html_export_of_hostile_markdown_is_inert():
    data = export_html(
        "</title><script>alert(1)</script>",
        "<script>alert(2)</script>\n\n[x](javascript:alert(3))\n\n<img src=x onerror=alert(4)>",
        [{"n": 1, "document_name": "<script>alert(5)</script>", "quote": "<b onclick=x>"}],
    )
    root = lxml.html.document_fromstring(data)
    assert root.findall(".//script") == [] and root.findall(".//img") == []
    for el in root.iter():
        assert not any(k.lower().startswith("on") for k in el.attrib)
        assert "javascript:" not in (el.get("href") or "")
    assert root.findtext(".//title") == "</title><script>alert(1)</script>"
    assert "<script>alert(2)</script>" in root.text_content()


# --------------------------------------------------------------------------
# DOCX


def test_docx_structure():
    data = export_docx("Grounded Writing", DRAFT, CITATIONS)
    d = open_docx(data)
    assert d.core_properties.title == "Grounded Writing"
    paras = [(p.style.name, p.text) for p in d.paragraphs]
    assert paras[0] == ("Title", "Grounded Writing")
    assert ("Heading 2", "How it works") in paras
    assert ("Heading 3", "Code") in paras
    assert ("List Number", "Split documents into passages [1][2].") in paras
    assert ("List Number", "Retrieve the best ones.") in paras
    assert ("List Bullet 2", "nested bullet") in paras
    assert ("List Bullet 3", "deeper bullet") in paras
    assert ("List Bullet", "a bullet point") in paras
    assert ("Quote", "A quoted line [2].") in paras
    assert ("Heading 2", "Sources") in paras
    assert ("List Bullet", "[1] report.pdf, p. 3 — “Retrieval keeps drafts grounded.”") in paras
    assert ("List Bullet", "[2] notes.md — “Recall improves with passages.”") in paras
    intro = next(p for p in d.paragraphs if p.text.startswith("Retrieval keeps"))
    assert intro.text == (
        "Retrieval keeps a draft honest [1]. It also helps recall [2] with code[1] and old a "
        "reference."
    )


def test_docx_inline_formatting_and_citations():
    d = open_docx(export_docx("Grounded Writing", DRAFT, CITATIONS))
    runs = list(runs_of(d))
    sup = [run_text(r) for r in runs if is_superscript(r)]
    assert sup.count("[1]") >= 3 and "[2]" in sup
    assert "code[1]" not in sup  # code keeps its brackets, not a citation

    def props(text):
        r = next(r for r in runs if run_text(r) == text)
        return r.find(qn("w:rPr"))

    assert props("helps ").find(qn("w:b")) is not None
    assert props("recall").find(qn("w:i")) is not None
    assert props("old").find(qn("w:strike")) is not None
    assert props("code[1]").find(qn("w:rFonts")).get(qn("w:ascii")) == "Consolas"


def test_docx_links_and_bookmarks():
    data = export_docx("Grounded Writing", DRAFT, CITATIONS)
    xml = body_xml(data)
    assert '<w:bookmarkStart w:id="1" w:name="source_1"/>' in xml
    assert 'w:name="source_2"' in xml
    assert '<w:hyperlink w:anchor="source_1">' in xml
    rels = zipfile.ZipFile(io.BytesIO(data)).read("word/_rels/document.xml.rels").decode()
    assert 'Target="https://example.com/ref" TargetMode="External"' in rels


def test_docx_table():
    d = open_docx(export_docx("Grounded Writing", DRAFT, CITATIONS))
    (table,) = d.tables
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows == [["Step", "Cost"], ["Split [1]", "low"], ["Embed", "high"]]
    header = table.rows[0]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(r.bold for c in header.cells for p in c.paragraphs for r in p.runs)


def test_docx_code_block_is_monospace_and_keeps_lines():
    d = open_docx(export_docx("Grounded Writing", DRAFT, CITATIONS))
    code = next(p for p in d.paragraphs if p.text.startswith("def f"))
    assert code.text == "def f(x):\n\treturn x[1]"
    assert all(r.font.name == "Consolas" for r in code.runs)
    assert code._p.pPr.find(qn("w:shd")) is not None


def test_docx_ordered_lists_restart_numbering():
    data = export_docx("T", "1. a\n2. b\n\ntext\n\n5. c\n6. d\n", None)
    d = open_docx(data)
    nums = {}
    for p in d.paragraphs:
        if p.style.name == "List Number":
            nums[p.text] = p._p.pPr.numPr.numId.val
    assert nums["a"] == nums["b"] != nums["c"] == nums["d"]
    numbering = d.part.numbering_part.element
    starts = {}
    for text in ("a", "c"):
        num = numbering.num_having_numId(nums[text])
        starts[text] = num.find(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}").get(qn("w:val"))
    assert starts == {"a": "1", "c": "5"}


def test_docx_appends_sources_from_citations_and_escapes_nothing_away():
    d = open_docx(export_docx("T", "Claim [1].", CITATIONS))
    texts = [p.text for p in d.paragraphs]
    assert "Sources" in texts
    assert "[1] report.pdf, p. 3 — “Retrieval keeps drafts grounded.”" in texts


def test_docx_title_heading_and_other_h1s():
    d = open_docx(export_docx("Doc", "Intro.\n\n# Part one\n\ntext", None))
    styles = [(p.style.name, p.text) for p in d.paragraphs]
    assert styles[0] == ("Title", "Doc")
    assert ("Heading 1", "Part one") in styles


def test_docx_long_title_is_truncated_for_core_properties():
    d = open_docx(export_docx("x" * 1000, "body", None))
    assert d.core_properties.title == "x" * 255


# --------------------------------------------------------------------------
# DOCX never crashes

HOSTILE_DOCX = {
    "unclosed fence": "```python\ndef f():\n    return [1]\n",
    "unclosed tilde fence": "~~~\n\n\n",
    "nested 10 deep": "".join(
        "    " * i + ("- " if i % 2 else "1. ") + f"level {i} [1]\n" for i in range(10)
    ),
    "nested 10 deep (2 spaces)": "".join("  " * i + f"- level {i}\n" for i in range(10)),
    "deep quotes": "> " * 60 + "deep\n",
    "html blocks": (
        "<div onclick='x'>\n<script>alert(1)</script>\n</div>\n\n<iframe src=x></iframe>\n<!-- c "
        "-->\n"
    ),
    "control chars": "# T\x00i\x01t\x0bl\x1fe\n\npara \x07 \x1b[31m red "
    "\ufffe\uffff\ud800 [1]\x00\r\nx\rY\x0c",
    "empty": "",
    "whitespace": "   \n\n\t\n",
    "odd lists": (
        "- \n-\n1.\n\n* * *\n\n[]()\n\n[a](<>)\n\n![](<>)\n\n`` ` ``\n\n***x**y*\n\n| |\n|-|\n\n# "
        "\n\n#\n"
    ),
    "odd sources": "## Sources\n\n- \n- [x]\n1. [0]\n- [99999999] big\n",
    "marker flood": "[" + ", ".join(str(i) for i in range(1, 300)) + "]" + "[1-20000]" * 20,
    "entities": "&#0; &#x110000; &#xD800; &amp;&lt;&nbsp;&#x1F600;",
    "links": (
        "[a](https://x.example/\x00) [b](mailto:) [c](#) [d](javascript:x) <https://auto.example> "
        "[e](#source-9)"
    ),
    "image in link": "[![alt](https://i.example/x.png)](https://x.example) "
    "![](data:image/png;base64,AA)",
    "hard breaks": "line one  \nline two\\\nline three",
    "headings 1-6": "\n\n".join("#" * i + f" H{i} [1]" for i in range(1, 8)),
    "ragged table": "| a | b |\n|---|---|\n| 1 |\n| 1 | 2 | 3 | 4 |\n| `x|y` |\n",
    "table in list and quote": "- item\n\n  | a |\n  |---|\n  | b |\n\n> | q |\n> |---|\n> | r |\n",
    "code in list": "1. step\n\n   ```\n   code\n   ```\n2. next\n",
    "ordered start huge": "99999999. big start\n",
}


@pytest.mark.parametrize("markdown", list(HOSTILE_DOCX.values()), ids=list(HOSTILE_DOCX))
def test_docx_survives_odd_markdown(markdown):
    data = export_docx(
        "T\x00itle\x1f", markdown, [{"n": 1, "document_name": "a\x00b", "quote": "q\x01"}]
    )
    d = open_docx(data)
    xml = body_xml(data)
    for ch in ("\x00", "\x01", "\x07", "\x0b", "\x1b", "\x1f"):
        assert ch not in xml
    assert d.paragraphs[0].text == "Title"
    # the other exports survive the same input
    lxml.html.document_fromstring(export_html("T", markdown, None))
    export_markdown("T", markdown).decode("utf-8")


def test_docx_nested_lists_10_deep_keep_all_items():
    d = open_docx(export_docx("T", HOSTILE_DOCX["nested 10 deep"], None))
    items = [p for p in d.paragraphs if p.style.name.startswith("List")]
    assert [p.text for p in items] == [f"level {i} [1]" for i in range(10)]
    assert items[0].style.name == "List Number" and items[1].style.name == "List Bullet 2"
    assert items[9].style.name == "List Bullet 3"
    assert items[9].paragraph_format.left_indent > items[4].paragraph_format.left_indent


def test_docx_huge_table():
    cols, rows = 80, 40
    md = "| " + " | ".join(f"h{i}" for i in range(cols)) + " |\n|" + "---|" * cols + "\n"
    md += "".join("| " + " | ".join(f"r{r}c{i}" for i in range(cols)) + " |\n" for r in range(rows))
    d = open_docx(export_docx("T", md, None))
    (table,) = d.tables
    assert len(table.rows) == rows + 1
    assert len(table.columns) == 63  # Word's column limit; the rest is folded into the last cell
    first = table.rows[1]._tr.tc_lst
    assert docx.table._Cell(first[0], table).text == "r0c0"
    last = docx.table._Cell(first[-1], table).text
    assert last.startswith("r0c62 | r0c63") and last.endswith("r0c79")


_MARKDOWN_PIECES = list("#*_`[]()<>!|-~\\\n \t1234567890abc:/&;\x00\x01\x0b") + [
    "```", "\n- ", "\n1. ", "\n> ", "| a |", "\n|---|", "[1]", "](javascript:x)", "\n# ",
    "\n## Sources\n", "    ",
]  # fmt: skip


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(_MARKDOWN_PIECES), max_size=300).map("".join))
def test_docx_and_html_export_any_markdown(md):
    open_docx(export_docx("Fuzz", md, CITATIONS))
    lxml.html.document_fromstring(export_html("Fuzz", md, CITATIONS))


# --------------------------------------------------------------------------
# file names


@pytest.mark.parametrize(
    ("title", "ext", "name"),
    [
        ("My Post", "md", "my-post.md"),
        ("  Retrieval: Why It *Matters*!  ", "docx", "retrieval-why-it-matters.docx"),
        ("Café Über naïve", "html", "cafe-uber-naive.html"),
        ("Don't panic", ".MD", "dont-panic.md"),
        ('../../etc/passwd"; filename=x.exe', "md", "etc-passwd-filename-x-exe.md"),
        ("日本語のタイトル", "md", "draft.md"),
        ("", "docx", "draft.docx"),
        ("!!!", "md", "draft.md"),
        ("CON", "md", "con-draft.md"),
        ("Title\r\nInjected: header", "md", "title-injected-header.md"),
        ("x", "", "x"),
    ],
)
def test_content_disposition_name(title, ext, name):
    assert content_disposition_name(title, ext) == name


def test_content_disposition_name_is_bounded():
    name = content_disposition_name("word " * 100, "md")
    assert name.endswith(".md") and len(name) <= 84 and not name[:-3].endswith("-")
    assert set(name[:-3]) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
