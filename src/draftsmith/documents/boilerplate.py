"""Which chunks are navigation or boilerplate rather than content.

A marked chunk stays in the document (its text, offsets and viewer are unchanged) but is
kept out of retrieval for generation, so a menu or a reference list never becomes a
prompt's passage [1]. The heuristic, per chunk (its lines without the heading line):

- a heading that names apparatus: contents, see also, references, citations, notes,
  external links, further reading, bibliography, navigation, footer, cookies, ...;
- link density: at least 40% of the characters are Markdown links or bare URLs;
- reference-list entries: at least half the lines cite (ISBN, doi:, "Retrieved <date>",
  "Archived", ``[12] https://...``);
- a table of contents: at least half the lines end in a page number after dot leaders;
- a menu or link list: 6+ lines, 80% of them at most 4 words, and (almost) no sentence;
- legal/cookie lines: a short chunk (< 80 words) about copyright, cookies or terms;
- running headers/footers: 70% of the lines repeat on 3+ pages or chunks of the document.

Tables and code blocks are content, never menus (their short lines do not count).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_APPARATUS = re.compile(
    r"^\W*(table of contents|contents|see also|references|citations|notes|"
    r"external links|further reading|bibliography|sources and further reading|"
    r"navigation( menu)?|main menu|site map|sitemap|footer|cookies?( policy| settings)?|"
    r"privacy policy|terms of (use|service)|share this( article)?|related (articles|posts))"
    r"\W*$",
    re.IGNORECASE,
)
_LINK = re.compile(r"\[[^\]\n]*\]\([^)\s]*\)|https?://\S+|www\.\S+")
_CITES = re.compile(
    r"\bISBN\b|\bdoi:|\bRetrieved( on)? \d|\bArchived\b|^\W*\[\d+\]\s*(https?://|www\.)",
    re.IGNORECASE,
)
_TOC_LINE = re.compile(r"(\.\s?){4,}\s*\d+\s*$|\s\.{2,}\s*[ivxlc\d]+\s*$", re.IGNORECASE)
_LEGAL = re.compile(
    r"©|\bcopyright\b|all rights reserved|\bcookies?\b|privacy policy|terms of (use|service)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?(\s|$)")
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _lines(text: str, heading: str | None) -> list[str]:
    """The chunk's non-blank lines, without its heading line, tables and code blocks."""
    out, fenced = [], False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if not line or fenced or line.startswith("|"):
            continue
        if line.startswith("#") and heading and line.lstrip("#").strip() == heading.strip():
            continue
        out.append(line)
    return out


def _line_key(line: str) -> str:
    """A line as a running header repeats it: page numbers and dates may differ."""
    return _DIGITS.sub("#", " ".join(line.lower().split()))


def _is_menu(lines: list[str]) -> bool:
    if len(lines) < 6:
        return False
    short = sum(len(line.lstrip("-*+ ").split()) <= 4 for line in lines)
    sentences = sum(bool(_SENTENCE_END.search(line)) for line in lines)
    return short >= 0.8 * len(lines) and sentences <= 0.1 * len(lines)


def is_boilerplate(
    text: str, heading: str | None, paged: bool = False, repeated: frozenset[str] = frozenset()
) -> bool:
    """True when the chunk is navigation or apparatus (see the module docstring)."""
    if heading and _APPARATUS.match(heading):
        return True
    lines = _lines(text, heading)
    if not lines:
        return False
    body = "\n".join(lines)
    linked = sum(len(m.group(0)) for m in _LINK.finditer(body))
    if linked >= 0.4 * len(body):
        return True
    n = len(lines)
    if sum(bool(_CITES.search(line)) for line in lines) >= 0.5 * n and n >= 3:
        return True
    if sum(bool(_TOC_LINE.search(line)) for line in lines) >= 0.5 * n and n >= 3:
        return True
    if not paged and _is_menu(lines):
        return True
    if len(body.split()) < 80 and _LEGAL.search(body):
        return True
    return bool(repeated) and sum(_line_key(x) in repeated for x in lines) >= 0.7 * n


def repeated_lines(pages: Sequence[tuple[str, int | None]]) -> frozenset[str]:
    """Short lines (digits ignored) found on at least 3 pages and a fifth of them: running
    headers and footers. ``pages`` are ``(text, page)`` pairs (a page may span several)."""
    seen: dict[str, set[int | None]] = {}
    for text, page in pages:
        for line in text.splitlines():
            if 2 <= len(line.split()) <= 15 and len(_WORD.findall(line)) >= 2:
                seen.setdefault(_line_key(line), set()).add(page)
    min_pages = max(3, len({page for _, page in pages}) // 5)
    return frozenset(key for key, where in seen.items() if len(where) >= min_pages)


def mark_boilerplate(chunks: Sequence[tuple[str, str | None, int | None]]) -> list[bool]:
    """``is_boilerplate`` of each ``(text, heading, page)`` of one document's chunks."""
    paged = any(page is not None for _, _, page in chunks)
    repeated = repeated_lines([(t, p) for t, _, p in chunks]) if paged else frozenset()
    return [is_boilerplate(text, heading, paged, repeated) for text, heading, _ in chunks]
