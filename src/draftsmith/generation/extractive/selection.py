"""Choosing a section's sentences: greedy MMR over paragraphs (runs of consecutive
source sentences), then tidying the paragraphs into source order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..types import Passage
from .candidates import Cand, hits, jaccard

MAX_SIM = 0.5  # Jaccard above this = redundant
REDUNDANCY_WEIGHT = 0.3
PARA_MAX_SENTENCES = 5
PARA_MAX_WORDS = 130
#: bonus of a paragraph by its number of sentences (one sentence is a last resort)
LENGTH_BONUS = {1: -0.15, 2: 0.0, 3: 0.04, 4: 0.06, 5: 0.06}


def passage_scores(ps: list[Passage]) -> dict[str, float]:
    """Each passage's score relative to the best (by rank when there are no scores)."""
    m = max((p.score for p in ps), default=0.0) or 1.0
    out: dict[str, float] = {}
    for rank, p in enumerate(ps):
        out.setdefault(p.chunk_id, max(0.0, p.score) / m if p.score > 0 else 1.0 / (1 + rank))
    return out


def relevance(c: Cand, terms: dict[str, float], total: float, pscore: float, member: bool) -> float:
    """How well a sentence serves a section with these weighted terms."""
    hit = hits(c.words, frozenset(terms))
    cover = sum(w for t, w in terms.items() if t in hit) / total if total else 0.0
    rel = 0.55 * cover + 0.25 * pscore + (0.25 if member else 0.0)
    if c.first_in_block:
        rel += 0.04
    if 12 <= c.nwords <= 35:
        rel += 0.05
    return rel - c.penalty


def chains(cands: Sequence[Cand]) -> list[list[Cand]]:
    """Runs of sentences that follow each other in a document (at most one rejected
    sentence between two of them, and never before a sentence that leans on it)."""
    out: list[list[Cand]] = []
    for c in sorted(cands, key=lambda c: c.pos):
        if out:
            a = out[-1][-1]
            if a.doc == c.doc and (
                (c.prev_end is not None and c.prev_end == a.dend)
                or (not c.dangling and c.prev_end2 is not None and c.prev_end2 == a.dend)
            ):
                out[-1].append(c)
                continue
        out.append([c])
    return out


class Selection:
    """Sentences chosen so far (across the whole draft), with cached redundancy."""

    def __init__(self) -> None:
        self.used: set[int] = set()
        self.selected: list[Cand] = []
        self._ms: dict[int, tuple[float, int]] = {}

    def maxsim(self, c: Cand) -> float:
        v, k = self._ms.get(c.idx, (0.0, 0))
        if k < len(self.selected):
            for s in self.selected[k:]:
                j = jaccard(c.words, s.words)
                if j > v:
                    v = j
            self._ms[c.idx] = (v, len(self.selected))
        return v

    def add(self, c: Cand) -> None:
        self.used.add(c.idx)
        self.selected.append(c)


#: ((value, tie-breaks), action, where...) of the best next move
_Move = tuple[tuple[float, int, int], str, int, int, int]


@dataclass
class Pick:
    """Where to choose from: chains of sentences and their relevance."""

    chains: list[list[Cand]]
    rel: dict[int, float]


class _Filler:
    """One greedy fill: the best move is a new paragraph or one more sentence before or
    after an existing one."""

    def __init__(
        self,
        pick: Pick,
        sel: Selection,
        paras: list[list[Cand]],
        opener: Callable[[Cand], float | None] | None,
        opener_all: bool,
    ) -> None:
        self.chains, self.rel, self.sel, self.paras = pick.chains, pick.rel, sel, paras
        self.opener, self.opener_all = opener, opener_all
        self.where = {c.idx: (ci, k) for ci, ch in enumerate(self.chains) for k, c in enumerate(ch)}

    def best_new(self, best: _Move | None, room: int, flex: int) -> _Move | None:
        for ci, ch in enumerate(self.chains):
            for i, c0 in enumerate(ch):
                if c0.dangling or c0.idx in self.sel.used:
                    continue
                bonus = None
                if self.opener is not None and (not self.paras or self.opener_all):
                    bonus = self.opener(c0)
                    if bonus is None:
                        continue
                best = self._best_run(best, ci, i, bonus, room + flex)
        return best

    def _best_run(self, best: _Move | None, ci: int, i: int, bonus: float | None, limit: int):
        """The best paragraph of 1-5 sentences starting at ``chains[ci][i]``; ``bonus``:
        of its opening sentence, when it opens the introduction (None: it does not). An
        opening sentence may stand alone: the paragraph can grow after it."""
        ch = self.chains[ci]
        c0 = ch[i]
        acc_r = 0.0
        acc_w = 0
        ms = 0.0
        for j in range(i, min(len(ch), i + PARA_MAX_SENTENCES)):
            c = ch[j]
            if c.idx in self.sel.used:
                break
            sim = self.sel.maxsim(c)
            if sim >= MAX_SIM:
                break
            acc_w += c.nwords
            if (j > i and acc_w > PARA_MAX_WORDS) or acc_w > limit:
                break
            acc_r += self.rel[c.idx]
            ms = max(ms, sim)
            n = j - i + 1
            length = LENGTH_BONUS[n] if bonus is None else max(0.0, LENGTH_BONUS[n])
            val = acc_r / n + length - REDUNDANCY_WEIGHT * ms + (bonus or 0.0)
            if c.leads_on:
                val -= 0.06  # stops where the source goes on about it
            key = (val, -c0.idx, -n)
            if best is None or key > best[0]:
                best = (key, "new", ci, i, j)
        return best

    def best_extension(self, best: _Move | None, limit: int) -> _Move | None:
        for pi, para in enumerate(self.paras):
            if len(para) >= PARA_MAX_SENTENCES:
                continue
            pw = sum(c.nwords for c in para)
            loc = self.where.get(para[-1].idx)
            if loc is not None and loc[1] + 1 < len(self.chains[loc[0]]):
                best = self._extend(best, (pi, loc[0], loc[1] + 1), pw, limit, 0.05, "append")
            loc = self.where.get(para[0].idx)
            if (
                loc is not None
                and loc[1] > 0
                and not (self.opener is not None and pi == 0)
                and not self.chains[loc[0]][loc[1] - 1].dangling
            ):
                best = self._extend(best, (pi, loc[0], loc[1] - 1), pw, limit, 0.03, "prepend")
        return best

    def _extend(self, best, at: tuple[int, int, int], pw: int, limit: int, bonus: float, action):
        pi, ci, k = at
        c = self.chains[ci][k]
        if c.idx in self.sel.used or c.nwords > limit or pw + c.nwords > PARA_MAX_WORDS + 25:
            return best
        sim = self.sel.maxsim(c)
        if sim < MAX_SIM:
            key = (self.rel[c.idx] + bonus - REDUNDANCY_WEIGHT * sim, -c.idx, 0)
            if best is None or key > best[0]:
                best = (key, action, pi, ci, k)
        return best

    def apply(self, move: _Move) -> list[Cand]:
        _, action, a, b, z = move
        if action == "new":
            new = self.chains[a][b : z + 1]
            self.paras.append(list(new))
        elif action == "append":
            new = [self.chains[b][z]]
            self.paras[a].append(new[0])
        else:
            new = [self.chains[b][z]]
            self.paras[a].insert(0, new[0])
        return new


def fill(
    pick: Pick,
    budget: int,
    sel: Selection,
    paras: list[list[Cand]],
    *,
    max_paras: int = 99,
    opener: Callable[[Cand], float | None] | None = None,
    opener_all: bool = False,
) -> int:
    """Greedy MMR over paragraphs: add a run of 2-5 consecutive sentences, or extend a
    paragraph with the sentence after (or before) it, whichever is worth most, until
    ``budget`` more words. ``opener(c)`` (for the first paragraph only) is None if ``c``
    may not open it, else a bonus. Returns the words added."""
    filler = _Filler(pick, sel, paras, opener, opener_all)
    flex = max(20, round(0.2 * budget))
    added = 0
    while added < budget - 10:
        room = budget - added
        best: _Move | None = None
        if len(paras) < max_paras:
            best = filler.best_new(best, room, flex)
        best = filler.best_extension(best, room + flex)
        if best is None or best[0][0] < -0.05:
            break
        for c in filler.apply(best):
            sel.add(c)
            added += c.nwords
    return added


def _fits_after(prev: list[Cand], para: list[Cand], keep_first: bool, first_slot: bool) -> bool:
    """``para`` joins ``prev``: it continues it in the source (or comes a sentence or so
    further on in the same source section, if one of them is short) and both fit."""
    same_doc = para[0].doc == prev[-1].doc
    adjacent = same_doc and para[0].prev_end == prev[-1].dend
    near = (
        same_doc
        and para[0].heading == prev[-1].heading
        and 0 <= para[0].dstart - prev[-1].dend < 200
    )
    size = len(prev) + len(para)
    words = sum(c.nwords for c in prev) + sum(c.nwords for c in para)
    return (
        (adjacent or (near and min(len(prev), len(para)) <= 2))
        and size <= PARA_MAX_SENTENCES
        and words <= PARA_MAX_WORDS + 25
        and not (keep_first and first_slot and not adjacent)
    )


def _place_lone_sentences(out: list[list[Cand]], keep_first: bool) -> None:
    """A lone sentence joins a neighbour from the same document."""
    i = 0
    while i < len(out) and len(out) > 1:
        para = out[i]
        if len(para) == 1:
            near = []
            if i > 0 and out[i - 1][-1].doc == para[0].doc:
                near.append(i - 1)
            if i + 1 < len(out) and out[i + 1][0].doc == para[0].doc:
                near.append(i + 1)
            target = min(near, key=lambda k: len(out[k])) if near else None
            if target is not None and len(out[target]) < PARA_MAX_SENTENCES + 1:
                if target < i:
                    out[target].extend(para)
                elif not (keep_first and target == 0) and not out[target][0].dangling:
                    out[target][:0] = para
                else:
                    i += 1
                    continue
                del out[i]
                continue
        i += 1


def tidy_paragraphs(paras: list[list[Cand]], keep_first: bool = False) -> list[list[Cand]]:
    """Source order (the first paragraph stays first if ``keep_first``); a paragraph that
    continues the one before it in the source joins it when they fit together; a lone
    sentence joins a neighbour from the same document."""
    paras = [p for p in paras if p]
    if not paras:
        return []
    head = [paras[0]] if keep_first else []
    rest = sorted(paras[1:] if keep_first else paras, key=lambda p: p[0].pos)
    out: list[list[Cand]] = []
    for para in head + rest:
        if out and _fits_after(out[-1], para, keep_first, len(out) == 1):
            out[-1].extend(para)
            continue
        out.append(list(para))
    _place_lone_sentences(out, keep_first)
    return out
