"""Coverage baseline over tests/data/coverage_briefs.jsonl (issue 9): for each brief
(documents, topic, covered), today's signals, then the accuracy of the best single
threshold on each signal (the threshold is fitted on the same briefs: an optimistic baseline).

Signals: the best BM25 score of the topic against the documents' chunks (the in-memory
retriever over the project's chunker), the mean of the top 3, and the share of the topic's
content words that occur in the documents. Needs the corpus.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests import corpus  # noqa: E402
from tests.labelled import coverage_briefs, extraction  # noqa: E402

SIGNALS = ("top1", "top3", "words")


def signals(brief: dict) -> dict[str, float]:
    from draftsmith.documents.chunking import chunk_extraction
    from draftsmith.generation.retrieval import InMemoryRetriever
    from draftsmith.generation.types import Passage
    from draftsmith.text.tokens import content_words

    passages = [
        Passage(f"{name}#{c.ordinal}", name, name, c.page, c.start, c.end, c.text, c.heading)
        for name in brief["documents"]
        for c in chunk_extraction(extraction(name))
    ]
    scores = sorted(InMemoryRetriever(passages).scores(brief["topic"]).values(), reverse=True)
    vocabulary = {w for p in passages for w in content_words(p.text)}
    topic = set(content_words(brief["topic"]))
    return {
        "top1": scores[0] if scores else 0.0,
        "top3": sum(scores[:3]) / 3,
        "words": len(topic & vocabulary) / len(topic) if topic else 0.0,
    }


def best_threshold(values: list[float], truth: list[bool]) -> tuple[float, float]:
    """(threshold, accuracy) of the rule "covered when value >= threshold"."""
    best = (0.0, 0.0)
    for threshold in sorted(set(values)) + [max(values) + 1]:
        accuracy = sum((v >= threshold) == t for v, t in zip(values, truth, strict=True)) / len(
            truth
        )
        if accuracy > best[1]:
            best = (threshold, accuracy)
    return best


def main() -> None:
    if not corpus.AVAILABLE:
        print(f"bench/coverage.py: no corpus at {corpus.CORPUS} (set {corpus.ENV}); skipped.")
        return
    briefs = coverage_briefs()
    rows = [signals(b) for b in briefs]
    truth = [b["covered"] for b in briefs]
    print(f"Coverage signals on {len(briefs)} labelled briefs ({sum(truth)} covered)")
    print(f"  {'id':<5} {'covered':<8} {'top1':>6} {'top3':>6} {'words':>6}  topic")
    for brief, row in zip(briefs, rows, strict=True):
        print(
            f"  {brief['id']:<5} {str(brief['covered']):<8} {row['top1']:>6.1f} "
            f"{row['top3']:>6.1f} {row['words']:>6.2f}  {brief['topic'][:60]}"
        )
    print(f"\n  {'signal':<8} {'threshold':>9} {'accuracy':>9}")
    for name in SIGNALS:
        threshold, accuracy = best_threshold([r[name] for r in rows], truth)
        print(f"  {name:<8} {threshold:>9.2f} {accuracy:>9.2f}")


if __name__ == "__main__":
    main()
