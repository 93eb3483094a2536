"""Choosing the sections: the sources' own headings first (scored by how well their
passages match the topic), topped up with key phrases shared by several passages,
and as a last resort one section per document."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from draftsmith.text.phrases import extract_keyphrases
from draftsmith.text.tokens import content_words, tokenize

from ..types import GenerationRequest, Passage, Plan, target_words
from .candidates import Cand, CandidatePool, hits, jaccard
from .focus import TopicFocus
from .headings import (
    clean_heading,
    good_heading_phrase,
    heading_key,
    is_summary_heading,
    names_topic,
    strip_md,
    title_case_phrase,
)
from .lexicon import HOW_QUESTION, PROCEDURE_HEADING, SEQUENCE
from .selection import passage_scores

SECTIONS_FOR_LENGTH = {"short": 2, "medium": 3, "long": 5}
INTRO_SHARE = 0.14
CONCLUSION_SHARE = 0.11


@dataclass
class SectionPlan:
    """A planned section of the draft, and (once written) its paragraphs."""

    heading: str
    points: list[str]
    query: str
    passages: list[Passage]
    pos: tuple[int, int]
    #: heading key of the source section it is made of ("" for a key-phrase section)
    key: str = ""
    #: sentences (Cand.idx) that belong to it
    members: set[int] = field(default_factory=set)
    #: stems that say a sentence is about its sub-topic (key-phrase sections)
    focus: frozenset[str] = frozenset()
    budget: int = 0
    paras: list[list[Cand]] = field(default_factory=list)
    pool: list[Cand] = field(default_factory=list)
    relevance: dict[int, float] = field(default_factory=dict)
    chains: list[list[Cand]] = field(default_factory=list)
    #: left out: not about the topic
    dropped: bool = False

    @property
    def words(self) -> int:
        return sum(c.nwords for para in self.paras for c in para)


@dataclass
class _Candidate:
    """A possible section: a source section, or sentences sharing a key phrase."""

    heading: str
    passages: list[Passage]
    cands: dict[int, Cand]
    pos: tuple[int, int]
    focus: frozenset[str]
    rank: int = 0
    score: float = 0.0
    words: int = 0
    chunks: set[str] = field(default_factory=set)
    #: made of a key phrase (or a document), not of a source section
    phrase: bool = False


def plan_sections(
    req: GenerationRequest,
    passages: list[Passage],
    pool: CandidatePool,
    topic_words: list[str],
    case_map: dict[str, str],
) -> list[SectionPlan]:
    """The draft's sections in source order."""
    return _Planner(req, passages, pool, topic_words, case_map).plan()


class _Planner:
    def __init__(
        self,
        req: GenerationRequest,
        passages: list[Passage],
        pool: CandidatePool,
        topic_words: list[str],
        case_map: dict[str, str],
    ) -> None:
        self.req, self.pool, self.case_map = req, pool, case_map
        self.topic_words = topic_words
        self.n_sections = SECTIONS_FOR_LENGTH.get(req.length, 3)
        max_score = max((p.score for p in passages), default=0.0) or 1.0
        self.all_passages = passages
        self.passages = passages
        if max_score > 0 and any(p.score > 0 for p in passages):
            # key-phrase sub-topics come from passages that really match the topic, not
            # from the long tail (a source section is scored by its passages' scores)
            strong = [p for p in passages if p.score >= 0.3 * max_score]
            if len(strong) >= 4:
                self.passages = strong
        self.weights = passage_scores(passages)
        self.topic_stems = set(content_words(" ".join(topic_words)))
        self.topic_key = heading_key(req.topic)
        # the topic's subject, its last word, unless it lists several ("ducks: feeding and
        # breeding"): a heading naming only it says nothing ("Model" in a post on a model)
        subject = content_words(topic_words[-1]) if topic_words else []
        listing = bool(re.search(r",|&|\band\b|\bund\b|\bet\b|\by\b", req.topic))
        self.subject = frozenset(subject) if subject and not listing else frozenset()
        # the best sub-topics; more (up to two) while they do not hold enough words
        self.need = 1.3 * (1 - INTRO_SHARE - CONCLUSION_SHARE) * target_words(req.length)
        self.chosen: list[_Candidate] = []

    def plan(self) -> list[SectionPlan]:
        groups = self._source_sections()
        self._score_on_topic(groups)
        small = self._choose(groups)
        if len(self.chosen) < self.n_sections or self._chosen_words() < self.need:
            self._add_key_phrase_sections()
        for g in small:  # thin sources: small source sections rather than none
            if self._chosen_words() >= self.need or len(self.chosen) >= self.n_sections + 2:
                break
            if not self._similar(g):
                self.chosen.append(g)
        if len(self.chosen) < 2:
            self._split_by_document()
        self._every_document(groups)
        plans = [self._to_plan(g) for g in self.chosen]
        plans.sort(key=lambda pl: pl.pos)
        return plans

    def _chosen_words(self) -> int:
        return sum(g.words for g in self.chosen)

    def _similar(self, g: _Candidate) -> bool:
        hw = frozenset(content_words(g.heading))
        return any(jaccard(hw, frozenset(content_words(c.heading))) >= 0.6 for c in self.chosen)

    def _names_the_topic(self, c: Cand, key: str, titles: set[str]) -> bool:
        """The heading names the whole topic (or is the document's title)."""
        hk = set(key.split())
        return (
            key == self.topic_key
            or names_topic(key, self.topic_stems)
            or (bool(hk) and hk <= self.subject)
            or c.head_pos == 0
            or heading_key(strip_md(c.heading or "")) in titles
        )

    def _source_sections(self) -> dict[str, _Candidate]:
        """The sentences of the passages grouped by their (clean) source heading."""
        # a heading at the very start of a document is its title, not a sub-topic
        titles = {
            heading_key(strip_md(h))
            for hs in self.pool.headings.values()
            for pos, h in hs
            if pos <= 2
        }
        groups: dict[str, _Candidate] = {}
        for rank, p in enumerate(self.all_passages):
            cs = self.pool.usable(p)
            total = sum(c.nwords for c in cs) or 1
            for c in cs:
                h = clean_heading(c.heading, self.case_map)
                if not h:
                    continue
                key = heading_key(h)
                if self._names_the_topic(c, key, titles):
                    continue
                where = (c.doc_order, c.head_pos if c.head_pos >= 0 else c.dstart)
                g = groups.get(key)
                if g is None:
                    g = groups[key] = _Candidate(
                        h, [], {}, where, frozenset(content_words(h)), rank=rank
                    )
                if c.idx in g.cands:
                    continue
                g.cands[c.idx] = c
                if p.chunk_id not in g.chunks:
                    g.chunks.add(p.chunk_id)
                    g.passages.append(p)
                g.score += self.weights[p.chunk_id] * c.nwords / total
                g.words += c.nwords
                g.pos = min(g.pos, where)
        return groups

    def _score_on_topic(self, groups: dict[str, _Candidate]) -> None:
        """Drop sections that never mention the topic; rank the others by how well they
        answer it: the retrieval scores of their passages (their number counts by its
        square root: a long section holds more words, not a better answer), the topic's
        words they use and their heading names, each weighted by how few sections use it
        (the "MIME" of a MIME spec tells no section apart, its "detects" does), and, for
        a topic asking how, a heading or sentences that describe a procedure."""
        stems = frozenset(self.topic_stems)
        said = {
            key: hits(frozenset(w for c in g.cands.values() for w in c.words), stems)
            for key, g in groups.items()
        }
        for key, found in said.items():
            if stems and not found:
                del groups[key]  # a section that never mentions the topic is off-topic
        # sums over sets: math.fsum, exact whatever order the hash seed gives them
        n = len(groups)
        weight = {
            t: math.log(1 + (n + 1) / (0.5 + sum(t in said[k] for k in groups))) for t in stems
        }
        total, top = math.fsum(weight.values()), max(weight.values(), default=0.0)
        how = bool(HOW_QUESTION.search(self.req.topic))
        for key, g in groups.items():
            size = math.sqrt(max(1, len(g.passages)))
            g.score = 0.15 * size + g.score / size
            if total > 0:
                g.score += 0.3 * math.fsum(weight[t] for t in said[key]) / total
                # a heading that names part of the topic ("Breeding" for "ducks: behaviour,
                # breeding and ...") is what the reader asked about (a part few sections
                # name all the more)
                hk = frozenset(heading_key(g.heading).split())
                named = math.fsum(0.5 + 0.5 * weight[t] / top for t in hits(hk, stems))
                g.score += 0.5 * named / max(1, len(hk))
            if how:
                g.score += 0.3 if PROCEDURE_HEADING.search(g.heading) else 0.0
                steps = sum(1 for c in g.cands.values() if SEQUENCE.search(c.display))
                g.score += 0.5 * steps / len(g.cands)

    def _choose(self, groups: dict[str, _Candidate]) -> list[_Candidate]:
        """Pick the best source sections into ``chosen``; returns the small ones kept
        back to reach the number of sections."""

        def order(g: _Candidate) -> tuple[float, int, str]:
            return (-g.score, g.rank, g.heading)

        ranked = sorted(
            (g for g in groups.values() if g.words >= 40 and len(g.cands) >= 2), key=order
        )
        if len(ranked) < self.n_sections:  # thin sources: smaller source sections will do
            ranked += sorted(
                (g for g in groups.values() if 20 <= g.words < 40 and len(g.cands) >= 2),
                key=order,
            )
        small: list[_Candidate] = []
        n = self.n_sections
        for g in ranked:
            if self._similar(g):
                continue
            if len(self.chosen) >= n and g.words < 40:
                small.append(g)  # a small section only to reach the number of sections
                continue
            if len(self.chosen) >= n and (
                self._chosen_words() >= self.need or len(self.chosen) >= n + 2
            ):
                continue
            self.chosen.append(g)
        return small

    def _uncovered(self) -> tuple[set[int], list[Passage], list[list[Cand]]]:
        """(covered sentences, passages with others, those others per passage)."""
        covered = {i for g in self.chosen for i in g.cands}
        # sentences of other real sections, and summaries (for the conclusion), stay out
        covered |= {
            c.idx
            for p in self.passages
            for c in self.pool.usable(p)
            if is_summary_heading(c.heading) or clean_heading(c.heading, self.case_map)
        }
        rest = [p for p in self.passages if any(c.idx not in covered for c in self.pool.usable(p))]
        rest_cands = [[c for c in self.pool.usable(p) if c.idx not in covered] for p in rest]
        return covered, rest, rest_cands

    def _add_key_phrase_sections(self) -> None:
        """Top up with key-phrase sections from sentences no chosen section covers."""
        covered, rest, rest_cands = self._uncovered()
        texts = [" ".join(c.display for c in cs) for cs in rest_cands]
        exclude = self.topic_words + [w for g in self.chosen for w in tokenize(g.heading)]
        phrases = [
            (ph, sc, frozenset(content_words(ph)))
            for ph, sc in extract_keyphrases(texts, k=40, exclude=exclude, min_df=2)
            if good_heading_phrase(ph, self.case_map, self.pool.verbs())
        ]
        rest_words = [frozenset(w for c in cs for w in c.words) for cs in rest_cands]
        taken: set[str] = set()
        n = self.n_sections
        while phrases and (
            len(self.chosen) < n or (self._chosen_words() < self.need and len(self.chosen) < n + 2)
        ):
            best = self._best_phrase(phrases, rest, rest_words, taken)
            if best is None:
                break
            ph, words, members = best
            phrases = [x for x in phrases if x[0] != ph and not (x[2] & words)]
            taken.update(p.chunk_id for p in members)
            cands = {c.idx: c for p in members for c in self.pool.usable(p) if c.idx not in covered}
            if not cands:  # every sentence of these passages already has a section
                continue
            covered |= set(cands)
            self.chosen.append(
                _Candidate(
                    title_case_phrase(ph, self.case_map),
                    members,
                    cands,
                    min((c.doc_order, c.dstart) for c in cands.values()),
                    words,
                    rank=len(self.passages),
                    words=sum(c.nwords for c in cands.values()),
                    phrase=True,
                )
            )

    def _best_phrase(
        self,
        phrases: list[tuple[str, float, frozenset[str]]],
        rest: list[Passage],
        rest_words: list[frozenset[str]],
        taken: set[str],
    ) -> tuple[str, frozenset[str], list[Passage]] | None:
        """The key phrase shared by the most passages not yet taken, weighted by its score."""
        best = None
        for ph, sc, words in phrases:
            members = [p for p, rw in zip(rest, rest_words, strict=False) if words <= rw]
            fresh = sum(1 for p in members if p.chunk_id not in taken)
            if len(members) < 2 or fresh < 1:
                continue
            mw = sum(c.nwords for p in members for c in self.pool.usable(p))
            if mw < 40:
                continue
            value = sc * math.sqrt(fresh + 0.3 * (len(members) - fresh))
            if best is None or value > best[0]:
                best = (value, ph, words, members)
        return None if best is None else best[1:]

    def _every_document(self, groups: dict[str, _Candidate]) -> None:
        """Each document that covers the topic gets a section of its own if none of the
        chosen ones holds its sentences (a short DOCX beside a long manual is cited too)."""
        cands = [c for p in self.all_passages for c in self.pool.usable(p)]
        focus = TopicFocus(self.topic_words, cands)
        have = {c.doc for g in self.chosen for c in g.cands.values()}
        for doc in sorted(focus.covering_documents(cands) - have, key=self.pool.doc):

            def on_topic(g: _Candidate, doc: str = doc) -> int:
                return sum(1 for c in g.cands.values() if c.doc == doc and focus.on_topic(c))

            options = [
                g
                for g in groups.values()
                if g not in self.chosen and g.words >= 15 and on_topic(g) and not self._similar(g)
            ]
            if options:
                self.chosen.append(max(options, key=lambda g: (on_topic(g), g.score, g.heading)))
                continue
            passages = [
                p
                for p in self.all_passages
                if p.document_id == doc and any(focus.on_topic(c) for c in self.pool.usable(p))
            ]
            own = {c.idx: c for p in passages for c in self.pool.usable(p) if focus.on_topic(c)}
            heading = self._bucket_heading(passages, {g.heading.lower() for g in self.chosen})
            pos = min((c.doc_order, c.dstart) for c in own.values())
            focus_words = frozenset(content_words(heading))
            self.chosen.append(_Candidate(heading, passages, own, pos, focus_words, phrase=True))

    def _split_by_document(self) -> None:
        """Last resort: split the material by document (or by halves of the ranking)."""
        pool = self.pool
        by_doc: dict[str, list[Passage]] = {}
        for p in self.passages:
            if pool.usable(p):
                by_doc.setdefault(p.document_id, []).append(p)
        buckets = list(by_doc.values())
        if len(buckets) < 2:
            ordered = sorted(
                (p for p in self.passages if pool.usable(p)),
                key=lambda p: (pool.doc(p.document_id), p.start),
            )
            half = max(1, len(ordered) // 2)
            buckets = [ordered[:half], ordered[half:]] if len(ordered) > 1 else [ordered]
        self.chosen = []
        used_heads: set[str] = set()
        for b in buckets[: self.n_sections]:
            heading = self._bucket_heading(b, used_heads)
            cands = {c.idx: c for p in b for c in pool.usable(p)}
            pos = min(((c.doc_order, c.dstart) for c in cands.values()), default=(0, 0))
            focus = frozenset(content_words(heading))
            self.chosen.append(_Candidate(heading, b, cands, pos, focus, phrase=True))

    def _bucket_heading(self, bucket: list[Passage], used_heads: set[str]) -> str:
        texts = [" ".join(c.display for c in self.pool.usable(p)) for p in bucket]
        phr = [
            ph
            for ph, _ in extract_keyphrases(texts, k=20, exclude=self.topic_words, min_df=1)
            if good_heading_phrase(ph, self.case_map, self.pool.verbs())
        ]
        head = next((ph for ph in phr if ph.lower() not in used_heads), None)
        heading = (
            title_case_phrase(head, self.case_map)
            if head
            else clean_heading(bucket[0].document_name.rsplit(".", 1)[0], self.case_map)
            or f"Part {len(self.chosen) + 1}"
        )
        used_heads.add((head or heading).lower())
        return heading

    def _to_plan(self, g: _Candidate) -> SectionPlan:
        ps = g.passages
        texts = [" ".join(c.display for c in self.pool.usable(p)) for p in ps]
        pts = [
            ph
            for ph, _ in extract_keyphrases(
                texts,
                k=4,
                exclude=self.topic_words + tokenize(g.heading),
                min_df=1 if len(ps) < 3 else 2,
            )
        ][:3]
        return SectionPlan(
            heading=g.heading,
            points=pts,
            query=" ".join([g.heading, self.req.topic] + pts),
            passages=list(ps),
            pos=g.pos,
            key="" if g.phrase else heading_key(g.heading),
            members=set(g.cands),
            focus=frozenset(g.focus),
        )


# ---------------------------------------------------------------------- approved outline


def approved_sections(req: GenerationRequest, plan: Plan) -> list[SectionPlan]:
    """The author's outline as section plans, in its order (their passages come from each
    section's own retrieval: see `own_material`)."""
    return [
        SectionPlan(
            heading=s.heading,
            points=list(s.points),
            query=s.query or " ".join([s.heading, req.topic, *s.points]),
            passages=[],
            pos=(i, 0),
            focus=frozenset(content_words(" ".join([s.heading, *s.points]))),
        )
        for i, s in enumerate(plan.sections)
    ]


#: a section of an approved outline counts the sentences of its best passages as its own
OWN_PASSAGES = 3


def own_material(plans: list[SectionPlan], pool: CandidatePool, case_map: dict[str, str]) -> None:
    """Which sentences belong to each approved section: those under a source heading of
    the same name (as the planner's own sections), else those of its best passages."""
    for plan in plans:
        key = heading_key(plan.heading)
        cands = [c for p in plan.passages for c in pool.usable(p)]
        same = {
            c.idx
            for c in cands
            if (h := clean_heading(c.heading, case_map)) and heading_key(h) == key
        }
        if same:
            plan.key, plan.members = key, same
            continue
        # else the passages that say most of its own words (its retrieval also ranks by the
        # topic's, which every section shares)
        said = {
            p.chunk_id: len(plan.focus & frozenset(w for c in pool.usable(p) for w in c.words))
            for p in plan.passages
        }
        best = sorted(
            (p for p in plan.passages if said[p.chunk_id]), key=lambda p: -said[p.chunk_id]
        )
        plan.members = {c.idx for p in best[:OWN_PASSAGES] for c in pool.usable(p)}
