"""Writing the draft from the chosen sections: introduction, sections and conclusion
filled from their sentence pools, the total nudged toward the length target, the
templated framing and recap, and the paragraphs composed with citation markers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from draftsmith.text.phrases import extract_keyphrases
from draftsmith.text.tokens import content_words, stem
from draftsmith.text.words import normalize_whitespace

from ..citations import MARKER_RE, SourceRegistry
from ..events import Progress
from ..types import GenerationRequest, Passage, target_words
from .candidates import Cand, CandidatePool, hits
from .focus import MIN_SHARE_NAMED, PREVIEW, TopicFocus
from .headings import (
    clean_heading,
    good_heading_phrase,
    heading_key,
    inline_heading,
    inline_topic,
    is_summary_heading,
    names_topic,
    title_case_phrase,
)
from .lexicon import (
    DEFINES,
    DEFINITION,
    FRAMINGS,
    FRONT_MATTER,
    INTRO_HEADING,
    STRONG_SUMMARY,
    WEAK_SUMMARY,
    Framing,
)
from .outline import CONCLUSION_SHARE, INTRO_SHARE, SectionPlan
from .selection import (
    Pick,
    Selection,
    chains,
    fill,
    passage_scores,
    relevance,
    tidy_paragraphs,
)
from .sentences import SOFT_META
from .units import HOW_TO, Unit, place_units, render_unit, units_for

Paragraphs = list[list[Cand]]
#: a document's opening, where it says what it is about: its first characters, at most a
#: share of the document
OPENING_CHARS = 2500
OPENING_SHARE = 0.15


@dataclass
class Material:
    """What the writer draws on: the request, the retrieved passages and their sentences."""

    req: GenerationRequest
    topic_passages: list[Passage]
    concl_passages: list[Passage]
    pool: CandidatePool
    topic_words: list[str]
    case_map: dict[str, str]
    lang: str


@dataclass
class Written:
    intro: Paragraphs
    #: a section's paragraphs, with its code blocks and procedures in place
    sections: list[list[list[Cand] | Unit]]
    conclusion: Paragraphs
    framing: str | None
    recap: str | None
    #: headings of the sections left out as off the topic
    dropped: list[str]


def defines(c: Cand, topic_set: frozenset[str]) -> bool:
    """The sentence defines the topic's subject: what comes before "is a", "refers to",
    ... is the topic's ("Ducks are ...", "A dpkg trigger is a facility ...", not "The glob
    file is ..." in a post on how a file's type is detected)."""
    return _says_what_topic_is(c, topic_set, DEFINES)


def introduces(c: Cand, topic_set: frozenset[str]) -> bool:
    """The sentence defines the topic's subject or says what it does ("A build file
    provides ...", "Fontconfig allows ...")."""
    return _says_what_topic_is(c, topic_set, DEFINITION)


def _says_what_topic_is(c: Cand, topic_set: frozenset[str], verb: re.Pattern[str]) -> bool:
    """What comes before ``verb`` (in the first nine words, asides in parentheses left
    out) is made, two thirds at least, of the topic's words."""
    head = " ".join(c.display.split()[:9])
    m = verb.search(head)
    if not topic_set or m is None:
        return False
    subject = content_words(re.sub(r"\([^)]*\)", " ", head[: m.start()]))
    return bool(subject) and 3 * sum(1 for w in subject if w in topic_set) >= 2 * len(subject)


def prose_case(cands: Sequence[Cand]) -> tuple[set[str], set[str]]:
    """(words seen in lower case, words seen capitalised) inside sentences (not first)."""
    lower: set[str] = set()
    upper: set[str] = set()
    for c in cands:
        for w in re.findall(r"[^\W\d_][\w'’-]*", c.display)[1:]:
            (lower if w.islower() else upper).add(w.lower())
    return lower, upper


def _listing(items: list[str], and_word: str) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {and_word} {items[-1]}"


def write(m: Material, plans: list[SectionPlan], prog: Progress, *, fixed: bool = False) -> Written:
    """Fill the introduction, the sections and the conclusion, balance the length,
    tidy the paragraphs and add the framing sentences. ``fixed``: the sections are the
    author's (an approved outline): none is dropped, added or moved."""
    return _Writer(m, plans, prog, fixed).write()


class _Writer:
    def __init__(
        self, m: Material, plans: list[SectionPlan], prog: Progress, fixed: bool = False
    ) -> None:
        self.m, self.plans, self.prog, self.fixed = m, plans, prog, fixed
        self.target = target_words(m.req.length)
        self.topic_terms = {stem(w): 1.0 for w in m.topic_words if content_words(w)}
        self.topic_set = frozenset(self.topic_terms)
        self.sel = Selection()
        self._group_key: dict[int, str | None] = {}
        self.owned = {plan.key for plan in plans if plan.key}
        self.members = {i for plan in plans for i in plan.members}
        self.claimed = {i for plan in plans if plan.key for i in plan.members}
        self.template: Framing | None = FRAMINGS.get(m.lang)
        # a framing sentence takes about 15 words of the introduction
        framed = 15 if self.template else 0
        self.intro_budget = max(45, round(self.target * INTRO_SHARE)) - framed
        self.concl_budget = max(40, round(self.target * CONCLUSION_SHARE))
        self.body_budget = self.target - self.intro_budget - self.concl_budget - framed
        self.max_intro = 2 if m.req.length == "long" else 1
        self.max_concl = 2 if m.req.length == "long" else 1
        self.intro_paras: Paragraphs = []
        self.concl_paras: Paragraphs = []
        self.plan_focus: list[frozenset[str]] = []
        self.intro_scores = passage_scores(m.topic_passages)
        self.focus = TopicFocus(
            m.topic_words, [c for p in m.topic_passages for c in m.pool.usable(p)]
        )
        self.how_to = bool(HOW_TO.search(m.req.topic))
        self.covered: frozenset[str] = frozenset()
        self.kept_keys: set[str] = set()
        self.dropped_keys: set[str] = set()
        #: words the chosen code blocks' lead sentences and procedures add
        self.unit_words = 0

    def write(self) -> Written:
        self._section_pools()
        self.intro = self._intro_pick()
        fill(
            self.intro,
            self.intro_budget,
            self.sel,
            self.intro_paras,
            max_paras=self.max_intro,
            opener=self._opener,
        )
        self.prog.check()
        for plan in self.plans:
            fill(Pick(plan.chains, plan.relevance), plan.budget, self.sel, plan.paras)
            self.prog.check()
        self._drop_off_topic()
        self._rescue()
        self.kept_keys = {pl.key for pl in self.plans if pl.key and pl.paras}
        self.dropped_keys = {pl.key for pl in self.plans if pl.key and pl.dropped}
        self.covered = frozenset(
            w for pl in self.plans for para in pl.paras for c in para for w in c.words
        )
        self.concl = self._conclusion_pick()
        fill(self.concl, self.concl_budget, self.sel, self.concl_paras, max_paras=self.max_concl)
        self._top_up()
        self._trim()
        self._drop_off_topic()
        self._rescue()
        intro = tidy_paragraphs(self.intro_paras, keep_first=True)
        taken: set[int] = set()
        sections = self._sections_with_units(taken)
        self._unit_sections(sections, taken)
        conclusion = tidy_paragraphs(self.concl_paras)
        framing, recap = self._framing(intro, sections, conclusion)
        dropped = [plan.heading for plan in self.plans if plan.dropped]
        return Written(intro, sections, conclusion, framing, recap, dropped)

    def _drop_off_topic(self) -> None:
        """A written section not about the topic is left out (its sentences stay used)."""
        if self.fixed:
            return
        self._drop_weak(
            [p for p in self.plans if p.paras], lambda p: [c for a in p.paras for c in a]
        )

    def _drop_weak(self, plans: list[SectionPlan], shown) -> None:
        """Leave out the sections whose sentences (``shown(plan)``) are not about the topic;
        if none passes, the closest stays when it is partly about it."""
        weak = [p for p in plans if not self.focus.keeps(p.heading, shown(p))]
        if plans and len(weak) == len(plans):
            best = max(weak, key=lambda p: self.focus.share(shown(p)))
            if self.focus.share(shown(best)) >= MIN_SHARE_NAMED:
                weak.remove(best)
        for plan in weak:
            plan.dropped, plan.paras, plan.pool, plan.chains = True, [], [], []

    def _sections_with_units(self, taken: set[int]) -> list[list[list[Cand] | Unit]]:
        """The sections' blocks chosen, the prose trimmed by the words they add, then each
        block placed after the paragraph that leads to it."""
        others = {pl.key for pl in self.plans if pl.key and not pl.dropped}
        chosen: list[list[Unit]] = []
        for plan in self.plans:
            units = (
                units_for(
                    self.m.pool.units,
                    plan.paras,
                    (plan.key, plan.focus),
                    self.focus.core,
                    self.how_to,
                    taken,
                    self.sel.used,
                    others,
                )
                if plan.paras
                else []
            )
            chosen.append(units)
        self.unit_words = sum(u.shown_words for units in chosen for u in units)
        self._trim()
        return [
            place_units(tidy_paragraphs(plan.paras), units) if plan.paras else []
            for plan, units in zip(self.plans, chosen, strict=True)
        ]

    # ------------------------------------------------------------------ pools

    def _gkey(self, c: Cand) -> str | None:
        if c.idx not in self._group_key:
            h = clean_heading(c.heading, self.m.case_map)
            self._group_key[c.idx] = heading_key(h) if h else None
        return self._group_key[c.idx]

    def _section_terms(self, plan: SectionPlan) -> dict[str, float]:
        terms: dict[str, float] = dict(self.topic_terms)
        for w in content_words(plan.heading):
            terms[w] = terms.get(w, 0.0) + 2.0
        for pt in plan.points:
            for w in content_words(pt):
                terms[w] = terms.get(w, 0.0) + 0.7
        return terms

    def _membership(self, c: Cand, plan: SectionPlan, focus: frozenset[str]) -> bool | None:
        """Whether ``c`` is one of the section's own sentences; None: not for it at all."""
        k = self._gkey(c)
        if plan.key:
            # a section is made of its own source section
            return True if c.idx in plan.members or k == plan.key else None
        if (k is not None and k in self.owned) or c.idx in self.claimed:
            return None  # belongs to another section
        if is_summary_heading(c.heading):
            return None  # belongs to the conclusion
        member = c.idx in plan.members
        return member if member or (c.words & focus) else None

    def _section_pools(self) -> None:
        for plan in self.plans:
            ps = passage_scores(plan.passages)
            terms = self._section_terms(plan)
            total = sum(terms.values())
            focus = plan.focus - self.topic_set or plan.focus
            self.plan_focus.append(focus)
            seen: set[int] = set()
            for p in plan.passages:
                for c in self.m.pool.usable(p):
                    if c.idx in seen:
                        continue
                    member = self._membership(c, plan, focus)
                    if member is None:
                        continue
                    seen.add(c.idx)
                    plan.pool.append(c)
                    plan.relevance[c.idx] = relevance(
                        c, terms, total, ps.get(p.chunk_id, 0.0), member
                    ) + (0.1 if self.focus.on_topic(c) else -0.1)
            plan.pool.sort(key=lambda c: (-plan.relevance[c.idx], c.idx))
            del plan.pool[400:]
        if not self.fixed:
            self._drop_weak(self.plans, lambda p: p.pool[:PREVIEW])
        for plan in self.plans:
            plan.chains = chains(plan.pool)
        kept = [plan for plan in self.plans if not plan.dropped]
        for plan in kept:
            plan.budget = round(self.body_budget / max(1, len(kept)))

    def _rescue(self) -> None:
        """No source section is about the topic: one section of the sentences that are
        (not yet used; else the introduction's own beyond its opening)."""
        if self.fixed or any(plan.paras for plan in self.plans):
            return
        m = self.m
        pool = [c for p in m.topic_passages for c in m.pool.usable(p) if self.focus.on_topic(c)]
        pool = [c for c in {c.idx: c for c in pool}.values() if c.idx not in self.sel.used]
        if len(pool) >= 2:
            plan = self._phrase_plan(pool)
            plan.chains = chains(plan.pool)
            fill(Pick(plan.chains, plan.relevance), self.body_budget, self.sel, plan.paras)
            return
        intro = self.intro_paras
        if len(intro) > 1:
            moved, self.intro_paras = intro[1:], intro[:1]
        elif intro and len(intro[0]) >= 4:
            moved, self.intro_paras = [intro[0][2:]], [intro[0][:2]]
        else:
            return
        self._phrase_plan([c for para in moved for c in para]).paras = moved

    def _phrase_plan(self, pool: list[Cand]) -> SectionPlan:
        """A section of these sentences, headed by their key phrase (appended to the plans)."""
        m = self.m
        phrases = extract_keyphrases([c.display for c in pool], k=8, exclude=m.topic_words)
        good = [ph for ph, _ in phrases if good_heading_phrase(ph, m.case_map, m.pool.verbs())]
        heading = title_case_phrase(good[0], m.case_map) if good else "Key Points"
        pos = min((c.doc_order, c.dstart) for c in pool)
        plan = SectionPlan(heading, [], heading, [], pos, pool=list(pool))
        total = sum(self.topic_terms.values())
        plan.relevance = {c.idx: relevance(c, self.topic_terms, total, 0.5, True) for c in pool}
        plan.pool.sort(key=lambda c: (-plan.relevance[c.idx], c.idx))
        self.plans.append(plan)
        return plan

    def _unit_sections(self, sections: list[list[list[Cand] | Unit]], taken: set[int]) -> None:
        """An on-topic procedure (or, for a how-to, code) that no section shows gets a
        section of its own: the steps are often the answer the prose around them is not."""
        if self.fixed:
            return
        core = self.focus.core
        want = max(1, (len(core) + 1) // 2)
        room = 1 if any(sections) else 2
        have = {heading_key(p.heading) for p, s in zip(self.plans, sections, strict=False) if s}
        units = [u for u in self.m.pool.units if self.how_to or u.kind == "steps"]
        for u in sorted(units, key=lambda u: (-len(hits(u.words, core)), u.pos)):
            heading = self._unit_heading(u)
            if room == 0:
                break
            if id(u) in taken or len(hits(u.words, core)) < want or heading_key(heading) in have:
                continue
            taken.add(id(u))
            have.add(heading_key(heading))
            u.show_lead = u.lead is not None and (
                u.lead_idx is None or u.lead_idx not in self.sel.used
            )
            pos = (self.m.pool.doc(u.doc), u.dstart)
            at = sum(1 for p in self.plans if p.pos <= pos)
            self.plans.insert(at, SectionPlan(heading, [], heading, [u.passage], pos))
            sections.insert(at, [u])
            room -= 1

    def _unit_heading(self, u: Unit) -> str:
        """The block's own source heading, unless that is the document's title."""
        titles = {h for pos, h in self.m.pool.headings.get(u.doc, []) if pos <= 2}
        h = clean_heading(u.heading, self.m.case_map) if u.heading not in titles else None
        return h or ("Step by Step" if u.kind == "steps" else "Example")

    def _intro_relevance(self, c: Cand, pscore: float) -> float:
        topic_set = self.topic_set
        r = relevance(c, self.topic_terms, sum(self.topic_terms.values()), pscore, False)
        if defines(c, topic_set):
            r += 0.15
        elif hits(c.words, topic_set) and DEFINITION.search(c.display):
            r += 0.08
        if c.idx in self.members:
            r -= 0.15  # leave a section's material to the section
        if c.kind == "list":
            r -= 0.15  # an introduction is prose
        if INTRO_HEADING.search(c.heading or "") or c.dstart < OPENING_CHARS:
            r += 0.08
        if is_summary_heading(c.heading):
            r -= 0.1
        if c.heading and FRONT_MATTER.search(c.heading):
            r -= 0.3  # thanks, licences and prefaces do not introduce a topic
        return r

    def _intro_pick(self) -> Pick:
        """The introduction opens on the topic with sentences that define or introduce it."""
        rel: dict[int, float] = {}
        pool: list[Cand] = []
        dropped = {plan.key for plan in self.plans if plan.key and plan.dropped}
        for p in self.m.topic_passages:
            prev: Cand | None = None
            for c in self.m.pool.usable(p):
                # an introduction is about the topic; a sentence that goes on about one that
                # is ("This feature simplifies ...") may follow it
                goes_on = prev is not None and c.dangling and c.prev_end == prev.dend
                prev = c if c.idx in rel else None
                if c.idx in rel or self._gkey(c) in dropped:
                    continue
                if not (goes_on or self.focus.on_topic(c)):
                    continue
                rel[c.idx] = self._intro_relevance(c, self.intro_scores.get(p.chunk_id, 0.0))
                pool.append(c)
                prev = c
        pool.sort(key=lambda c: (-rel[c.idx], c.idx))
        del pool[500:]
        openers = [c for c in pool if hits(c.words, self.topic_set) and not c.dangling]
        self.has_topic_opener = bool(openers)
        self.has_framing_opener = any(self._frames(c) for c in openers)
        return Pick(chains(pool), rel)

    def _opening(self, c: Cand) -> float:
        """How early ``c`` comes (1 first, 0 from its opening's end on) in its document or
        in the source's own section on the whole topic: where they say what they are
        about, their details coming later. The opening is the first OPENING_CHARS, at most
        an OPENING_SHARE of the document."""
        start = 0
        if c.head_pos >= 0 and names_topic(self._gkey(c), self.topic_set):
            start = c.head_pos
        opening = min(OPENING_CHARS, OPENING_SHARE * self.m.pool.extent.get(c.doc, 0)) or 1
        return max(0.0, 1 - (c.dstart - start) / opening)

    def _frames(self, c: Cand) -> bool:
        """The sentence frames the topic as a whole: it says what the topic's subject is or
        does, or it comes in an opening (``_opening``); one that speaks of the document
        ("The remainder of this manual ...") frames the document, not the topic."""
        if SOFT_META.search(c.display):
            return False
        return self._opening(c) > 0 or introduces(c, self.topic_set)

    def _opener(self, c: Cand, first: bool = True) -> float | None:
        """None if ``c`` may not open a paragraph of the introduction, else its bonus: the
        ``first`` paragraph opens on a sentence that frames the topic when there is one, not
        on a side detail."""
        topic_set = self.topic_set
        hit = hits(c.words, topic_set)
        if self.has_topic_opener and not hit:
            return None
        frames = self._frames(c)
        if first and self.has_framing_opener and not frames:
            return None
        bonus = 0.1 * len(hit) / max(1, len(topic_set))
        if defines(c, topic_set):
            bonus += 0.25
        elif introduces(c, topic_set):
            bonus += 0.15
        elif hit and DEFINITION.search(c.display):
            bonus += 0.1
        return bonus + (0.25 * self._opening(c) if frames else 0.0)

    def _conclusion_relevance(self, c: Cand, pscore: float) -> float:
        """The documents' own summaries, late in a document, on the topic."""
        topic_set = self.topic_set
        cover = len(hits(c.words, topic_set)) / len(topic_set) if topic_set else 0.0
        r = 0.35 * cover + 0.15 * pscore
        if STRONG_SUMMARY.search(c.display):
            r += 0.3
        elif WEAK_SUMMARY.search(c.display):
            r += 0.08
        if is_summary_heading(c.heading):
            r += 0.35
        elif INTRO_HEADING.search(c.heading or ""):
            r -= 0.1
        ext = self.m.pool.extent.get(c.doc, 0)
        if ext:
            r += 0.15 * c.dstart / ext
        r += 0.05 * min(2, sum(1 for f in self.plan_focus if f & c.words))
        if c.idx in self.members and not is_summary_heading(c.heading):
            r -= 0.1
        return r - c.penalty

    def _concludes(self, c: Cand, strict: bool) -> bool:
        """Conclusion material: about the topic, and a summary of the source, a sentence of
        a section the draft kept, or one that mostly speaks of what the sections covered;
        not ``strict``: also one naming the topic from elsewhere in the sources."""
        if not self.focus.on_topic(c) or (strict and c.kind == "list"):
            return False  # a list item out of its list reads as a fragment
        key = self._gkey(c)
        if key in self.dropped_keys:
            return False
        if is_summary_heading(c.heading) or key in self.kept_keys:
            return True
        if len(c.words & self.covered) >= 0.5 * len(c.words):
            return True
        named = hits(c.words, self.focus.core)
        return not strict and len(named) >= min(2, len(self.focus.core))

    def _conclusion_pick(self) -> Pick:
        """The conclusion's sentences: from what the draft covered (a conclusion brings in
        no new subject: "research" named in a 10-K's unrelated part); only when that
        leaves too little, sentences naming the topic elsewhere."""
        cps = passage_scores(self.m.concl_passages)
        for strict in (True, False):
            rel: dict[int, float] = {}
            pool: list[Cand] = []
            for p in [*self.m.topic_passages, *self.m.concl_passages]:
                for c in self.m.pool.usable(p):
                    if (
                        c.idx not in rel
                        and c.idx not in self.sel.used
                        and self._concludes(c, strict)
                    ):
                        pscore = max(
                            self.intro_scores.get(p.chunk_id, 0.0), cps.get(p.chunk_id, 0.0)
                        )
                        rel[c.idx] = self._conclusion_relevance(c, pscore)
                        pool.append(c)
            if len(pool) >= 2:
                break
        pool.sort(key=lambda c: (-rel[c.idx], c.idx))
        del pool[500:]
        return Pick(chains(pool), rel)

    # ------------------------------------------------------------------ length

    def _total_words(self) -> int:
        return (
            sum(c.nwords for para in self.intro_paras for c in para)
            + sum(c.nwords for para in self.concl_paras for c in para)
            + sum(pl.words for pl in self.plans)
            + (30 if self.template else 0)
            + self.unit_words
        )

    def _top_up(self) -> None:
        """Short of the target: more for the sections (the shortest first), then the
        introduction, then the conclusion."""
        target = self.target
        rounds = 0
        while self._total_words() < 0.95 * target and rounds < 40:
            rounds += 1
            grew = False
            for plan in sorted(self.plans, key=lambda pl: (pl.words, pl.pos)):
                need = min(target - self._total_words(), 70)
                if need <= 10:
                    break
                if plan.dropped:
                    continue
                on_topic = chains([c for c in plan.pool if self.focus.on_topic(c)])
                if fill(Pick(on_topic, plan.relevance), need, self.sel, plan.paras):
                    grew = True
            if grew:
                continue
            need = min(target - self._total_words(), 70)
            if need <= 10:
                break
            got = fill(
                self.intro,
                need,
                self.sel,
                self.intro_paras,
                max_paras=self.max_intro + 1,
                opener=lambda c: self._opener(c, first=False),
                opener_all=True,
            )
            if not got:
                got = fill(
                    self.concl, need, self.sel, self.concl_paras, max_paras=self.max_concl + 1
                )
            if not got:
                break

    def _trim(self) -> None:
        """Over the target: the longest section loses its least relevant sentence."""
        plans = self.plans
        while self._total_words() > 1.08 * self.target:
            longest = max(plans, key=lambda pl: (pl.words, -plans.index(pl)))
            rel = longest.relevance
            trimmable = [para for para in longest.paras if len(para) > 2]
            if trimmable:
                para = min(trimmable, key=lambda pa: (rel[pa[-1].idx], -pa[-1].idx))
                para.pop()
            elif len(longest.paras) > 1:
                worst = min(
                    longest.paras,
                    key=lambda pa: (sum(rel[c.idx] for c in pa) / len(pa), -pa[0].idx),
                )
                longest.paras.remove(worst)
            else:
                break

    # ------------------------------------------------------------------ framing

    def _framing(
        self, intro: Paragraphs, sections: list[Paragraphs], conclusion: Paragraphs
    ) -> tuple[str | None, str | None]:
        """The templated framing and recap: they name only the topic and the headings."""
        template = self.template
        m = self.m
        case = prose_case([c for p in m.topic_passages for c in m.pool.usable(p)])
        heads = [
            inline_heading(plan.heading, case, m.lang)
            for plan, paras in zip(self.plans, sections, strict=False)
            if paras
        ]
        if not (template and heads and intro):
            return None, None
        listed = [h for h in heads if not re.search(r"[:;?!]", h)] or heads[:1]
        if len(listed) > 4:
            listed = [*listed[:4], template.more]
        parts = _listing(listed, template.and_word)
        topic = normalize_whitespace(m.req.topic).strip(" .?!;:")
        if topic and len(topic.split()) <= 12 and not re.search(r"[:;?!]", topic):
            framing = template.intro.format(topic=inline_topic(topic, case, m.lang), parts=parts)
        else:
            framing = template.intro_plain.format(parts=parts)
        summarised = any(
            STRONG_SUMMARY.search(c.display) or is_summary_heading(c.heading)
            for para in conclusion
            for c in para
        )
        recap = template.recap.format(parts=parts) if conclusion and not summarised else None
        return framing, recap


# ---------------------------------------------------------------------- compose


def compose(
    paras: Sequence[list[Cand] | Unit],
    registry: SourceRegistry,
    *,
    lead: str | None = None,
    tail: str | None = None,
) -> str:
    """Paragraphs of sentences with ``[n]`` after each run of sentences from one
    passage; ``lead``/``tail`` open the first / close the last paragraph."""
    out: list[str] = []
    last_n: int | None = None
    for k, para in enumerate(paras):
        if isinstance(para, Unit):
            n = registry.add(para.passage)
            if para.show_lead and para.lead:
                registry.prefer_quote(n, para.lead[0], para.lead[1])
            out.append(render_unit(para, n, last_n))
            last_n = n
            continue
        pieces: list[str] = []
        if lead and k == 0:
            pieces.append(lead)
        for i, c in enumerate(para):
            n = registry.add(c.passage)
            registry.prefer_quote(n, c.s, c.e)
            last_of_run = i == len(para) - 1 or para[i + 1].passage.chunk_id != c.passage.chunk_id
            pieces.append(_with_marker(c.display, n) if last_of_run else c.display)
            last_n = n
        if tail and k == len(paras) - 1:
            pieces.append(tail)
        out.append(" ".join(pieces))
    return "\n\n".join(out)


def _with_marker(sentence: str, n: int) -> str:
    """ "Claim." -> "Claim [n]." (marker before the final punctuation)."""
    m = re.search(r"([.!?。！？]+)([\"'”’)\]»」』）*_]*)$", sentence)
    if m and not m.group(2):
        return f"{sentence[: m.start()]} [{n}]{m.group(1)}"
    return f"{sentence} [{n}]"


def _template_re(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{topic\}|\{parts\}", template)
    return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$", re.DOTALL)


_TEMPLATE_RES = [
    _template_re(t) for f in FRAMINGS.values() for t in (f.intro, f.intro_plain, f.recap)
]


def is_framing_sentence(sentence: str) -> bool:
    """True for the engine's templated framing / recap sentences (the only draft
    sentences that are not copied from a source)."""
    text = normalize_whitespace(MARKER_RE.sub("", sentence))
    return any(r.match(text) for r in _TEMPLATE_RES)
