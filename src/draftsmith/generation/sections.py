"""One body section of a stored draft: finding it, describing it to an engine, and
splicing a rewritten section back in.

The splice touches nothing but that section's body: the title, the introduction, the
other sections, the conclusion and every existing Sources entry stay byte for byte.
Sources the new text cites that the draft already cites keep their number; new ones
are numbered after the highest and appended to the Sources list, their quotes chosen
as :func:`~draftsmith.generation.citations.finalize` chooses them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .citations import (
    cite,
    claims_by_number,
    markers_in,
    render_sources,
    rewrite_markers,
    split_body,
)
from .types import Citation, RewrittenSection, SectionTarget

_HEADING_RE = re.compile(r"(?m)^## +(.+?)[ \t]*$")
_FENCE_RE = re.compile(r"(?ms)^(```|~~~).*?^\1[ \t]*$")


@dataclass(frozen=True, slots=True)
class SectionSpan:
    """Body section ``index``: its heading, and the offsets of its text in the markdown
    (``start == end`` for an empty section: right after the heading line)."""

    index: int
    heading: str
    heading_start: int
    start: int
    end: int


def body_sections(markdown: str) -> list[SectionSpan]:
    """The ``##`` sections of a draft's body (before its Sources list), in order; a
    ``##`` line inside a code block is not a heading."""
    body, _ = split_body(markdown)
    fences = [(m.start(), m.end()) for m in _FENCE_RE.finditer(body)]
    heads = [
        m for m in _HEADING_RE.finditer(body) if not any(s <= m.start() < e for s, e in fences)
    ]
    spans: list[SectionSpan] = []
    for i, m in enumerate(heads):
        limit = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        start, end = m.end(), limit
        while start < end and body[start].isspace():
            start += 1
        while end > start and body[end - 1].isspace():
            end -= 1
        if start == end:
            start = end = m.end()
        spans.append(SectionSpan(i, m.group(1).strip(), m.start(), start, end))
    return spans


def _others(markdown: str, spans: list[SectionSpan], index: int) -> list[tuple[str | None, str]]:
    """(heading, text) of every part of the body but section ``index``; the introduction
    (before the first heading, title line left out) has no heading."""
    body, _ = split_body(markdown)
    intro_end = spans[0].heading_start if spans else len(body)
    intro = re.sub(r"\A\s*# [^\n]*\n", "", body[:intro_end]).strip()
    parts: list[tuple[str | None, str]] = [(None, intro)] if intro else []
    parts += [(s.heading, markdown[s.start : s.end]) for s in spans if s.index != index]
    return parts


def section_target(
    markdown: str,
    citations: Sequence[Mapping[str, Any]],
    index: int,
    points: Sequence[str] = (),
    instructions: str | None = None,
) -> SectionTarget | None:
    """What an engine needs to write body section ``index`` again (None: no such section)."""
    spans = body_sections(markdown)
    if not 0 <= index < len(spans):
        return None
    span = spans[index]
    others = _others(markdown, spans, index)
    cited = {n for _, text in others for n in markers_in(text)}
    quoted = frozenset(
        str(c["chunk_id"]) for c in citations if c.get("n") in cited and c.get("chunk_id")
    )
    return SectionTarget(
        index=index,
        heading=span.heading,
        points=list(points),
        body=markdown[span.start : span.end],
        others=others,
        quoted_chunks=quoted,
        instructions=instructions,
    )


def splice_section(
    markdown: str,
    citations: Sequence[Mapping[str, Any]],
    index: int,
    rewritten: RewrittenSection,
    locate: Callable[[Citation], Citation] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The draft with body section ``index`` replaced by ``rewritten``, and its citations
    (the old ones unchanged, then the new ones; each new one carries its ``passage`` text).
    ``locate`` may refine a new citation's page and section before it is listed."""
    spans = body_sections(markdown)
    if not 0 <= index < len(spans):
        raise IndexError(index)
    span = spans[index]
    by_chunk: dict[str, int] = {}
    for c in citations:
        if isinstance(c.get("n"), int) and c.get("chunk_id"):
            by_chunk.setdefault(str(c["chunk_id"]), c["n"])
    next_n = max((c["n"] for c in citations if isinstance(c.get("n"), int)), default=0) + 1
    mapping: dict[int, int | None] = {}
    fresh: dict[int, int] = {}  # provisional -> new number
    for old in markers_in(rewritten.markdown):
        passage = rewritten.passages.get(old)
        if passage is None:
            mapping[old] = None
        elif passage.chunk_id in by_chunk:
            mapping[old] = by_chunk[passage.chunk_id]
        else:
            mapping[old] = fresh[old] = next_n
            by_chunk[passage.chunk_id] = next_n
            next_n += 1
    text = rewrite_markers(rewritten.markdown, mapping).strip()
    claims = claims_by_number(text)
    added: list[dict[str, Any]] = []
    for old, n in fresh.items():
        p = rewritten.passages[old]
        citation = cite(n, p, rewritten.preferred.get(old), claims.get(n, ""))
        if locate is not None:
            citation = locate(citation)
        added.append({**citation.to_dict(), "passage": p.text})
    if span.start == span.end:  # an empty section: the text goes after its heading line
        new_body = markdown[: span.start] + "\n\n" + text + markdown[span.end :]
    else:
        new_body = markdown[: span.start] + text + markdown[span.end :]
    return _with_sources(new_body, added), [*map(dict, citations), *added]


def _with_sources(markdown: str, added: list[dict[str, Any]]) -> str:
    """``markdown`` with the Sources lines of ``added`` appended to its Sources list (a new
    list at the end when it has none); the existing lines stay as they are."""
    if not added:
        return markdown
    listing = render_sources(added)
    body, sources = split_body(markdown)
    if not sources:
        return markdown.rstrip() + "\n\n" + listing
    lines = listing.split("\n\n", 1)[1].rstrip("\n")
    tail = sources[len(sources.rstrip()) :]
    return body + sources.rstrip() + "\n" + lines + (tail or "\n")
