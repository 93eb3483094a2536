"""The document viewer's model: a document's extracted text, a cited span marked in it.

Citations point at ``[start, end)`` of the document's extracted Markdown; the
viewer shows that text page by page (PDFs) with the span marked, and says on
which page and under which heading it lies. A span that does not fit the text
is ignored (the text is shown without a mark, with a note), never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .locations import Location, location_at, stored_locations

__all__ = ["Run", "Block", "View", "parse_span", "build_view"]

BAD_SPAN_NOTE = (
    "The link points to a passage that is not in the text of this document, "
    "so the whole text is shown without a highlight."
)


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    marked: bool = False


@dataclass(slots=True)
class Block:
    """A stretch of text; ``page`` is set where a new page of a PDF starts."""

    page: Location | None
    runs: list[Run] = field(default_factory=list)


@dataclass(slots=True)
class View:
    blocks: list[Block]
    span: tuple[int, int] | None
    location: Location | None
    note: str | None


def parse_span(start: str | None, end: str | None, length: int) -> tuple[int, int] | None:
    """``(start, end)`` when both are integers with ``0 <= start < end <= length``."""
    if start is None or end is None:
        return None
    try:
        s, e = int(start.strip()), int(end.strip())
    except ValueError:
        return None
    return (s, e) if 0 <= s < e <= length else None


def _page_breaks(sections: list[tuple[int, Location]]) -> list[tuple[int, Location]]:
    """Offsets where a new page starts (PDFs), with that page's location."""
    breaks: list[tuple[int, Location]] = []
    page = None
    for start, location in sections:
        if location.page is not None and location.page != page:
            breaks.append((start, location))
            page = location.page
    return breaks


def _runs(text: str, a: int, b: int, span: tuple[int, int] | None) -> list[Run]:
    """``text[a:b]`` as runs, the part inside ``span`` marked."""
    if span is None or span[1] <= a or span[0] >= b:
        return [Run(text[a:b])]
    s, e = max(a, span[0]), min(b, span[1])
    runs = [Run(text[a:s]), Run(text[s:e], True), Run(text[e:b])]
    return [r for r in runs if r.text]


#: a PDF's layout line break inside a sentence (the next line goes on in lower case)
_WRAPPED_LINE = re.compile(r"(?<=\S)\n(?=[a-z(])")


def build_view(
    markdown: str,
    sections: list[dict[str, Any]] | None,
    start: str | None = None,
    end: str | None = None,
    *,
    reflow: bool = False,
) -> View:
    """The blocks of ``markdown`` (one per page of a PDF) with ``[start, end)`` marked.

    ``start``/``end`` are the raw query values; bad ones give an unmarked view and a note
    (none when neither was given). ``reflow`` (PDFs) shows lines wrapped by the page
    layout as running text: each such line break becomes a space, so offsets still hold."""
    span = parse_span(start, end, len(markdown))
    if reflow:
        markdown = _WRAPPED_LINE.sub(" ", markdown)
    note = BAD_SPAN_NOTE if span is None and (start is not None or end is not None) else None
    located = stored_locations(sections, len(markdown))
    cuts = _page_breaks(located)
    if not cuts or cuts[0][0] > 0:
        cuts.insert(0, (0, None))
    blocks = []
    for i, (a, page) in enumerate(cuts):
        b = cuts[i + 1][0] if i + 1 < len(cuts) else len(markdown)
        blocks.append(Block(page, _runs(markdown, a, b, span)))
    location = location_at(located, span[0]) if span else None
    return View(blocks=blocks, span=span, location=location, note=note)
