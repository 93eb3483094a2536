"""Structure-aware chunking of an :class:`Extraction` for retrieval and citation.

Every chunk is an exact slice of the extraction's Markdown
(``chunk.text == ex.markdown[chunk.start:chunk.end]``), so a citation can
quote it verbatim and point back to its page/heading.

Algorithm (pure string/regex work, linear in the text):

1. Each section (heading / page) is cut into paragraphs at blank lines; a
   paragraph longer than a unit limit is split at sentence ends, then line
   breaks, then spaces (then characters, for pathological "words").
2. Consecutive sections are grouped so that every group holds at least
   ``min_words`` (a heading-only or tiny section travels with the content
   that follows it; a tiny last section joins the one before).  Chunks never
   straddle a group boundary, so sections/pages of a reasonable size always
   start a new chunk.
3. Inside a group, units are packed into ``round(words / target_words)``
   balanced chunks, never over ``max_words - overlap_words`` (nor a
   character cap, for text without spaces); a short last chunk borrows
   units from its predecessor or merges with it.
4. A chunk that continues the previous chunk's section starts
   ``overlap_words`` words earlier (overlap), so the total stays within
   ``max_words``.

Words are counted and sentences found by the one text layer
(:func:`draftsmith.text.words.word_count`, :mod:`draftsmith.text.sentences`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from draftsmith.text.sentences import split_sentences_in
from draftsmith.text.words import start_of_last_words, word_count

from .boilerplate import mark_boilerplate
from .extract._base import Extraction

__all__ = ["TextChunk", "chunk_extraction"]


@dataclass(slots=True)
class TextChunk:
    ordinal: int
    text: str
    page: int | None
    heading: str | None
    start: int
    end: int
    word_count: int
    #: the label printed on ``page`` (PDF page labels), else its number
    page_label: str | None = None
    #: heading path of the chunk's section ("Installation › Linux")
    section: str | None = None
    #: navigation or apparatus (see documents/boilerplate.py): kept out of generation
    boilerplate: bool = False


_PARA_RE = re.compile(r"\n[ \t]*\n\s*")
_LINE_RE = re.compile(r"\s*\n\s*")
_SPACE_RE = re.compile(r"\s+")
_CHARS_PER_WORD_CAP = 12  # a unit/chunk may not exceed words * this many characters
_OVERLAP_CHARS_PER_WORD = 16  # the overlap reaches back at most overlap_words * this


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _cut(text: str, s: int, e: int, rx: re.Pattern) -> list[tuple[int, int]]:
    """Non-blank spans of text[s:e] between matches of rx."""
    out = []
    pos = s
    for m in rx.finditer(text, s, e):
        a, b = _trim(text, pos, m.start())
        if b > a:
            out.append((a, b))
        pos = m.end()
    a, b = _trim(text, pos, e)
    if b > a:
        out.append((a, b))
    return out


def _sentences(text: str, s: int, e: int) -> list[tuple[int, int]]:
    return [(sent.start, sent.end) for sent in split_sentences_in(text, s, e)]


def _lines(text: str, s: int, e: int) -> list[tuple[int, int]]:
    return _cut(text, s, e, _LINE_RE)


def _spaces(text: str, s: int, e: int) -> list[tuple[int, int]]:
    return _cut(text, s, e, _SPACE_RE)


_SPLITTERS = (_sentences, _lines, _spaces)


def _split(text: str, s: int, e: int, limit: int, level: int, out: list) -> None:
    """Append (start, end, words) pieces of text[s:e], each <= limit words, to out."""
    w = word_count(text[s:e])
    max_chars = limit * _CHARS_PER_WORD_CAP
    if w <= limit and e - s <= max_chars:
        out.append((s, e, w))
        return
    if level >= len(_SPLITTERS):
        # no whitespace left to split on: hard character split
        step = max(max_chars, 1)
        for a in range(s, e, step):
            b = min(a + step, e)
            out.append((a, b, max(word_count(text[a:b]), 1)))
        return
    pieces = _SPLITTERS[level](text, s, e)
    if len(pieces) <= 1:
        _split(text, s, e, limit, level + 1, out)
        return
    cur_s = cur_e = -1
    cur_w = 0
    for a, b in pieces:
        pw = word_count(text[a:b])
        if pw > limit or b - a > max_chars:
            if cur_s >= 0:
                out.append((cur_s, cur_e, cur_w))
                cur_s = -1
            _split(text, a, b, limit, level + 1, out)
            continue
        if cur_s >= 0 and (cur_w + pw > limit or b - cur_s > max_chars):
            out.append((cur_s, cur_e, cur_w))
            cur_s = -1
        if cur_s < 0:
            cur_s, cur_w = a, 0
        cur_e = b
        cur_w += pw
    if cur_s >= 0:
        out.append((cur_s, cur_e, cur_w))


def _overlap_start(text: str, lo: int, s: int, n: int) -> int:
    """Start of the last n words before s (not before lo, nor too far back)."""
    if n <= 0 or s <= lo:
        return s
    return start_of_last_words(text, max(lo, s - n * _OVERLAP_CHARS_PER_WORD), s, n)


@dataclass(slots=True)
class _Units:
    """Units in text order, as parallel lists (the packing loops index them)."""

    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    words: list[int] = field(default_factory=list)
    section: list[int] = field(default_factory=list)  # index into the sections
    para: list[bool] = field(default_factory=list)  # starts a paragraph (a preferred break)


_Sec = tuple[int, int, str | None, int | None, str | None]


def _sections(ex: Extraction) -> list[_Sec]:
    """(start, end, heading, page, path) of the sections: sorted, clipped, non-overlapping."""
    text = ex.markdown
    n = len(text)
    secs: list[_Sec] = []
    for sec in sorted(ex.sections, key=lambda x: (x.start, x.end)):
        s = max(0, min(sec.start, n))
        e = max(s, min(sec.end, n))
        if secs and s < secs[-1][1]:
            s = secs[-1][1]
        if e > s:
            secs.append((s, e, sec.heading, sec.page, sec.path or sec.heading))
    if not secs and text.strip():
        secs = [(0, n, None, None, None)]
    return secs


def _units(text: str, secs: list[tuple], unit_limit: int) -> _Units:
    """Each section's paragraphs, a long one split into pieces of at most unit_limit words."""
    units = _Units()
    pieces: list[tuple[int, int, int]] = []
    for si, (s, e, *_) in enumerate(secs):
        for a, b in _cut(text, s, e, _PARA_RE):
            pieces.clear()
            _split(text, a, b, unit_limit, 0, pieces)
            for j, (pa, pb, w) in enumerate(pieces):
                units.start.append(pa)
                units.end.append(pb)
                units.words.append(w)
                units.section.append(si)
                units.para.append(j == 0)
    return units


def _groups(units: _Units, min_words: int) -> list[list[int]]:
    """[first_unit, last_unit] of runs of consecutive sections with at least min_words each.

    A heading-only or tiny section travels with the content that follows it;
    a small tail joins the previous group."""
    nu = len(units.start)
    u_sec, u_words = units.section, units.words
    groups: list[list[int]] = []
    g_first, g_words = 0, 0
    for i in range(nu):
        if i > g_first and u_sec[i] != u_sec[i - 1] and g_words >= min_words:
            groups.append([g_first, i - 1])
            g_first, g_words = i, 0
        g_words += u_words[i]
    if groups and g_words < min_words:
        groups[-1][1] = nu - 1
    else:
        groups.append([g_first, nu - 1])
    return groups


def _pack_group(
    units: _Units,
    gf: int,
    gl: int,
    *,
    target_words: int,
    min_words: int,
    budget: int,
    char_budget: int,
) -> list[list[int]]:
    """[first_unit, last_unit, words] of balanced chunks over the units gf..gl."""
    u_words, u_start, u_end, u_para = units.words, units.start, units.end, units.para
    total = sum(u_words[gf : gl + 1])
    k = max(1, -(-total // budget), round(total / target_words))
    left_words, left_chunks = total, k
    spans: list[list[int]] = []
    first, words = gf, 0
    for i in range(gf, gl + 1):
        w = u_words[i]
        if i > first:
            goal = left_words / max(left_chunks, 1)
            close = (
                words + w > budget
                or u_end[i] - u_start[first] > char_budget
                or (
                    words >= min_words
                    and words + w / 2 > goal
                    # inside a paragraph, run on a little to reach its end
                    and (u_para[i] or words + w > goal * 1.2)
                )
            )
            if close:
                spans.append([first, i - 1, words])
                left_words -= words
                left_chunks -= 1
                first, words = i, 0
        words += w
    spans.append([first, gl, words])
    _fix_tail(spans, units, min_words, budget, char_budget)
    return spans


def _fix_tail(
    spans: list[list[int]], units: _Units, min_words: int, budget: int, char_budget: int
) -> None:
    """Make a short last chunk of a group viable: borrow units, else merge."""
    if len(spans) < 2 or spans[-1][2] >= min_words:
        return
    u_words, u_start, u_end = units.words, units.start, units.end
    prev, last = spans[-2], spans[-1]
    while prev[1] > prev[0] and last[2] < min_words:
        u = prev[1]
        w = u_words[u]
        if (
            prev[2] - w < min_words
            or last[2] + w > budget
            or u_end[last[1]] - u_start[u] > char_budget
        ):
            break
        prev[1] -= 1
        prev[2] -= w
        last[0] = u
        last[2] += w
    if (
        last[2] < min_words
        and prev[2] + last[2] <= budget
        and u_end[last[1]] - u_start[prev[0]] <= char_budget
    ):
        prev[1] = last[1]
        prev[2] += last[2]
        spans.pop()


def _first_content_unit(text: str, units: _Units, fu: int, lu: int) -> int:
    """The first of units fu..lu that is not a bare Markdown heading line (else fu): the
    section a chunk opening with "# Install" then "## Linux" and its text is about."""
    for u in range(fu, lu + 1):
        if text[units.start[u]] != "#" or "\n" in text[units.start[u] : units.end[u]]:
            return u
    return fu


def _chunks(
    ex: Extraction, secs: list[_Sec], units: _Units, spans: list[list[int]], overlap_words: int
) -> list[TextChunk]:
    """The chunks of the spans; one continuing its predecessor's section starts overlap earlier."""
    text = ex.markdown
    chunks: list[TextChunk] = []
    prev_start = 0
    for k, (fu, lu, _w) in enumerate(spans):
        s, e = units.start[fu], units.end[lu]
        if k > 0 and overlap_words and units.section[fu] == units.section[fu - 1]:
            s = _overlap_start(text, prev_start, s, overlap_words)
        sec = secs[units.section[fu]]
        path = secs[units.section[_first_content_unit(text, units, fu, lu)]][4]
        body = text[s:e]
        chunks.append(
            TextChunk(k, body, sec[3], sec[2], s, e, word_count(body), ex.page_label(sec[3]), path)
        )
        prev_start = units.start[fu]
    return chunks


def chunk_extraction(
    ex: Extraction,
    *,
    target_words: int = 250,
    min_words: int = 150,
    max_words: int = 400,
    overlap_words: int = 30,
) -> list[TextChunk]:
    if not (0 < min_words <= target_words <= max_words):
        raise ValueError("need 0 < min_words <= target_words <= max_words")
    overlap_words = max(0, min(overlap_words, max_words // 4))
    budget = max_words - overlap_words  # words of new content per chunk
    # Units are paragraphs, or pieces of a long paragraph (whole sentences)
    # of at most about min_words / 2: fine enough to balance chunks, and a
    # chunk below min_words always has room for the next unit.
    unit_limit = max(1, min(target_words, budget - min_words, max(min_words // 2, 1)))
    secs = _sections(ex)
    units = _units(ex.markdown, secs, unit_limit)
    if not units.start:
        return []
    char_budget = max_words * _CHARS_PER_WORD_CAP - overlap_words * _OVERLAP_CHARS_PER_WORD
    spans: list[list[int]] = []
    for gf, gl in _groups(units, min_words):
        spans += _pack_group(
            units,
            gf,
            gl,
            target_words=target_words,
            min_words=min_words,
            budget=budget,
            char_budget=char_budget,
        )
    chunks = _chunks(ex, secs, units, spans, overlap_words)
    flags = mark_boilerplate([(c.text, c.heading, c.page) for c in chunks])
    for chunk, flag in zip(chunks, flags, strict=True):
        chunk.boilerplate = flag
    return chunks
