"""Markdown -> safe HTML for blog drafts, with linked citation markers.

The pipeline is: markdown-it-py (CommonMark + tables + strikethrough, raw
HTML disabled so it is escaped as text) -> a core rule that works on the
token stream (citation markers ``[n]`` in body text become superscript links
to ``#source-n``; the items of the ``## Sources`` list get ``id="source-n"``;
table alignment styles become classes) -> HTML -> nh3 with an explicit
allowlist. nh3 is the last word: whatever the renderer emits, only the tags,
attributes, classes and URL schemes listed here survive.

Everything is pure and deterministic; the parser is built once per process.
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from draftsmith.generation.citations import (
    MARKER_RE,
    citation_location,
    citation_value,
    parse_marker,
)
from draftsmith.text.markdown import strip_control_chars

__all__ = [
    "LINK_REL",
    "MARKER_RE",
    "citation_value",
    "find_sources_heading",
    "inline_text",
    "parse_marker",
    "parse_tokens",
    "plain_title",
    "render_html",
    "safe_href",
    "sanitize_html",
]


_SOURCES_TITLES = {"sources", "references"}
_SOURCE_ITEM_RE = re.compile(r"\s*\[(\d{1,6})\]")
_SOURCE_ID_RE = re.compile(r"source-\d{1,6}")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_CODE_CLASS_RE = re.compile(r"language-[A-Za-z0-9_+#.\-]{1,40}")
_ALIGN_RE = re.compile(r"text-align:\s*(left|center|right)")

#: class values allowed per tag (``code`` additionally allows ``language-*``).
_CLASSES: dict[str, frozenset[str]] = {
    "a": frozenset({"cite-link", "image-link"}),
    "sup": frozenset({"cite"}),
    "span": frozenset({"source-num"}),
    "th": frozenset({"align-left", "align-center", "align-right"}),
    "td": frozenset({"align-left", "align-center", "align-right"}),
    "code": frozenset(),
}

_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6",
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "sup", "span",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "sup": {"class"},
    "span": {"class"},
    "code": {"class"},
    "th": {"class"},
    "td": {"class"},
    "li": {"id"},
    "ol": {"start"},
}
#: Removed together with their content (must not overlap ``_TAGS``).
_CLEAN_CONTENT = {
    "script", "style", "iframe", "object", "embed", "template", "noscript",
    "svg", "math", "textarea", "select", "title", "frameset", "noembed", "noframes",
}  # fmt: skip
LINK_REL = "noopener noreferrer nofollow"


# --------------------------------------------------------------------------
# small helpers


def safe_href(url: str) -> str | None:
    """``url`` if it is a fragment (``#x``) or an http/https/mailto URL, else None."""
    v = url.strip()
    if not v or any(c.isspace() for c in v) or strip_control_chars(v) != v:
        return None
    if v.startswith("#"):
        return v
    m = _SCHEME_RE.match(v)
    if m and m.group(1).lower() in _LINK_SCHEMES:
        return v
    return None


def _citation_titles(citations: Iterable[Any] | None) -> dict[int, str]:
    """``n -> "document, p. X, Section"`` for link tooltips (bad entries are ignored)."""
    out: dict[int, str] = {}
    for c in citations or ():
        n = citation_value(c, "n")
        if isinstance(n, bool) or not isinstance(n, int):
            continue
        name = citation_value(c, "document_name")
        parts = [" ".join(str(name).split()) if name else "", citation_location(c)]
        label = ", ".join(p for p in parts if p)
        if label:
            out.setdefault(n, strip_control_chars(label)[:200])
    return out


def _citation_numbers(citations: Iterable[Any]) -> set[int]:
    numbers = (citation_value(c, "n") for c in citations)
    return {n for n in numbers if isinstance(n, int) and not isinstance(n, bool)}


def inline_text(children: Sequence[Token] | None) -> str:
    """Plain text of an inline token's children (markup dropped)."""
    parts: list[str] = []
    for t in children or ():
        if t.type in ("text", "text_special", "code_inline", "html_inline"):
            parts.append(t.content)
        elif t.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif t.type == "image":
            parts.append(inline_text(t.children))
    return "".join(parts)


# --------------------------------------------------------------------------
# token rewriting (a markdown-it core rule, run before ``text_join`` so that
# backslash-escaped brackets, ``\[1\]``, are still separate ``text_special``
# tokens and are never taken for markers)


def find_sources_heading(tokens: Sequence[Token]) -> int | None:
    """Index of the ``heading_open`` of the last "Sources"/"References" heading
    (a title, i.e. a level-1 heading that opens the document, does not count)."""
    found = None
    for i, t in enumerate(tokens):
        if t.type == "heading_open" and i + 1 < len(tokens) and not (i == 0 and t.tag == "h1"):
            if " ".join(inline_text(tokens[i + 1].children).split()).lower() in _SOURCES_TITLES:
                found = i
    return found


def _sources_list(tokens: list[Token]) -> tuple[int, int] | None:
    """(open, close) indices of the list right after the Sources heading."""
    h = find_sources_heading(tokens)
    if h is None:
        return None
    level = tokens[h].level
    for i in range(h + 3, len(tokens)):
        t = tokens[i]
        if t.level < level or (t.type == "heading_open" and t.level == level):
            return None
        if t.level == level and t.type in ("bullet_list_open", "ordered_list_open"):
            close = t.type.replace("_open", "_close")
            for j in range(i + 1, len(tokens)):
                if tokens[j].type == close and tokens[j].level == level:
                    return i, j
            return None
    return None


def _mark_sources(tokens: list[Token], span: tuple[int, int]) -> set[int]:
    """Give each Sources item its ``id="source-n"`` anchor; the numbers anchored."""
    start, end = span
    lst = tokens[start]
    first = 1
    if lst.type == "ordered_list_open":
        try:
            first = int(lst.attrGet("start") or 1)
        except (TypeError, ValueError):
            first = 1
    used: set[int] = set()
    index = 0
    i = start + 1
    while i < end:
        t = tokens[i]
        if t.type == "list_item_open" and t.level == lst.level + 1:
            n: int | None = None
            inline = next(
                (
                    tokens[j]
                    for j in range(i + 1, end)
                    if tokens[j].type in ("inline", "list_item_close")
                ),
                None,
            )
            if inline is not None and inline.type == "inline":
                m = _SOURCE_ITEM_RE.match(inline.content)
                if m:
                    n = int(m.group(1))
                    _wrap_source_number(inline, m.group(1))
            if n is None and lst.type == "ordered_list_open":
                n = first + index
            if n is not None and n not in used:
                used.add(n)
                t.attrSet("id", f"source-{n}")
            index += 1
        i += 1
    return used


def _wrap_source_number(inline: Token, digits: str) -> None:
    """``[n] name…`` -> ``<span class="source-num">[n]</span> name…``."""
    kids = inline.children or []
    if not kids or kids[0].type != "text":
        return
    text = kids[0]
    marker = f"[{digits}]"
    stripped = text.content.lstrip()
    if not stripped.startswith(marker):
        return
    rest = stripped[len(marker) :]
    open_ = Token("source_num_open", "span", 1)
    open_.attrSet("class", "source-num")
    num = Token("text", "", 0)
    num.content = marker
    close = Token("source_num_close", "span", -1)
    new = [open_, num, close]
    if rest:
        tail = Token("text", "", 0)
        tail.content = rest
        new.append(tail)
    inline.children = new + kids[1:]


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _cite_tokens(n: int, titles: Mapping[int, str]) -> list[Token]:
    sup = Token("cite_open", "sup", 1)
    sup.attrSet("class", "cite")
    a = Token("cite_link_open", "a", 1)
    a.attrSet("href", f"#source-{n}")
    a.attrSet("class", "cite-link")
    if n in titles:
        a.attrSet("title", titles[n])
    a.meta = {"n": n}
    text = Token("text", "", 0)
    text.content = f"[{n}]"
    return [sup, a, text, Token("cite_link_close", "a", -1), Token("cite_close", "sup", -1)]


def _rewrite_inline(
    children: list[Token], titles: Mapping[int, str], *, markers: bool, anchors: set[int] | None
) -> list[Token]:
    """Links with a disallowed URL become their plain text; with ``markers``,
    citation markers in text outside links become ``cite_*`` tokens, linked when
    the Sources list has that number (``anchors``; None: no list and no citations
    to check against, every marker is linked), plain ``[n]`` text otherwise."""
    out: list[Token] = []
    kept: list[bool] = []  # per open link: kept as a link?
    link_depth = 0
    for t in children:
        if t.type == "link_open":
            ok = safe_href(str(t.attrGet("href") or "")) is not None
            kept.append(ok)
            if not ok:
                continue
            link_depth += 1
        elif t.type == "link_close":
            if not (kept.pop() if kept else True):
                continue
            link_depth = max(0, link_depth - 1)
        elif t.type == "image" and link_depth:
            t.meta = {**(t.meta or {}), "in_link": True}  # no <a> inside <a>
        if not markers or t.type != "text" or link_depth or not MARKER_RE.search(t.content):
            out.append(t)
            continue
        pos = 0
        for m in MARKER_RE.finditer(t.content):
            nums = parse_marker(m.group(1))
            if not nums:
                continue
            if m.start() > pos:
                piece = Token("text", "", 0)
                piece.content = t.content[pos : m.start()]
                out.append(piece)
            for n in nums:
                known = anchors is None or n in anchors
                out.extend(_cite_tokens(n, titles) if known else [_text(f"[{n}]")])
            pos = m.end()
        if pos < len(t.content):
            piece = Token("text", "", 0)
            piece.content = t.content[pos:]
            out.append(piece)
    return out


def _draftsmith_rule(state: Any) -> None:
    tokens: list[Token] = state.tokens
    titles: Mapping[int, str] = (
        state.env.get("draftsmith_titles", {}) if isinstance(state.env, dict) else {}
    )
    skip = _sources_list(tokens)
    env = state.env if isinstance(state.env, dict) else {}
    anchors = _mark_sources(tokens, skip) if skip is not None else env.get("draftsmith_known")
    for i, t in enumerate(tokens):
        if t.type in ("th_open", "td_open"):
            style = t.attrGet("style")
            if style is not None:
                t.attrs.pop("style", None)
                m = _ALIGN_RE.search(str(style))
                if m:
                    t.attrSet("class", f"align-{m.group(1)}")
        elif t.type == "inline" and t.children:
            in_sources = skip is not None and skip[0] < i < skip[1]
            t.children = _rewrite_inline(
                t.children, titles, markers=not in_sources, anchors=anchors
            )


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Images are not embedded (no remote fetches): a link to them, or their alt text."""
    token = tokens[idx]
    alt = _html.escape(self.renderInlineAsText(token.children or [], options, env), quote=False)
    src = safe_href(str(token.attrGet("src") or ""))
    if src is None or src.startswith("#") or (token.meta or {}).get("in_link"):
        return alt
    label = alt or _html.escape(src, quote=False)
    return f'<a href="{_html.escape(src)}" class="image-link">{label}</a>'


def _build_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.options["maxNesting"] = 50  # CommonMark preset: 20, too few for 10-deep lists
    md.core.ruler.before("text_join", "draftsmith", _draftsmith_rule)
    md.add_render_rule("image", _render_image)
    return md


_MD = _build_parser()


def parse_tokens(markdown: str, citations: Iterable[Any] | None = None) -> list[Token]:
    """markdown-it tokens of ``markdown`` after the Draftsmith rewriting
    (``cite_open``/``cite_link_open`` tokens around each marker number,
    ``id`` on Sources items). Control characters are removed first."""
    known = _citation_numbers(citations) if citations is not None else None
    env = {"draftsmith_titles": _citation_titles(citations), "draftsmith_known": known}
    return _MD.parse(strip_control_chars(markdown or ""), env)


# --------------------------------------------------------------------------
# sanitising


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "rel":
        return value  # nh3 itself sets rel on links (``link_rel``)
    if attr == "href":
        return safe_href(value)
    if attr == "title":
        return value
    if attr == "id":
        return value if tag == "li" and _SOURCE_ID_RE.fullmatch(value) else None
    if attr == "start":
        return (
            value
            if tag == "ol" and value.isascii() and value.isdigit() and len(value) <= 9
            else None
        )
    if attr == "class":
        allowed = _CLASSES.get(tag)
        if allowed is None:
            return None
        keep = [
            c
            for c in value.split()
            if c in allowed or (tag == "code" and _CODE_CLASS_RE.fullmatch(c))
        ]
        return " ".join(dict.fromkeys(keep)) or None
    return None


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_CLEAN_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    strip_comments=True,
    link_rel=LINK_REL,
    url_schemes=set(_LINK_SCHEMES),
)


def sanitize_html(fragment: str) -> str:
    """Clean an HTML fragment with the Draftsmith allowlist (see module doc)."""
    return _CLEANER.clean(strip_control_chars(fragment))


# --------------------------------------------------------------------------
# public API


def render_html(markdown: str, citations: list[dict] | None = None) -> str:
    """Sanitised HTML for a draft's Markdown.

    Citation markers in body text (``[1]``, ``[1, 3]``, ``[2][5]``, ``[1-3]``)
    become ``<sup class="cite"><a href="#source-n" class="cite-link">[n]</a></sup>``,
    one per number whose Sources item exists (or, without a Sources list, that
    ``citations`` has): ``[99]`` with no source 99 stays plain text, never a link
    to a missing anchor. Markers in code, in link text, in the Sources list itself
    and backslash-escaped ones stay literal. ``citations`` (dicts with ``n``,
    ``document_name``, ``page``) also add a ``title`` tooltip to those links.
    The items of the last "Sources"/"References" list get ``id="source-n"``."""
    tokens = parse_tokens(markdown, citations)
    raw = _MD.renderer.render(tokens, _MD.options, {})
    return sanitize_html(raw)


def plain_title(markdown: str) -> str | None:
    """Text of the first level-1 heading, whitespace collapsed; None if there is none."""
    tokens = _MD.parse(strip_control_chars(markdown or ""), {})
    for i, t in enumerate(tokens):
        if t.type == "heading_open" and t.tag == "h1" and i + 1 < len(tokens):
            text = " ".join(inline_text(tokens[i + 1].children).split())
            return text or None
    return None
