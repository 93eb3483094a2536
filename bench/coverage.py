"""Coverage accuracy (issue 9): does `draftsmith.generation.coverage` tell briefs the
documents cover from briefs they don't?

Three labelled sets (tests/data): the calibration briefs (`coverage_briefs.jsonl`, on which
the threshold COVERED_AT was chosen: the middle of the widest interval of thresholds with
the best accuracy), the hold-out briefs (`coverage_briefs_holdout.jsonl`, written before the
calibration, over other corpus documents) and the briefs over the generated fixtures (no
corpus needed). For each: every brief's score, then the accuracy at COVERED_AT. For the
calibration set also the baseline (the share of the topic's content words found in the
documents, with its best threshold fitted on the same briefs) and the best threshold of
the score itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests import corpus, labelled  # noqa: E402

from draftsmith.generation.coverage import COVERED_AT  # noqa: E402
from draftsmith.text.tokens import content_words  # noqa: E402


def best_threshold(values: list[float], truth: list[bool]) -> tuple[float, float]:
    """(threshold, accuracy) of the rule "covered when value >= threshold": the middle of
    the first interval of thresholds reaching the best accuracy."""
    candidates = sorted(set(values)) + [max(values) + 1]
    scored = [
        (t, sum((v >= t) == c for v, c in zip(values, truth, strict=True)) / len(truth))
        for t in candidates
    ]
    best = max(a for _, a in scored)
    i = next(i for i, (_, a) in enumerate(scored) if a == best)
    below = scored[i - 1][0] if i else 0.0
    return (below + scored[i][0]) / 2, best


def words_share(brief: dict, fixture: bool) -> float:
    """The baseline: share of the topic's content words the documents contain."""
    topic = set(content_words(brief["topic"]))
    vocabulary: set[str] = set()
    for name in brief["documents"]:
        vocabulary |= set(labelled.coverage_index(name, fixture).vocabulary)
    return len(topic & vocabulary) / len(topic) if topic else 0.0


def report(title: str, path: Path, fixture: bool = False, calibrate: bool = False) -> None:
    briefs = labelled.coverage_briefs(path)
    measured = labelled.measure_briefs(briefs, fixture)
    truth = [b["covered"] for b in briefs]
    print(f"\n{title}: {len(briefs)} briefs ({sum(truth)} covered), {path.name}")
    print(f"  {'id':<5} {'label':<6} {'score':>5}  {'ok':<3} topic  [missing]")
    for brief, m in zip(briefs, measured, strict=True):
        ok = "" if m.covered == brief["covered"] else "XX"
        label = "on" if brief["covered"] else "off"
        print(
            f"  {brief['id']:<5} {label:<6} {m.score:>5.2f}  {ok:<3} {brief['topic'][:58]}"
            f"  {m.missing[:4]}"
        )
    print(f"  accuracy at COVERED_AT={COVERED_AT}: {labelled.accuracy(briefs, measured):.3f}")
    if calibrate:
        scores = [m.score for m in measured]
        threshold, accuracy = best_threshold(scores, truth)
        print(f"  score, best threshold on these briefs: {threshold:.3f} (accuracy {accuracy:.3f})")
        shares = [words_share(b, fixture) for b in briefs]
        threshold, accuracy = best_threshold(shares, truth)
        print(
            f"  baseline (share of topic words found), best threshold {threshold:.2f}: "
            f"accuracy {accuracy:.3f}"
        )


def main() -> None:
    report("Fixture briefs", labelled.COVERAGE_FIXTURES, fixture=True)
    if not corpus.AVAILABLE:
        print(f"\nbench/coverage.py: no corpus at {corpus.CORPUS} (set {corpus.ENV}); skipped.")
        return
    report("Calibration briefs", labelled.COVERAGE, calibrate=True)
    report("Hold-out briefs", labelled.COVERAGE_HOLDOUT)


if __name__ == "__main__":
    main()
