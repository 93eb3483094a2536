"""The labelled sets of tests/data (issue 9's measuring instruments) are well formed;
with the corpus, every quoted passage and answer is really in its document."""

from __future__ import annotations

from collections import Counter

import pytest

from tests import labelled


def test_grounding_pairs_are_well_formed_and_balanced():
    pairs = labelled.grounding_pairs()
    assert len(pairs) >= 200
    assert len({p["id"] for p in pairs}) == len(pairs)
    for p in pairs:
        kinds = (
            labelled.SUPPORTED_KINDS if p["label"] == "supported" else labelled.UNSUPPORTED_KINDS
        )
        assert p["label"] in ("supported", "unsupported") and p["kind"] in kinds, p["id"]
        assert p["passage"].strip() and p["sentence"].strip(), p["id"]
        passage, sentence = labelled.normalize(p["passage"]), labelled.normalize(p["sentence"])
        if p["kind"] == "verbatim":
            assert sentence in passage, p["id"]
        if p["label"] == "unsupported":
            assert sentence not in passage, p["id"]
    labels = Counter(p["label"] for p in pairs)
    assert min(labels.values()) >= 0.4 * len(pairs)
    kinds = Counter(p["kind"] for p in pairs)
    assert set(kinds) == labelled.SUPPORTED_KINDS | labelled.UNSUPPORTED_KINDS
    assert min(kinds.values()) >= 10
    assert len({p["document"] for p in pairs}) >= 10


def test_retrieval_questions_are_well_formed():
    questions = labelled.retrieval_questions()
    assert len(questions) >= 60
    assert len({q["id"] for q in questions}) == len(questions)
    kinds = Counter(q["kind"] for q in questions)
    assert set(kinds) == {"lexical", "paraphrase"} and kinds["paraphrase"] >= 30
    assert all(q["question"].strip() and q["answer"].strip() for q in questions)
    heldout = labelled.retrieval_heldout()
    assert len(heldout) >= 20 and Counter(q["kind"] for q in heldout)["paraphrase"] >= 10
    assert not {q["document"] for q in heldout} & {q["document"] for q in questions}


@pytest.mark.parametrize(
    ("path", "size"),
    [(labelled.COVERAGE, 40), (labelled.COVERAGE_HOLDOUT, 20), (labelled.COVERAGE_FIXTURES, 10)],
    ids=["calibration", "holdout", "fixtures"],
)
def test_coverage_briefs_are_well_formed_and_balanced(path, size):
    briefs = labelled.coverage_briefs(path)
    assert len(briefs) >= size
    assert len({b["id"] for b in briefs}) == len(briefs)
    assert all(isinstance(b["covered"], bool) and b["documents"] for b in briefs)
    covered = sum(b["covered"] for b in briefs)
    assert 0.4 * len(briefs) <= covered <= 0.6 * len(briefs)


def test_the_holdout_briefs_are_over_other_documents_than_the_calibration_briefs():
    def documents(path):
        return {name for b in labelled.coverage_briefs(path) for name in b["documents"]}

    assert not documents(labelled.COVERAGE) & documents(labelled.COVERAGE_HOLDOUT)
    fixtures = documents(labelled.COVERAGE_FIXTURES)
    assert all(labelled.fixture_extraction(name).markdown for name in fixtures)


@pytest.mark.corpus
def test_every_passage_and_answer_is_in_its_document():
    texts: dict[str, str] = {}

    def text(name: str) -> str:
        if name not in texts:
            texts[name] = labelled.extraction(name).markdown
        return texts[name]

    for p in labelled.grounding_pairs() + labelled.load(labelled.GROUNDING_HELDOUT):
        document = labelled.normalize(text(p["document"]))
        assert labelled.normalize(p["passage"]) in document, p["id"]
        if p["kind"] == "other_sentence":
            assert labelled.normalize(p["sentence"]) in document, p["id"]
    for q in labelled.retrieval_questions() + labelled.retrieval_heldout():
        assert labelled.answer_spans(text(q["document"]), q["answer"]), q["id"]
    for b in labelled.coverage_briefs() + labelled.coverage_briefs(labelled.COVERAGE_HOLDOUT):
        assert all(labelled.corpus_path(name).is_file() for name in b["documents"]), b["id"]


def test_grounding_flagger_meets_its_measured_precision_and_recall():
    """bench/grounding.py measured precision 0.94 and recall 0.95 for `unsupported` on
    the labelled set (deterministic: the floors are what it measured)."""
    pairs = labelled.grounding_pairs()
    flags = labelled.grounding_flags(pairs)
    precision, recall = labelled.precision_recall(pairs, flags)
    assert precision >= 0.94 and recall >= 0.95, (precision, recall)
    by_kind = labelled.flagged_share_by_kind(pairs, flags)
    assert by_kind["verbatim"] == 0 and by_kind["near_verbatim"] == 0
    assert by_kind["paraphrase"] <= 0.15
    assert min(by_kind[k] for k in labelled.UNSUPPORTED_KINDS) >= 0.88, by_kind


def test_grounding_flagger_generalises_to_the_held_out_pairs():
    """Pairs from seven other corpus documents, never tuned on: 39 written after the
    flagger was first tuned, 109 before it was tuned again (bench/grounding.py: precision
    0.93, recall 0.88 - recall short of the labelled set's, on absent claims and swaps)."""
    pairs = labelled.load(labelled.GROUNDING_HELDOUT)
    assert len(pairs) >= 148 and len({p["id"] for p in pairs}) == len(pairs)
    assert {p["kind"] for p in pairs} == labelled.SUPPORTED_KINDS | labelled.UNSUPPORTED_KINDS
    assert not {p["document"] for p in pairs} & {p["document"] for p in labelled.grounding_pairs()}
    precision, recall = labelled.precision_recall(pairs, labelled.grounding_flags(pairs))
    assert precision >= 0.93 and recall >= 0.87, (precision, recall)
