"""Chunking: exact offsets, word bounds, structure, overlap, determinism, speed."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from draftsmith.documents.chunking import TextChunk, chunk_extraction
from draftsmith.documents.extract import Extraction, ExtractionError, Section, extract
from draftsmith.documents.extract._base import DocBuilder
from draftsmith.documents.sniff import SniffError, detect_type
from draftsmith.text.words import word_count
from tests.corpus import corpus_files
from tests.fixtures.make import FIXTURES, fixture_path

MIN, TARGET, MAX, OVERLAP = 150, 250, 400, 30

_rnd_words = None


def _sentence(rnd: random.Random, n: int | None = None) -> str:
    global _rnd_words
    if _rnd_words is None:
        r = random.Random(7)
        _rnd_words = [
            "".join(r.choice("etaoinshrdlu") for _ in range(r.randint(2, 9))) for _ in range(3000)
        ]
    n = n or rnd.randint(6, 24)
    words = [rnd.choice(_rnd_words) for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rnd: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rnd) for _ in range(sentences))


def _doc(sections: list[tuple[str | None, int | None, list[str]]]) -> Extraction:
    b = DocBuilder()
    for heading, page, paras in sections:
        if heading:
            b.heading(heading, 2, page=page)
        else:
            b.new_section(None, page)
        for p in paras:
            b.block(p)
    return b.finish()


def _check_invariants(ex: Extraction, chunks: list[TextChunk]) -> None:
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    prev = None
    for c in chunks:
        assert c.text == ex.markdown[c.start : c.end]
        assert c.text and c.text == c.text.strip()
        assert c.word_count == word_count(c.text)
        if prev is not None:
            assert c.start > prev.start and c.end > prev.end  # ordered, progressing
        prev = c
    # every non-blank character of the document is in some chunk
    covered = bytearray(len(ex.markdown))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    missing = [i for i, ch in enumerate(ex.markdown) if not ch.isspace() and not covered[i]]
    assert not missing, f"uncovered text at {missing[:5]}"


def test_offsets_exact_and_word_bounds_on_synthetic_doc():
    rnd = random.Random(1)
    sections = [
        (
            f"Section {i}",
            None,
            [_paragraph(rnd, rnd.randint(1, 12)) for _ in range(rnd.randint(1, 8))],
        )
        for i in range(40)
    ]
    ex = _doc(sections)
    chunks = chunk_extraction(ex)
    _check_invariants(ex, chunks)
    assert all(c.word_count <= MAX for c in chunks)
    assert all(c.word_count >= MIN for c in chunks[:-1])
    assert chunks[-1].word_count >= 1


def test_breaks_at_headings_when_sections_are_big_enough():
    rnd = random.Random(2)
    sections = [
        (f"Heading {i}", None, [_paragraph(rnd, 8) for _ in range(4)]) for i in range(10)
    ]  # ~500-700 words each
    ex = _doc(sections)
    chunks = chunk_extraction(ex)
    _check_invariants(ex, chunks)
    for c in chunks:
        inside = [s for s in ex.sections if s.start <= c.start and c.end <= s.end]
        assert len(inside) == 1, "a chunk must not straddle a heading here"
        assert c.heading == inside[0].heading
    starts = {c.start for c in chunks}
    for s in ex.sections:
        assert s.start in starts  # each section begins a chunk (with its heading)
        assert ex.markdown[s.start : s.start + 3] == "## "


def test_breaks_at_pages():
    rnd = random.Random(3)
    pages = [(None, p, [_paragraph(rnd, 14)]) for p in range(1, 9)]  # one long paragraph per page
    ex = _doc(pages)
    chunks = chunk_extraction(ex)
    _check_invariants(ex, chunks)
    for c in chunks:
        sec = [s for s in ex.sections if s.start <= c.start < s.end][0]
        assert c.page == sec.page
        if word_count(sec.text) >= MIN:
            assert c.end <= sec.end, "chunk crosses a page boundary"


def test_small_sections_merge_with_neighbours():
    rnd = random.Random(4)
    sections = [(f"Tiny {i}", None, [_sentence(rnd, 20)]) for i in range(30)]  # ~22 words each
    ex = _doc(sections)
    chunks = chunk_extraction(ex)
    _check_invariants(ex, chunks)
    assert len(chunks) < 10
    assert all(MIN <= c.word_count <= MAX for c in chunks[:-1])
    assert chunks[0].heading == "Tiny 0"


def test_long_paragraph_split_at_sentences():
    rnd = random.Random(5)
    sentences = [_sentence(rnd) for _ in range(150)]  # ~2,250 words, one paragraph
    ex = _doc([(None, None, [" ".join(sentences)])])
    chunks = chunk_extraction(ex)
    _check_invariants(ex, chunks)
    assert len(chunks) >= 6
    for c in chunks:
        assert c.word_count <= MAX
        assert c.text.endswith(".")  # ends at a sentence boundary


def test_overlap_between_consecutive_chunks_of_a_section():
    rnd = random.Random(6)
    ex = _doc([("Only", None, [_paragraph(rnd, 6) for _ in range(20)])])
    chunks = chunk_extraction(ex)
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end, "no overlap"
        shared = ex.markdown[b.start : a.end]
        assert word_count(shared) == OVERLAP
        assert a.text.endswith(shared)
    no_overlap = chunk_extraction(ex, overlap_words=0)
    for a, b in zip(no_overlap, no_overlap[1:]):
        assert b.start >= a.end


def test_no_overlap_across_sections():
    rnd = random.Random(7)
    ex = _doc([(f"H{i}", None, [_paragraph(rnd, 10) for _ in range(3)]) for i in range(4)])
    chunks = chunk_extraction(ex)
    sec_starts = {s.start for s in ex.sections}
    for a, b in zip(chunks, chunks[1:]):
        if b.start in sec_starts:
            assert b.start >= a.end


def test_deterministic():
    rnd = random.Random(8)
    ex = _doc(
        [(f"H{i}", i, [_paragraph(rnd, rnd.randint(1, 15)) for _ in range(5)]) for i in range(20)]
    )
    a = chunk_extraction(ex)
    b = chunk_extraction(
        Extraction(ex.markdown, list(ex.sections), ex.page_count, ex.word_count, [])
    )
    assert a == b


def test_single_tiny_document():
    ex = _doc([(None, None, ["Just a few words here."])])
    chunks = chunk_extraction(ex)
    assert len(chunks) == 1
    assert chunks[0].text == "Just a few words here." and chunks[0].word_count == 5


def test_empty_and_sectionless():
    assert chunk_extraction(Extraction("", [], None, 0, [])) == []
    text = "  Loose text without sections.  "
    chunks = chunk_extraction(Extraction(text, [], None, 4, []))
    assert len(chunks) == 1 and chunks[0].text == "Loose text without sections."


def test_text_without_spaces_is_still_bounded():
    ex = _doc([(None, None, ["x" * 50_000])])
    chunks = chunk_extraction(ex)
    _check_invariants(ex, chunks)
    assert len(chunks) > 5
    assert all(len(c.text) <= MAX * 12 for c in chunks)


def test_cjk_counts_characters():
    text = "日本語の文章です。" * 400  # no spaces at all
    ex = Extraction(text, [Section(None, 1, text, 0, len(text))], 1, word_count(text), [])
    chunks = chunk_extraction(ex)
    _check_invariants(ex, chunks)
    assert len(chunks) > 5
    assert all(c.word_count <= MAX for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)


def test_bad_parameters():
    ex = _doc([(None, None, ["a b c"])])
    with pytest.raises(ValueError):
        chunk_extraction(ex, min_words=300, target_words=200)


def test_a_million_words_chunk_within_bounds():
    """Correctness at scale; the speed itself is measured in bench/ingest.py."""
    rnd = random.Random(9)
    b = DocBuilder()
    words = 0
    i = 0
    paras = [_paragraph(rnd, rnd.randint(2, 14)) for _ in range(400)]
    while words < 1_000_000:
        b.heading(f"Part {i}", 2)
        for j in range(12):
            p = paras[(i * 12 + j) % len(paras)]
            b.block(p)
            words += len(p.split())
        i += 1
    ex = b.finish()
    chunks = chunk_extraction(ex)
    assert ex.word_count >= 1_000_000
    assert all(c.word_count <= MAX for c in chunks)
    assert sum(c.end - c.start for c in chunks) >= len(ex.markdown) * 0.9


@pytest.mark.parametrize(
    "paths",
    [
        pytest.param([fixture_path(name) for name in FIXTURES], id="generated"),
        pytest.param(corpus_files(), marks=pytest.mark.corpus, id="corpus"),
    ],
)
def test_documents_chunk_cleanly(paths: list[Path]):
    assert paths
    for path in paths:
        try:
            dt = detect_type(path)
            ex = extract(path, dt.kind, dt.encoding)
        except (SniffError, ExtractionError):
            continue
        chunks = chunk_extraction(ex)
        assert chunks, path
        _check_invariants(ex, chunks)
        assert all(c.word_count <= MAX for c in chunks), path
        if ex.word_count >= MIN:
            # below min_words only next to the character cap (URL lists,
            # dot-leader tables of contents: > 12 characters per word)
            def dense(i: int) -> bool:
                return 0 <= i < len(chunks) and len(chunks[i].text) > MAX * 12 * 0.5

            for i, c in enumerate(chunks[:-1]):
                assert c.word_count >= MIN or dense(i - 1) or dense(i) or dense(i + 1), (path, i)
        if dt.kind == "pdf":
            assert all(c.page is not None for c in chunks)
