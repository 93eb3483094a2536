"""Quotes are whole sentences: never cut mid-sentence; one quote for the sentences a draft used."""

from __future__ import annotations

from draftsmith.generation.citations import (
    MAX_QUOTE_CHARS,
    SourceRegistry,
    best_quote,
    finalize,
)
from draftsmith.generation.types import Passage
from draftsmith.text.sentences import split_sentences

LONG_SENTENCE = (
    "The keeper climbed the spiral stair, "
    + ", ".join(f"checked lamp number {i} and its brass fittings" for i in range(20))
    + ", and wrote the hour in the log."
)
SHORT = [
    "The lamp burned whale oil until the new lenses came.",
    "Storms cracked the lantern glass twice that winter.",
    "The fog horn sounded every thirty seconds in thick weather.",
    "Keepers painted the tower white each spring.",
    "Supply boats came once a month in calm seas.",
]


def _passage(text: str) -> Passage:
    return Passage("c1", "d1", "keeper.md", None, 100, 100 + len(text), text)


def _sentence_bounds(text: str) -> tuple[set[int], set[int]]:
    sents = split_sentences(text, include_lists=True)
    return {s.start for s in sents}, {s.end for s in sents}


def test_a_sentence_longer_than_the_cap_is_quoted_whole():
    assert len(LONG_SENTENCE) > MAX_QUOTE_CHARS
    p = _passage(" ".join(SHORT[:2]) + " " + LONG_SENTENCE + " " + SHORT[2])
    s, e = best_quote(p, "the keeper checked lamp number 7 and wrote the hour in the log")
    assert p.text[s:e] == LONG_SENTENCE


def test_a_long_run_of_sentences_shrinks_to_whole_sentences_about_the_claim():
    text = " ".join(SHORT * 6)  # about 1,500 characters
    p = _passage(text)
    reg = SourceRegistry()
    n = reg.add(p)
    reg.prefer_quote(n, 0, len(text))  # the engine used the whole passage
    _, (c,) = finalize(f"Fog horns sounded in thick weather [{n}].", reg)
    starts, ends = _sentence_bounds(text)
    assert c.start - 100 in starts and c.end - 100 in ends
    assert len(c.quote) <= MAX_QUOTE_CHARS and "fog horn" in c.quote


def test_several_sentences_used_from_one_passage_make_one_quote():
    text = " ".join(SHORT)
    p = _passage(text)
    reg = SourceRegistry()
    n = reg.add(p)
    for sentence in (SHORT[1], SHORT[3]):  # the draft copied the 2nd and the 4th sentence
        at = text.index(sentence)
        reg.prefer_quote(n, at, at + len(sentence))
    _, (c,) = finalize(f"{SHORT[1]} {SHORT[3]} [{n}]", reg)
    assert c.quote == " ".join(SHORT[1:4])
    assert (c.start, c.end) == (
        100 + text.index(SHORT[1]),
        100 + text.index(SHORT[3]) + len(SHORT[3]),
    )


def test_a_span_inside_a_sentence_widens_to_the_sentence():
    text = " ".join(SHORT)
    reg = SourceRegistry()
    n = reg.add(_passage(text))
    at = text.index("cracked the lantern")
    reg.prefer_quote(n, at, at + 10)
    _, (c,) = finalize(f"Storms cracked the glass [{n}].", reg)
    assert c.quote == SHORT[1]
