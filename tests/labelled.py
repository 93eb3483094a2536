"""The labelled sets of tests/data (grounding pairs, retrieval questions, coverage briefs):
loading, field checks, and the corpus documents they quote (issue 9's measuring instruments).

Used by tests/test_labelled_sets.py and by bench/grounding.py, bench/retrieval.py and
bench/coverage.py. Documents are named by their corpus file name ("docling_faq.md").
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from tests import corpus

DATA = Path(__file__).resolve().parent / "data"
GROUNDING = DATA / "grounding_pairs.jsonl"
#: pairs from other corpus documents: h001-h039 written after the flagger was first tuned,
#: h040-h148 before it was tuned again (synonyms, negation); never tuned on
GROUNDING_HELDOUT = DATA / "grounding_pairs_heldout.jsonl"
RETRIEVAL = DATA / "retrieval_questions.jsonl"
#: written after the retrieval work was tuned on RETRIEVAL, over other documents: held out
RETRIEVAL_HELDOUT = DATA / "retrieval_heldout.jsonl"
COVERAGE = DATA / "coverage_briefs.jsonl"
#: briefs over other corpus documents, written before the threshold was calibrated
COVERAGE_HOLDOUT = DATA / "coverage_briefs_holdout.jsonl"
#: briefs over the generated fixtures (tests/fixtures): checked without the corpus
COVERAGE_FIXTURES = DATA / "coverage_briefs_fixtures.jsonl"

SUPPORTED_KINDS = {"verbatim", "near_verbatim", "paraphrase"}
UNSUPPORTED_KINDS = {
    "other_sentence",
    "changed_number",
    "added_negation",
    "swapped_name",
    "absent_claim",
}
FIELDS = {
    GROUNDING: {"id", "document", "passage", "sentence", "label", "kind"},
    GROUNDING_HELDOUT: {"id", "document", "passage", "sentence", "label", "kind"},
    RETRIEVAL: {"id", "document", "question", "answer", "kind"},
    RETRIEVAL_HELDOUT: {"id", "document", "question", "answer", "kind"},
    COVERAGE: {"id", "documents", "topic", "covered"},
    COVERAGE_HOLDOUT: {"id", "documents", "topic", "covered"},
    COVERAGE_FIXTURES: {"id", "documents", "topic", "covered"},
}


def load(path: Path) -> list[dict]:
    """The rows of a JSONL set; a missing or extra field is a ValueError naming the line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if set(row) != FIELDS[path]:
            raise ValueError(f"{path.name}:{number}: fields {sorted(row)}")
        rows.append(row)
    return rows


def grounding_pairs() -> list[dict]:
    return load(GROUNDING)


def retrieval_questions() -> list[dict]:
    return load(RETRIEVAL)


def retrieval_heldout() -> list[dict]:
    return load(RETRIEVAL_HELDOUT)


def coverage_briefs(path: Path = COVERAGE) -> list[dict]:
    return load(path)


def grounding_flags(pairs: list[dict]) -> list[bool]:
    """For each pair, whether the grounding check flags the one-sentence draft
    "<sentence> [1]" citing its passage as source 1 (the pipeline a saved edit goes
    through: sentence split, markers, support)."""
    from draftsmith.generation.grounding import check

    return [bool(check(f"{p['sentence']} [1]", {1: p["passage"]}).flagged) for p in pairs]


def precision_recall(pairs: list[dict], flags: list[bool]) -> tuple[float, float]:
    """Precision and recall of the flags for the label ``unsupported``."""
    truth = [p["label"] == "unsupported" for p in pairs]
    hits = sum(f and t for f, t in zip(flags, truth, strict=True))
    precision = hits / sum(flags) if any(flags) else 0.0
    return precision, hits / sum(truth) if any(truth) else 0.0


def flagged_share_by_kind(pairs: list[dict], flags: list[bool]) -> dict[str, float]:
    """Per kind, the share of pairs flagged (recall for unsupported kinds, the
    false-positive rate for supported ones)."""
    out: dict[str, list[bool]] = {}
    for pair, flag in zip(pairs, flags, strict=True):
        out.setdefault(pair["kind"], []).append(flag)
    return {kind: sum(v) / len(v) for kind, v in out.items()}


def normalize(text: str) -> str:
    return " ".join(text.split())


def corpus_path(name: str) -> Path:
    """The corpus file with this name (in any of the corpus's folders)."""
    found = sorted(corpus.CORPUS.glob(f"*/{name}"))
    if not found:
        raise FileNotFoundError(f"{name} is not in {corpus.CORPUS}")
    return found[0]


@cache
def extraction(name: str):
    """The project's own extraction of a corpus document (cached for the process)."""
    from draftsmith.documents.extract import extract
    from draftsmith.documents.sniff import detect_type

    path = corpus_path(name)
    detected = detect_type(path)
    return extract(path, detected.kind, detected.encoding)


def answer_spans(markdown: str, answer: str) -> list[tuple[int, int]]:
    """Offsets of every occurrence of ``answer`` in ``markdown``, whitespace-insensitive."""
    pattern = r"\s+".join(re.escape(word) for word in answer.split())
    return [(m.start(), m.end()) for m in re.finditer(pattern, markdown)]


@cache
def fixture_extraction(name: str):
    """The project's own extraction of a generated fixture (tests/fixtures)."""
    from draftsmith.documents.extract import extract
    from draftsmith.documents.sniff import detect_type
    from tests.fixtures.make import fixture_path

    path = fixture_path(name)
    detected = detect_type(path)
    return extract(path, detected.kind, detected.encoding)


@cache
def coverage_index(name: str, fixture: bool = False):
    """A document's coverage index, built from the project's chunks as the app builds it."""
    from draftsmith.documents.chunking import chunk_extraction
    from draftsmith.generation.coverage import SourceIndex
    from draftsmith.generation.types import Passage

    ex = fixture_extraction(name) if fixture else extraction(name)
    passages = [
        Passage(f"{name}#{c.ordinal}", name, name, c.page, c.start, c.end, c.text, c.heading)
        for c in chunk_extraction(ex)
    ]
    return SourceIndex.build(name, passages)


def measure_briefs(briefs: list[dict], fixture: bool = False) -> list:
    """The measured coverage of each brief (``draftsmith.generation.coverage.measure``)."""
    from draftsmith.generation.coverage import measure

    return [
        measure(b["topic"], [coverage_index(n, fixture) for n in b["documents"]]) for b in briefs
    ]


def accuracy(briefs: list[dict], measured: list) -> float:
    return sum(m.covered == b["covered"] for b, m in zip(briefs, measured, strict=True)) / len(
        briefs
    )
