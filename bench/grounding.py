"""Grounding flagger over the labelled pairs of tests/data/grounding_pairs.jsonl (issue 9).

Each pair becomes a one-sentence draft "<sentence> [1]" with the passage as source 1 and
goes through `draftsmith.generation.grounding.check`, as a saved edit does; a pair counts
as flagged when the sentence is flagged. Prints the precision and recall of "flagged"
for the label `unsupported`, overall and per kind, for the labelled set and for the
held-out pairs (tests/data/grounding_pairs_heldout.jsonl, other documents, never tuned
on). With DRAFTSMITH_LLM_BASE_URL set it also measures `VERIFY=llm` (a batched second
opinion from the model). The pairs carry their passages: no corpus needed.

Baseline before issue 9 (share of content words, threshold 0.4): precision 0.91,
recall 0.17. Before and after the synonyms and negation rules (labelled; held-out, 148
pairs): precision 0.90 -> 0.94, recall 0.94 -> 0.95; precision 0.93 -> 0.93, recall
0.85 -> 0.88 (bench/results/grounding.txt).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests import labelled  # noqa: E402


def report(name: str, pairs: list[dict], flags: list[bool]) -> None:
    precision, recall = labelled.precision_recall(pairs, flags)
    print(f"{name}: {len(pairs)} pairs, {sum(flags)} flagged")
    print(f"  unsupported: precision {precision:.2f}  recall {recall:.2f}")
    labels = {p["kind"]: p["label"] for p in pairs}
    counts: dict[str, int] = {}
    for p in pairs:
        counts[p["kind"]] = counts.get(p["kind"], 0) + 1
    print(f"  {'kind':<15} {'label':<12} {'pairs':>5} {'flagged':>8}")
    by_kind = labelled.flagged_share_by_kind(pairs, flags)
    for kind in sorted(by_kind, key=lambda k: (labels[k], k)):
        print(f"  {kind:<15} {labels[kind]:<12} {counts[kind]:>5} {by_kind[kind]:>8.0%}")
    print("  (supported kinds: 'flagged' is the false-positive rate; unsupported: recall)\n")


def llm_flags(pairs: list[dict]) -> list[bool]:
    """The flags after the model's second opinion on the borderline sentences."""
    from draftsmith.config import Settings
    from draftsmith.generation.grounding import assess_draft
    from draftsmith.generation.llm import LLMSettings
    from draftsmith.generation.verify import second_opinion

    settings = LLMSettings.from_settings(Settings())
    sources = [{1: p["passage"]} for p in pairs]
    checked = [
        assess_draft(f"{p['sentence']} [1]", src) for p, src in zip(pairs, sources, strict=True)
    ]
    items = [(c, src) for cs, src in zip(checked, sources, strict=True) for c in cs]
    verdicts = iter(asyncio.run(second_opinion(items, settings)))
    return [any(next(verdicts).reason for _ in cs) for cs in checked]


def main() -> None:
    sets = {"labelled set": labelled.grounding_pairs()}
    if labelled.GROUNDING_HELDOUT.exists():
        sets["held-out pairs"] = labelled.load(labelled.GROUNDING_HELDOUT)
    for name, pairs in sets.items():
        report(f"Lexical flagger, {name}", pairs, labelled.grounding_flags(pairs))
        if os.environ.get("DRAFTSMITH_LLM_BASE_URL"):
            report(f"VERIFY=llm, {name}", pairs, llm_flags(pairs))


if __name__ == "__main__":
    main()
