"""Candidate sentences: every source sentence fit for the draft, read once per
passage, with what is known of its neighbours, its heading and its beginning."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

from draftsmith.text.blocks import Block, markdown_blocks
from draftsmith.text.sentences import list_items, looks_like_heading_line, split_sentences_in
from draftsmith.text.tokens import content_words
from draftsmith.text.words import word_count

from ..types import Passage
from .headings import heading_problem, strip_md, verb_words
from .lexicon import DANGLING
from .sentences import (
    ENDS_CLAUSE,
    ENDS_ON_REFERENCE,
    SKIPPABLE,
    SOFT_META,
    clean_display,
    dedupe_key,
    looks_like_bibliography,
    numbered_heading,
    prose_like,
    runs_on,
    sentence_problem,
    tabular,
)
from .units import Unit, code_unit, steps_unit


@dataclass(eq=False)
class Cand:
    """A source sentence fit for the draft."""

    idx: int
    passage: Passage
    s: int  # offsets in passage.text
    e: int
    display: str
    words: frozenset[str]
    nwords: int
    doc_order: int
    dstart: int  # offsets in the document
    dend: int
    #: document end of the sentence right before it (None: none, or a heading/other block between)
    prev_end: int | None
    #: ... and of the one before that (a rejected sentence may sit in between)
    prev_end2: int | None
    #: leans on the sentence before it ("This ...", "But ..."): only usable right after it
    dangling: bool
    #: its beginning is a real sentence start (False: a fragment; None: not known)
    start_ok: bool | None
    penalty: float
    key: str
    #: the source heading it sits under (raw text) and where that heading is
    heading: str | None
    head_pos: int
    first_in_block: bool
    kind: str
    #: the sentence after it leans on it ("... two articles A and B." "These ...")
    leads_on: bool = False

    @property
    def doc(self) -> str:
        return self.passage.document_id

    @property
    def pos(self) -> tuple[int, int, int]:
        return (self.doc_order, self.dstart, self.idx)

    @property
    def usable(self) -> bool:
        return self.start_ok is True


@lru_cache(maxsize=200_000)
def hits(words: frozenset[str], terms: frozenset[str]) -> frozenset[str]:
    """The terms found among ``words``: the same stem, or for words of six letters or
    more the same first five letters ("Mannigfaltigkeiten" ~ "Mannigfaltigkeit")."""
    found = set(words & terms)
    long_terms = [t for t in terms if len(t) >= 6 and t not in found]
    if long_terms:
        prefixes = {w[:5] for w in words if len(w) >= 6}
        found.update(t for t in long_terms if t[:5] in prefixes)
    return frozenset(found)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _merge_intervals(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] + 4:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _covered(merged: list[tuple[int, int]], a: int, b: int) -> bool:
    i = bisect.bisect_right(merged, (a, float("inf"))) - 1
    return i >= 0 and merged[i][0] <= a and merged[i][1] >= b


def _penalty(display: str, kind: str) -> float:
    penalty = 0.0
    if SOFT_META.search(display):
        penalty += 0.2
    if display.rstrip("*_\"'”’)").endswith("?"):
        penalty += 0.25
    if kind == "list":
        penalty += 0.1
    return penalty


_REFERENCES_LINE = re.compile(
    r"(?im)^\s*(?:#+\s*)?(?:\d+\.?\s+)?(?:references|bibliography|works cited|literatur)\s*$"
)

#: a text segment seen in a document: (start, end, ends a clause, runs on)
Segment = tuple[int, int, bool, bool]


class CandidatePool:
    """Splits passages into quality-filtered candidate sentences, once per passage.

    Besides the sentences it remembers, per document, every piece of text it has
    split (to tell whether a passage that starts mid-sentence shows a sentence's
    beginning) and every heading it has seen (so a sentence of a PDF passage knows
    the section heading printed earlier on the page)."""

    def __init__(self) -> None:
        self.by_chunk: dict[str, list[Cand]] = {}
        self.by_span: dict[tuple[str, int, int], Cand] = {}
        self.doc_order: dict[str, int] = {}
        self.seen_keys: set[str] = set()
        self.segments: dict[str, list[Segment]] = {}
        self.headings: dict[str, list[tuple[int, str]]] = {}
        self.covered: dict[str, list[tuple[int, int]]] = {}
        self.extent: dict[str, int] = {}
        #: heading lines at the very end of a passage: (start, end, text)
        self.trailing: dict[str, list[tuple[int, int, str]]] = {}
        self.all: list[Cand] = []
        #: code blocks and numbered procedures, once each
        self.units: list[Unit] = []
        self._unit_spans: set[tuple[str, int]] = set()
        self._unit_texts: set[tuple[str, str]] = set()
        self._dirty = False
        self._verbs: tuple[int, frozenset[str]] | None = None

    def doc(self, document_id: str) -> int:
        return self.doc_order.setdefault(document_id, len(self.doc_order))

    def usable(self, p: Passage) -> list[Cand]:
        return [c for c in self.cands(p) if c.usable]

    def cands(self, p: Passage) -> list[Cand]:
        got = self.by_chunk.get(p.chunk_id)
        if got is not None:
            return got
        out: list[Cand] = []
        self.by_chunk[p.chunk_id] = out
        doc = p.document_id
        self.doc(doc)
        self.covered.setdefault(doc, []).append((p.start, p.end))
        self.extent[doc] = max(self.extent.get(doc, 0), p.end)
        self._dirty = True
        if not looks_like_bibliography(p.text):
            _PassageReader(self, p, out).read()
        else:  # the prose before a reference list in the same passage ("6 Conclusion ...")
            m = _REFERENCES_LINE.search(p.text)
            if m and m.start() > 0 and not looks_like_bibliography(p.text[: m.start()]):
                _PassageReader(self, p, out).read(m.start())
        return out

    def verbs(self) -> frozenset[str]:
        """Words the sentences seen so far use only as verbs (``headings.verb_words``)."""
        if self._verbs is None or self._verbs[0] != len(self.all):
            self._verbs = (len(self.all), verb_words([c.display for c in self.all]))
        return self._verbs[1]

    def resolve(self) -> None:
        """Settle what one passage cannot tell alone, using every passage seen so far:
        whether a sentence at the very start of a passage is a sentence's real beginning
        (else it is never used), and the heading of sentences printed before the first
        heading of their passage (only when the text in between has been seen)."""
        if not self._dirty:
            return
        self._dirty = False
        self._adopt_trailing_headings()
        segs = {d: sorted(v) for d, v in self.segments.items()}
        seg_starts = {d: [s[0] for s in v] for d, v in segs.items()}
        heads = {d: sorted(v) for d, v in self.headings.items()}
        cover = {d: _merge_intervals(v) for d, v in self.covered.items()}
        for c in self.all:
            d = c.doc
            if c.start_ok is None:
                c.start_ok = _start_verdict(c, segs.get(d, []), seg_starts.get(d, []))
            if c.heading is None and d in heads:
                hs = heads[d]
                k = bisect.bisect_left(hs, (c.dstart,)) - 1
                if k >= 0 and _covered(cover[d], hs[k][0], c.dstart):
                    c.heading, c.head_pos = hs[k][1], hs[k][0]

    def _adopt_trailing_headings(self) -> None:
        """A heading line that ends one passage, followed by prose in the next."""
        known = {(c.doc, c.dstart) for c in self.all if c.start_ok is not False}
        for d, lines in self.trailing.items():
            for s, e, text in lines:
                if (
                    any((d, e + k) in known for k in range(1, 5))
                    and (s, text) not in self.headings[d]
                ):
                    self.headings[d].append((s, text))


_NUMBERED_ITEM = re.compile(r"\s*\(?\d{1,3}[.)]\s")


def _loose_lists_joined(text: str, blocks: list[Block]) -> list[Block]:
    """Numbered items separated by blank lines (a "loose" list) as one list block."""
    out: list[Block] = []
    for b in blocks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind == b.kind == "list"
            and _NUMBERED_ITEM.match(text, prev.start)
            and _NUMBERED_ITEM.match(text, b.start)
            and not text[prev.end : b.start].strip()
        ):
            out[-1] = Block(prev.start, b.end, "list")
            continue
        out.append(b)
    return out


def _start_verdict(c: Cand, segs: list[Segment], seg_starts: list[int]) -> bool | None:
    """Whether the text seen before ``c`` (in other passages) shows it starts a sentence;
    sets its ``prev_end`` when that text ends right before it."""
    i = bisect.bisect_left(seg_starts, c.dstart) - 1
    best: Segment | None = None
    steps = 0
    while i >= 0 and steps < 16:
        s, e, _, _ = segs[i]
        if s < c.dstart < e:
            return False  # another passage shows it is the tail of a sentence
        if e <= c.dstart and (best is None or e > best[1]):
            best = segs[i]
        i -= 1
        steps += 1
    if best is None or c.dstart - best[1] > 4:
        return None
    verdict = (not best[3]) if c.dstart - best[1] >= 2 else best[2]
    if verdict and c.prev_end is None:
        c.prev_end = best[1]
    return verdict


class _PassageReader:
    """Reads one passage block by block and sentence by sentence into the pool,
    following the flow of the text (what came right before each sentence)."""

    def __init__(self, pool: CandidatePool, p: Passage, out: list[Cand]) -> None:
        self.pool, self.p, self.out = pool, p, out
        self.doc = p.document_id
        self.order = pool.doc(self.doc)
        self.segs = pool.segments.setdefault(self.doc, [])
        self.heads = pool.headings.setdefault(self.doc, [])
        self.heading = p.heading or None
        self.head_pos = p.start if self.heading else -1
        if self.heading:
            self.heads.append((p.start, self.heading))
        self.prev: tuple[int, bool, bool] | None = None  # (end, ends a clause, runs on)
        self.prev2: int | None = None
        self.boundary = False  # a heading, table, list, ... since ``prev``
        self.pending: tuple[int, str] | None = None  # a heading line awaiting its sentence
        self.prev_skippable = False  # ``prev`` was dropped but the text reads on without it
        self.prev_start = self.cur_start = 0  # document start of ``prev`` and the current one
        self.first = True  # the next sentence opens its block
        self.multiline = False
        #: the last sentence read: (start, end, display, fit for the draft, its candidate)
        self.last: tuple[int, int, str, bool, Cand | None] | None = None

    def _break_flow(self) -> None:
        self.prev, self.prev2, self.boundary, self.pending = None, None, True, None

    def read(self, limit: int | None = None) -> None:
        text = self.p.text
        for b in _loose_lists_joined(text, markdown_blocks(text[:limit] if limit else text)):
            if b.kind == "heading":
                h = strip_md(text[b.start : b.end].split("\n")[0])
                if h:
                    self.heading, self.head_pos = h, self.p.start + b.start
                    self.heads.append((self.head_pos, h))
                self.segs.append((self.p.start + b.start, self.p.start + b.end, True, False))
                self._break_flow()
                continue
            if b.kind == "code" or b.kind == "list":
                unit = (code_unit if b.kind == "code" else steps_unit)(self.p, b, self.heading)
                if unit is not None:
                    self._add_unit(unit, b)
                    self._break_flow()
                    continue
            if b.kind not in ("prose", "list"):
                self._break_flow()
                continue
            items = list_items(text, b) if b.kind == "list" else [(b.start, b.end)]
            self.multiline = "\n" in text[b.start : b.end]
            for a, z in items:
                # a "list item" running over several lines of extracted text ("A. Author\n
                # Abstract\nA tide pool is ...") is prose that happens to start like one
                kind = b.kind if b.kind == "prose" or text.count("\n", a, z) < 2 else "prose"
                if b.kind == "list":
                    self.prev, self.prev2, self.boundary = None, None, True
                    self.multiline = kind == "prose"
                self.first = True
                for sent in split_sentences_in(text, a, z, kind, join_wrapped_lines=True):
                    self._sentence(sent.start, sent.end, sent.text, kind)
        if self.pending is not None and heading_problem(self.pending[1])[1] != "junk":
            # the passage ends on a heading line: its text is in the next passage
            s, h = self.pending
            self.pool.trailing.setdefault(self.doc, []).append((s, s + len(h), h))

    def _add_unit(self, unit: Unit, b) -> None:
        """Keep a block once, with the sentence that leads to it (if it ends right
        before the block)."""
        pool = self.pool
        text_key = (self.doc, unit.markdown[:200])
        if (self.doc, unit.dstart) in pool._unit_spans or text_key in pool._unit_texts:
            return
        pool._unit_spans.add((self.doc, unit.dstart))
        pool._unit_texts.add(text_key)
        last = self.last
        # the sentence right before the block leads to it if it says so ("... like this:")
        # or speaks of what the block holds
        if (
            last is not None
            and last[3]
            and not self.p.text[last[1] : b.start].strip()
            and (last[2].endswith(":") or len(frozenset(content_words(last[2])) & unit.words) >= 2)
        ):
            unit.lead = last[:3]
            unit.lead_idx = last[4].idx if last[4] is not None else None
        pool.units.append(unit)

    def _heading_line(self, ds: int, de: int, raw: str, kind: str) -> bool:
        """A line that may be a heading (PDF text): held until prose follows it."""
        if not (
            kind == "prose"
            and "\n" not in raw
            # a numbered heading may ask a question ("1.2. What is this spec?")
            and (not ENDS_CLAUSE.search(raw) or (raw.endswith("?") and numbered_heading(raw)))
            and looks_like_heading_line(raw)
            # a line of its own in Markdown is a caption, unless numbered
            and (self.multiline or numbered_heading(raw))
        ):
            return False
        if not any(ch.isalpha() for ch in raw):
            return True  # a page number between two lines: transparent
        self.segs.append((ds, de, True, False))
        self.pending = (ds, raw)
        self.prev, self.prev2, self.boundary = (de, True, False), None, True
        self.first = False
        return True

    def _start_ok(self) -> bool | None:
        if self.boundary:
            return True
        if self.prev is None:
            return True if self.p.start == 0 else None
        if self.first:  # a new paragraph: only a clear run-on makes it a fragment
            return not self.prev[2]
        return self.prev[1]

    def _sentence(self, s: int, e: int, raw: str, kind: str) -> None:
        ds, de = self.p.start + s, self.p.start + e
        if self._heading_line(ds, de, raw, kind):
            return
        display = clean_display(raw)
        problem = "table row" if tabular(raw) else sentence_problem(display)
        start_ok = self._start_ok()
        ends = bool(ENDS_CLAUSE.search(raw.rstrip()))
        self.segs.append((ds, de, ends, runs_on(raw)))
        if self.pending is not None:
            # a heading line is a heading if real prose follows it
            if start_ok and prose_like(display) and heading_problem(self.pending[1])[1] != "junk":
                self.heading, self.head_pos = self.pending[1], self.pending[0]
                self.heads.append(self.pending)
            self.pending = None
        pe = self.prev[0] if self.prev is not None and not self.boundary else None
        pe2 = self.prev2 if not self.boundary and self.prev_skippable else None
        self.prev2 = self.prev[0] if self.prev is not None else None
        self.prev_start, self.cur_start = self.cur_start, ds
        self.prev = (de, ends, runs_on(raw))
        self.prev_skippable = problem in SKIPPABLE
        self.boundary = False
        block_first, self.first = self.first, False
        # a sentence that introduces what follows ("... like this:") may lead to a block
        lead_ok = start_ok is not False and (
            problem is None
            or (
                display.endswith(":")
                and problem in ("no final punctuation", "introduces something")
            )
        )
        self.last = (s, e, display, lead_ok, None)
        if problem or start_ok is False:
            return
        if kind == "list" and word_count(display) < 8:
            return
        old = self.pool.by_span.get((self.doc, ds, de))
        if old is not None:  # the same sentence in an overlapping passage
            self._complete(old, start_ok, pe, pe2)
            return
        self._add(s, e, display, start_ok, (pe, pe2), block_first, kind)

    def _complete(self, old: Cand, start_ok: bool | None, pe: int | None, pe2: int | None) -> None:
        if old.start_ok is None and start_ok is not None:
            old.start_ok = start_ok
        if old.prev_end is None and pe is not None:
            old.prev_end, old.prev_end2 = pe, pe2
        if old.heading is None and self.heading:
            old.heading, old.head_pos = self.heading, self.head_pos
        if old not in self.out:
            self.out.append(old)

    def _add(
        self,
        s: int,
        e: int,
        display: str,
        start_ok: bool | None,
        prev_ends: tuple[int | None, int | None],
        block_first: bool,
        kind: str,
    ) -> None:
        pool = self.pool
        key = dedupe_key(display)
        if key in pool.seen_keys:  # verbatim duplicate of a sentence elsewhere
            return
        words = frozenset(content_words(display))
        if not words:
            return
        pool.seen_keys.add(key)
        pe, pe2 = prev_ends
        c = Cand(
            idx=len(pool.all),
            passage=self.p,
            s=s,
            e=e,
            display=display,
            words=words,
            nwords=word_count(display),
            doc_order=self.order,
            dstart=self.p.start + s,
            dend=self.p.start + e,
            prev_end=pe,
            prev_end2=pe2,
            dangling=bool(
                DANGLING.match(display.lstrip("*_\"'“‘(¿¡")) or ENDS_ON_REFERENCE.search(display)
            ),
            start_ok=start_ok,
            penalty=_penalty(display, kind),
            key=key,
            heading=self.heading,
            head_pos=self.head_pos,
            first_in_block=block_first,
            kind=kind,
        )
        if c.dangling and pe is not None and self.prev_start:
            before = pool.by_span.get((self.doc, self.prev_start, pe))
            if before is not None:
                before.leads_on = True
        pool.by_span[(self.doc, c.dstart, c.dend)] = c
        pool.all.append(c)
        self.out.append(c)
        if self.last is not None and self.last[0] == s:
            self.last = (*self.last[:4], c)
