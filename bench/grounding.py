"""Grounding baseline over the labelled pairs of tests/data/grounding_pairs.jsonl (issue 9).

Each pair becomes a one-sentence draft "<sentence> [1]" with the passage as source 1; the
pair counts as flagged when `citations.grounding` lists the sentence as weak. Prints the
precision and recall of "flagged" for the label `unsupported`, overall and per kind, at the
default threshold and at a few others. The pairs carry their passages: no corpus needed.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.labelled import grounding_pairs  # noqa: E402

from draftsmith.generation.citations import DEFAULT_WEAK_THRESHOLD, grounding  # noqa: E402


def flagged(pair: dict, threshold: float) -> bool:
    result = grounding(f"{pair['sentence']} [1]", {1: pair["passage"]}, threshold=threshold)
    return bool(result.weak)


def precision_recall(pairs: list[dict], flags: list[bool]) -> tuple[float, float, int, int]:
    truth = [p["label"] == "unsupported" for p in pairs]
    hits = sum(f and t for f, t in zip(flags, truth, strict=True))
    precision = hits / sum(flags) if any(flags) else float("nan")
    recall = hits / sum(truth) if any(truth) else float("nan")
    return precision, recall, sum(flags), len(pairs)


def main() -> None:
    pairs = grounding_pairs()
    flags = [flagged(p, DEFAULT_WEAK_THRESHOLD) for p in pairs]
    print(f"Grounding flagger on {len(pairs)} labelled pairs (threshold {DEFAULT_WEAK_THRESHOLD})")
    p, r, n_flagged, _ = precision_recall(pairs, flags)
    print(f"  unsupported: precision {p:.2f}  recall {r:.2f}  ({n_flagged} flagged)")
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        by_kind[pair["kind"]].append(i)
    print(f"\n  {'kind':<15} {'label':<12} {'pairs':>5} {'flagged':>8}")
    for kind, indexes in sorted(by_kind.items(), key=lambda kv: pairs[kv[1][0]]["label"]):
        share = sum(flags[i] for i in indexes) / len(indexes)
        label = pairs[indexes[0]]["label"]
        print(f"  {kind:<15} {label:<12} {len(indexes):>5} {share:>8.0%}")
    print(
        "\n  (for supported kinds, 'flagged' is the false-positive rate; for unsupported, recall)"
    )
    print(f"\n  {'threshold':>9} {'precision':>9} {'recall':>6}")
    for threshold in (0.4, 0.6, 0.8, 0.9, 1.0):
        p, r, _, _ = precision_recall(pairs, [flagged(x, threshold) for x in pairs])
        print(f"  {threshold:>9.2f} {p:>9.2f} {r:>6.2f}")


if __name__ == "__main__":
    main()
