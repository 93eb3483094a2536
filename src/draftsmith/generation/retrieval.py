"""A small in-memory BM25 retriever over a list of passages.

The application has its own retriever over the database; this one is used
when an engine is handed a plain list of passages (CLI one-shot generation,
tests, benchmarks). Building the index is linear in the number of words;
a query touches only the posting lists of its terms.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from draftsmith.text.tokens import content_words

from .types import Passage


class InMemoryRetriever:
    """BM25 (k1=1.2, b=0.75) over ``passage.heading + passage.text``.

    Call it like the application's retriever: ``await retriever(query, k)``.
    Returned passages carry their BM25 ``score``. Ties are broken by input
    order, so results are deterministic."""

    def __init__(self, passages: Sequence[Passage], k1: float = 1.2, b: float = 0.75) -> None:
        self.passages: list[Passage] = list(passages)
        self.k1 = k1
        self.b = b
        postings: dict[str, list[int]] = {}
        lengths: list[int] = []
        for i, p in enumerate(self.passages):
            words = content_words(f"{p.heading or ''}\n{p.text}")
            lengths.append(len(words))
            for term, tf in Counter(words).items():
                postings.setdefault(term, []).extend((i, tf))
        # Flat tuples of numbers (passage, term frequency, passage, ...): the garbage
        # collector stops tracking them. Indexes are cached for the process's life; as lists
        # of pairs, every full collection walked each posting of each of them (~20 ms for
        # 200 small documents, in the middle of requests).
        self._postings = {term: tuple(post) for term, post in postings.items()}
        self._lengths = tuple(lengths)
        n = len(self.passages)
        self._avgdl = (sum(lengths) / n) if n else 1.0
        self._idf = {
            t: math.log(1.0 + (n - len(post) / 2 + 0.5) / (len(post) / 2 + 0.5))
            for t, post in self._postings.items()
        }

    def __len__(self) -> int:
        return len(self.passages)

    def idf(self, term: str) -> float:
        return self._idf.get(term, math.log(1.0 + (len(self.passages) + 0.5) / 0.5))

    def scores(self, query: str) -> dict[int, float]:
        scores: dict[int, float] = {}
        k1, b, avgdl, lengths = self.k1, self.b, self._avgdl or 1.0, self._lengths
        for term, qtf in Counter(content_words(query)).items():
            post = self._postings.get(term)
            if not post:
                continue
            idf = self._idf[term] * (1.0 + 0.2 * (qtf - 1))
            pairs = iter(post)
            for i, tf in zip(pairs, pairs, strict=True):
                denom = tf + k1 * (1.0 - b + b * lengths[i] / avgdl)
                scores[i] = scores.get(i, 0.0) + idf * tf * (k1 + 1.0) / denom
        return scores

    def search(self, query: str, k: int) -> list[Passage]:
        scores = self.scores(query)
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[: max(0, k)]
        return [replace(self.passages[i], score=round(s, 6)) for i, s in best]

    async def __call__(self, query: str, k: int) -> list[Passage]:
        return self.search(query, k)


async def retrieve_unique(
    retrieve, query: str, k: int, *, rounds: int = 2, max_k: int = 2000
) -> list[Passage]:
    """``retrieve(query, k)`` without passages whose text repeats an earlier one
    (the same document uploaded twice, boilerplate pages). If duplicates leave
    fewer than ``k`` passages, asks again for more (bounded)."""
    want = k
    out: list[Passage] = []
    for _ in range(rounds + 1):
        got = list(await retrieve(query, want))
        seen: set[int] = set()
        out = []
        for p in got:
            h = hash(" ".join(p.text.split()))
            if h in seen:
                continue
            seen.add(h)
            out.append(p)
            if len(out) >= k:
                break
        if len(out) >= k or len(got) < want or want >= max_k:
            break
        want = min(max_k, want * 4)
    return out


#: A hit scoring under this share of its query's best hit is dropped (relevance floor).
RELATIVE_FLOOR = 0.25
#: ... and so is a hit under this BM25 score: it matched only words found in most passages.
ABSOLUTE_FLOOR = 0.3
#: Reciprocal rank fusion: a passage at rank r of a ranking adds 1 / (RRF_K + r).
RRF_K = 60


def above_floor(
    passages: Sequence[Passage],
    relative: float = RELATIVE_FLOOR,
    absolute: float = ABSOLUTE_FLOOR,
) -> list[Passage]:
    """The passages of one BM25 ranking that are not far below its best hit, nor below an
    absolute floor, so a passage that barely matches never leads a prompt."""
    best = max((p.score for p in passages), default=0.0)
    return [p for p in passages if p.score >= max(absolute, relative * best)]


def fuse(rankings: Sequence[Sequence[Passage]], k: int, rrf_k: int = RRF_K) -> list[Passage]:
    """Reciprocal rank fusion of several rankings: the top ``k`` passages by
    ``sum(1 / (rrf_k + rank))``, ties by first appearance; a passage keeps the score it had
    where it ranked best."""
    fused: dict[str, float] = {}
    first: dict[str, tuple[int, Passage]] = {}
    for ranking in rankings:
        for rank, p in enumerate(ranking, 1):
            fused[p.chunk_id] = fused.get(p.chunk_id, 0.0) + 1.0 / (rrf_k + rank)
            if p.chunk_id not in first or rank < first[p.chunk_id][0]:
                first[p.chunk_id] = (rank, p)
    order = sorted(fused, key=lambda cid: -fused[cid])  # sorted() is stable: ties keep order
    return [first[cid][1] for cid in order[: max(0, k)]]


def section_queries(heading: str, points: Sequence[str], topic: str, query: str = "") -> list[str]:
    """The queries a section's passages are found by: its heading, each of its points,
    the topic, and the planner's own query (when it has one); blanks and repeats dropped."""
    queries: dict[str, None] = {}
    for q in (heading, *points, topic, query):
        q = " ".join((q or "").split())
        if q:
            queries.setdefault(q, None)
    return list(queries)


async def retrieve_fused(retrieve, queries: Sequence[str], k: int) -> list[Passage]:
    """``k`` passages for several queries at once: each query's ranking (duplicates and
    hits below the relevance floor left out) fused by reciprocal rank. Each query asks for
    ``2k`` so a passage ranked lower by one query can still rise by the others. (One query
    at a time: each holds a database connection while it runs.)"""
    rankings = [above_floor(await retrieve_unique(retrieve, q, 2 * k)) for q in queries]
    return fuse(rankings, k)
