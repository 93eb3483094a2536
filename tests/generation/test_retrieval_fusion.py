"""Per-section retrieval: several queries fused by reciprocal rank, under a relevance floor."""

from __future__ import annotations

from draftsmith.generation import InMemoryRetriever, Passage
from draftsmith.generation.retrieval import (
    above_floor,
    fuse,
    retrieve_fused,
    section_queries,
)


def _p(cid: str, text: str = "", score: float = 0.0, heading: str | None = None) -> Passage:
    return Passage(cid, "d", "d.md", None, 0, len(text), text, heading, score)


def test_fuse_rewards_passages_found_by_several_queries():
    a, b, c = _p("a"), _p("b"), _p("c")
    assert [p.chunk_id for p in fuse([[a, b], [c, b]], 3)] == ["b", "a", "c"]
    assert [p.chunk_id for p in fuse([[a, b], [c, b]], 1)] == ["b"]
    assert fuse([], 3) == []


def test_floor_drops_hits_far_below_the_best_and_barely_matching_ones():
    hits = [_p("a", score=8.0), _p("b", score=2.5), _p("c", score=1.9)]
    assert [p.chunk_id for p in above_floor(hits)] == ["a", "b"]  # 1.9 < 0.25 * 8
    weak = [_p("x", score=0.2), _p("y", score=0.1)]
    assert above_floor(weak) == []  # only words found in most passages matched


def test_section_queries_are_heading_points_and_topic():
    assert section_queries("Hunting", ["voles at night", " "], "barn owls", "Hunting") == [
        "Hunting",
        "voles at night",
        "barn owls",
    ]


async def test_fused_section_retrieval_finds_what_one_long_query_misses():
    passages = [
        _p("hunt", "Barn owls hunt voles and mice at night over open fields.", heading="Hunting"),
        _p("nest", "The nest is a bare ledge in a barn or a hollow tree.", heading="Nesting"),
        _p("call", "Their call is a long harsh screech rather than a hoot.", heading="Calls"),
        _p("menu", "Owls owls owls: owl gifts, owl mugs, owl posters.", heading="Shop"),
    ]
    for i in range(8):  # filler that makes the rare words rare
        passages.append(_p(f"f{i}", f"Rivers carry silt number {i} to the sea.", heading="Rivers"))
    index = InMemoryRetriever(passages)
    got = await retrieve_fused(index, section_queries("Nesting", ["screech call"], "owls"), 3)
    ids = [p.chunk_id for p in got]
    assert {"nest", "call"} <= set(ids)
    assert not any(i.startswith("f") for i in ids)  # nothing that matched no query


def test_a_kept_index_costs_the_garbage_collector_nothing():
    """Indexes are cached for as long as the process lives: their postings must not be
    containers the collector walks at every full collection (they were: ~20 ms a pause)."""
    import gc

    retriever = InMemoryRetriever(
        [_p(f"c{i}", "tide pool anemone kelp crab" + " lighthouse" * (i == 7)) for i in range(50)]
    )
    gc.collect()
    tracked = [term for term, post in retriever._postings.items() if gc.is_tracked(post)]
    assert tracked == [] and not gc.is_tracked(retriever._lengths)
    assert [p.chunk_id for p in retriever.search("anemone lighthouse", 1)] == ["c7"]
