"""Markdown -> sanitised HTML: hostile input, citation links, Sources anchors."""

from __future__ import annotations

from html.parser import HTMLParser

import lxml.html
import pytest

from draftsmith.blogs.render import plain_title, render_html, sanitize_html

SAFE_SCHEMES = ("http://", "https://", "mailto:", "#")


class _Collect(HTMLParser):
    """Every start tag with its attributes, and the text, as html.parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def collect(fragment: str) -> _Collect:
    c = _Collect()
    c.feed(fragment)
    c.close()
    return c


def assert_inert(fragment: str) -> None:
    """No active content, judged by two independent HTML parsers."""
    seen = collect(fragment)
    for tag, attrs in seen.tags:
        assert tag not in {
            "script",
            "iframe",
            "style",
            "img",
            "object",
            "embed",
            "svg",
            "form",
            "input",
            "math",
            "base",
            "meta",
            "link",
        }, tag
        for name, value in attrs.items():
            assert not name.lower().startswith("on"), (tag, name)
            assert name.lower() not in {"style", "src", "srcdoc", "formaction"}, (tag, name)
            if name.lower() == "href":
                assert value is not None and value.startswith(SAFE_SCHEMES), value
            v = (value or "").lower().replace(" ", "")
            assert "javascript:" not in v and "data:" not in v and "vbscript:" not in v, (
                tag,
                name,
                value,
            )
    root = lxml.html.fragment_fromstring(fragment or "<p></p>", create_parent="div")
    for bad in ("script", "iframe", "style", "img", "object", "embed", "svg"):
        assert root.findall(f".//{bad}") == [], bad
    for el in root.iter():
        for name in el.attrib:
            assert not name.lower().startswith("on"), (el.tag, name)
    for a in root.iter("a"):
        href = a.get("href")
        if href is not None:
            assert href.startswith(SAFE_SCHEMES), href


def text_of(fragment: str) -> str:
    return lxml.html.fragment_fromstring(fragment, create_parent="div").text_content()


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    '<a href="x" onclick="alert(1)">click</a>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    "<https://ok.example/path> and <javascript:alert(1)> and <mailto:me@example.com>",
    "![x](javascript:alert(1)) ![y](data:image/svg+xml;base64,PHN2Zz4=)",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '<div onmouseover="alert(1)">\n\n*hi*\n\n</div>',
    "<svg><script>alert(1)</script></svg>",
    "```html\n<script>alert(1)</script>\n```",
    '[x](https://ok.example "t\\" onclick=\\"alert(1)")',
    "<!-- <script>alert(1)</script> -->",
    "<a href='javascript:alert(1)'>[1]</a>",
    '```js" onload="alert(1)\nx\n```',
]


@pytest.mark.parametrize("markdown", HOSTILE)
def test_hostile_markdown_renders_inert(markdown):
    out = render_html(markdown)
    assert_inert(out)


def test_raw_html_is_escaped_and_still_readable():
    out = render_html("Beware of <script>alert(1)</script> in text and <b>bold</b>.")
    assert "<script" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<script>alert(1)</script>" in text_of(out)
    assert "<b>bold</b>" in text_of(out)


def test_javascript_link_is_not_a_link_but_its_text_is_kept():
    out = render_html("[click me](javascript:alert(1)) and [x](JaVaScRiPt:alert(2))")
    assert collect(out).tags == [("p", {})]
    assert "click me" in text_of(out)


def test_safe_links_kept_with_rel():
    out = render_html(
        "[a](https://example.com/x?y=1&z=2) [m](mailto:me@example.com) [f](#source-2)"
    )
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    links = root.findall(".//a")
    assert [a.get("href") for a in links] == [
        "https://example.com/x?y=1&z=2",
        "mailto:me@example.com",
        "#source-2",
    ]
    assert all(a.get("rel") == "noopener noreferrer nofollow" for a in links)


def test_relative_and_protocol_relative_links_lose_their_href():
    out = render_html(
        "[r](/admin) [p](//evil.example/x) [see [1]](page.html) [f](file:///etc/passwd)"
    )
    assert out.startswith(f"<p>r p see {cite(1)} ")  # plain text, no dead <a>
    assert "/admin" not in out and "evil.example" not in out and "page.html" not in out


def test_images_are_never_embedded():
    out = render_html(
        "![a diagram](https://example.com/d.png) and ![inline](data:image/png;base64,AAAA)"
    )
    assert "<img" not in out
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    (a,) = root.findall(".//a")
    assert a.get("href") == "https://example.com/d.png" and a.text == "a diagram"
    assert "inline" in root.text_content()


@pytest.mark.parametrize(
    "fragment",
    [
        '<a href="javascript:alert(1)" onclick="alert(1)">x</a>',
        '<a href="data:text/html,hi">x</a>',
        '<a href="//evil.example">x</a>',
        '<p style="background:url(javascript:alert(1))" onmouseover="x">x</p>',
        "<img src=x onerror=alert(1)>",
        "<svg><script>alert(1)</script></svg><math><mi>x</mi></math>",
        "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
        "<form action=x><input formaction=javascript:alert(1)></form>",
        "<object data=x></object><embed src=x>",
        "<base href='https://evil.example/'><meta http-equiv=refresh content=0>",
        "<style>*{}</style><link rel=stylesheet href=x>",
        "<details open ontoggle=alert(1)>x</details>",
    ],
)
def test_sanitizer_allowlist_blocks_raw_html(fragment):
    # render_html never emits these (raw HTML is escaped); this checks the
    # nh3 layer on its own, as a second line of defence.
    assert_inert(sanitize_html(fragment))


def test_sanitizer_attribute_rules():
    out = sanitize_html(
        '<ol start="3" type="a"><li id="source-2">a</li><li id="evil">b</li><li '
        'id="source-x">c</li></ol>'
        '<p id="source-1" class="cite">p</p><span class="source-num evil">s</span>'
        '<sup class="cite other">x</sup><a class="cite-link btn" href="#source-1">l</a>'
        '<code class="language-python x">c</code><td class="align-right" style="x">t</td>'
    )
    assert '<ol start="3">' in out
    assert '<li id="source-2">' in out and 'id="evil"' not in out and "source-x" not in out
    assert "<p>p</p>" in out
    assert '<span class="source-num">' in out and "evil" not in out
    assert '<sup class="cite">' in out and "other" not in out
    assert 'class="cite-link"' in out and "btn" not in out
    assert '<code class="language-python">' in out
    assert "style" not in out


# --------------------------------------------------------------------------
# citations


def cite(n: int) -> str:
    return (
        f'<sup class="cite"><a href="#source-{n}" class="cite-link" '
        f'rel="noopener noreferrer nofollow">[{n}]</a></sup>'
    )


def test_marker_becomes_superscript_link():
    assert render_html("A claim [1].") == f"<p>A claim {cite(1)}.</p>\n"


@pytest.mark.parametrize(
    ("markdown", "numbers"),
    [
        ("x [1, 3].", [1, 3]),
        ("x [2][5].", [2, 5]),
        ("x [2] [5].", [2, 5]),
        ("x [1-3].", [1, 2, 3]),
        ("x [4; 2].", [4, 2]),
    ],
)
def test_multi_markers(markdown, numbers):
    out = render_html(markdown)
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    links = root.findall(".//sup/a")
    assert [a.get("href") for a in links] == [f"#source-{n}" for n in numbers]
    assert [a.text for a in links] == [f"[{n}]" for n in numbers]
    assert all(a.getparent().get("class") == "cite" for a in links)


def test_markers_stay_literal_in_code_links_and_escapes():
    md = (
        "Code `x[1]` and `[2]`, link [see [3]](https://example.com), escaped \\[4\\], real [5].\n\n"
        "```\narr[6]\n```\n\n    indented[7]\n"
    )
    out = render_html(md)
    assert "<code>x[1]</code>" in out and "<code>[2]</code>" in out
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">see [3]</a>' in out
    assert "escaped [4]," in out
    assert "arr[6]" in out and "indented[7]" in out
    assert out.count('class="cite"') == 1 and cite(5) in out


def test_link_definitions_and_link_like_brackets_are_not_markers():
    out = render_html(
        "See [1](https://example.com) and [2]: not a ref here.\n\n[ref]: https://x.example\n"
    )
    assert 'class="cite"' not in out


def test_markers_in_headings_lists_tables_and_emphasis():
    md = "## Why [1]\n\n- item [2]\n\n| a | b |\n|---|---|\n| c [3] | *d [4]* |\n"
    out = render_html(md)
    for n in (1, 2, 3, 4):
        assert cite(n) in out


def test_citation_titles_from_citations():
    out = render_html(
        "A [1] B [2] C [3].",
        [
            {"n": 1, "document_name": "report.pdf", "page": 4, "quote": "q"},
            {"n": 2, "document_name": 'notes <"x">.md', "page": None},
            {"n": "bad"},
            {"document_name": "no number"},
        ],
    )
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    titles = [a.get("title") for a in root.findall(".//sup/a")]
    assert titles == ["report.pdf, p. 4", 'notes <"x">.md']  # no source 3: no link
    assert root.text_content().strip() == "A [1] B [2] C [3]."
    assert_inert(out)


def test_marker_without_a_source_is_plain_text():
    md = "A claim [1]. An invented one [99]. Both [1][99].\n\n## Sources\n\n- [1] a.md\n"
    root = lxml.html.fragment_fromstring(render_html(md), create_parent="div")
    assert [a.get("href") for a in root.findall(".//sup/a")] == ["#source-1", "#source-1"]
    assert "An invented one [99]." in root.text_content()
    assert "#source-99" not in render_html(md, [{"n": 1, "document_name": "a.md"}])


def test_sources_items_get_ids_and_are_not_linked():
    md = (
        "# T\n\nClaim [1] and [2].\n\n## Sources\n\n"
        "- [1] report.pdf, p. 3 — “a quote with \\[7\\]”\n"
        "- [2] notes.md — “other”\n"
        "- [2] duplicate\n"
        "- no number\n"
    )
    out = render_html(md)
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    items = root.findall(".//ul/li")
    assert [li.get("id") for li in items] == ["source-1", "source-2", None, None]
    assert items[0].find("span").get("class") == "source-num"
    assert items[0].text_content() == "[1] report.pdf, p. 3 — “a quote with [7]”"
    assert items[0].findall(".//a") == []  # no self-links, the escaped [7] stays text
    # body markers link to the anchors that exist
    hrefs = [a.get("href") for a in root.findall(".//p//a")]
    assert hrefs == ["#source-1", "#source-2"]
    assert {f"#{li.get('id')}" for li in items if li.get("id")} == set(hrefs)


def test_ordered_sources_list_and_references_heading():
    out = render_html("Text [2].\n\n### References\n\n2. first\n3. second\n")
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    assert [li.get("id") for li in root.findall(".//ol/li")] == ["source-2", "source-3"]


def test_only_the_sources_list_gets_ids():
    out = render_html("- [1] a list in the body\n\n## Notes\n\n- [2] not sources\n")
    assert "id=" not in out
    assert cite(1) in out and cite(2) in out


def test_tables_and_strikethrough():
    out = render_html("| L | C | R |\n|:--|:-:|--:|\n| a | ~~b~~ | c |\n")
    assert '<th class="align-left">L</th>' in out
    assert '<td class="align-center"><s>b</s></td>' in out
    assert '<td class="align-right">c</td>' in out
    assert "style" not in out


def test_control_characters_removed_and_output_deterministic():
    md = "# Ti\x00tle\x07\n\nA\x1b[31m [1] \ufffe\n"
    out = render_html(md)
    assert out == render_html(md)
    assert not any(ch in out for ch in "\x00\x07\x1b\ufffe")
    lxml.html.fragment_fromstring(out, create_parent="div")


# --------------------------------------------------------------------------
# plain_title


@pytest.mark.parametrize(
    ("markdown", "title"),
    [
        ("# Hello *world*\n\nbody", "Hello world"),
        ("\n\nIntro\n\n# Later `code` title\n", "Later code title"),
        ("Setext\n======\n", "Setext"),
        ("## Only h2\n\ntext", None),
        ("#NoSpace\n", None),
        ("# \n", None),
        ("```\n# not a heading\n```\n", None),
        ("", None),
        ("#   Spaced    out  \n", "Spaced out"),
        ("# A \\*literal\\* star\n", "A *literal* star"),
    ],
)
def test_plain_title(markdown, title):
    assert plain_title(markdown) == title
