"""The grounding flagger on clear cases (issue 9): what passes, what fails and why."""

from __future__ import annotations

import pytest

from draftsmith.generation.grounding import check, is_framing
from draftsmith.generation.lexicon import opposite
from draftsmith.generation.support import assess, content_words, coverage, stem

PASSAGE = (
    "Duck is the common name for numerous species of waterfowl in the family Anatidae. "
    "Ducks are generally smaller and shorter-necked than swans and geese. Almost all the "
    "varieties of domestic ducks are descended from the mallard, apart from the Muscovy "
    "duck. The myth was debunked by the Acoustics Research Centre at the University of "
    "Salford in 2003. A duck's quack does not echo is a common legend. Setting "
    "`quack_mode=True` in `ducks.cfg` makes the simulator quack."
)


@pytest.mark.parametrize(
    "sentence",
    [
        "Ducks are generally smaller and shorter-necked than swans and geese.",
        "Ducks are usually smaller and shorter-necked than swans and geese.",
        "Nearly all domestic duck varieties descend from the mallard, the Muscovy duck aside.",
        "The University of Salford debunked the myth in 2003.",
        "Setting `quack_mode=True` in `ducks.cfg` makes the simulator quack.",
    ],
)
def test_verbatim_near_verbatim_and_faithful_sentences_pass(sentence):
    verdict = assess(sentence, [PASSAGE])
    assert verdict.supported, verdict.reasons


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        ("The myth was debunked at the University of Salford in 2005.", "2005"),
        ("The myth was debunked at the University of Manchester in 2003.", "Manchester"),
        ("Setting `quack_mode=False` in `ducks.cfg` makes the simulator quack.", "quack_mode"),
        ("Ducks are not smaller than swans and geese.", "negates"),
        ("Setting `quack_mode=True` in `ducks.cfg` fails to make the simulator quack.", "negates"),
        ("It is a common legend that a duck's quack does not echo and never fades.", "more"),
        ("Nobody at the University of Salford debunked the myth in 2003.", "negates"),
        (
            "Almost all the varieties of domestic ducks are descended from the Muscovy duck, "
            "apart from the mallard.",
            "where the source says",
        ),
        ("Ducks are generally larger and shorter-necked than swans and geese.", "larg"),
        ("Ducks migrate to Africa every winter to breed in large colonies.", "Africa"),
        ("Most waterfowl spend the winter feeding on submerged grasses.", "words"),
    ],
)
def test_unsupported_sentences_fail_with_a_reason(sentence, why):
    verdict = assess(sentence, [PASSAGE])
    assert not verdict.supported
    assert any(why in reason for reason in verdict.reasons), verdict.reasons


def test_coverage_counts_common_synonyms_as_the_sources_words():
    sentence = "Spotting errors is difficult."
    assert coverage(sentence, set(content_words("Finding mistakes is hard."))) == 1
    assert coverage(sentence, {"spot"}) < 0.5


def test_opposites_are_antonyms_or_a_word_and_its_negative_prefix():
    def opposed(a, b):
        return opposite(stem(a), stem(b))

    assert opposed("invalid", "valid") and opposed("possible", "impossible")
    assert opposed("west", "east") and opposed("reduces", "increased")
    assert not opposed("valid", "value") and not opposed("possible", "likely")


def test_a_draft_is_checked_sentence_by_sentence_with_offsets():
    markdown = (
        "# Ducks\n\n"
        "This post looks at ducks.\n\n"
        "## Where ducks come from\n\n"
        "Almost all domestic ducks descend from the mallard [1]. They were first bred in "
        "Peru in 1200 BC [1]. An old report says ducks can fly backwards [7].\n\n"
        "- Ducks have waterproof feathers that keep them dry.\n\n"
        "```\nquack()\n```\n\n"
        "## Sources\n\n- [1] ducks.md — “Almost all…”\n"
    )
    g = check(markdown, {1: PASSAGE})
    flagged = [(f.reason, f.citations, markdown[f.start : f.end]) for f in g.flagged]
    assert flagged == [
        ("unsupported", [1], "They were first bred in Peru in 1200 BC [1]."),
        ("unknown_citation", [7], "An old report says ducks can fly backwards [7]."),
        ("uncited", [], "Ducks have waterproof feathers that keep them dry."),
    ]
    # the framing sentence, the headings, the code and the Sources list are not checked
    assert g.checked == 4 and g.score == 0.25
    assert "1200" in g.flagged[0].detail


def test_a_sentence_borrows_its_paragraphs_citation_and_a_lone_marker_counts():
    g = check("The mallard is the ancestor. Domestic ducks descend from it. [1]", {1: PASSAGE})
    assert g.checked == 2 and g.flagged == []


def test_framing_names_only_the_drafts_own_headings():
    outline = {"duck", "ancestri", "post", "look"}
    assert is_framing("This post looks at duck ancestry.", outline)
    assert not is_framing("Ducks descend from the mallard.", outline)


def test_a_draft_without_claims_scores_full_and_checks_nothing():
    assert check("# Ducks\n\nThis post looks at ducks.\n", {}).to_dict() == {
        "score": 1.0,
        "checked": 0,
        "flagged": [],
    }


def test_stemming_is_safe_from_many_threads_at_once():
    """Saves check grounding in worker threads; a shared Snowball stemmer raced there
    (IndexError inside the stemmer under the load benchmark)."""
    from concurrent.futures import ThreadPoolExecutor

    from draftsmith.generation import support

    bases = ("relat", "organiz", "condition", "hop", "generat")
    suffixes = ("ional", "ization", "ing", "ed", "ness", "fulness", "ively")
    words = [f"{b}{s}" for b in bases for s in suffixes] * 40
    words = [f"{w}{i}" if i % 3 else w for i, w in enumerate(words)]
    support.stem.cache_clear()
    expected = [support.stem(w) for w in words]
    for _ in range(5):
        support.stem.cache_clear()
        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(support.stem, words)) == expected


EGGS_A = "In spring the queen lays up to 2,000 eggs a day in the brood nest."
EGGS_B = "A healthy queen lays about 1,500 eggs a day during spring, beekeepers report."


def test_a_sentence_whose_cited_sources_disagree_on_a_number_is_flagged():
    sources = {1: EGGS_A, 2: EGGS_B}
    md = "# Bees\n\nIn spring the queen lays up to 2,000 eggs a day [1][2].\n"
    (flag,) = check(md, sources).flagged
    assert flag.reason == "unsupported" and flag.citations == [1, 2]
    assert "the cited sources disagree" in flag.detail
    assert "2000 egg" in flag.detail and "[2] gives 1500" in flag.detail


@pytest.mark.parametrize(
    "sentence",
    [
        # says so, and cites both
        "The queen lays up to 2,000 eggs a day [1], though another source says 1,500 [2].",
        "Sources differ on how many eggs the queen lays a day: 2,000 or 1,500 [1][2].",
        # one source only: nothing to compare
        "In spring the queen lays up to 2,000 eggs a day [1].",
    ],
)
def test_sources_that_disagree_pass_when_the_sentence_says_so_or_cites_one(sentence):
    assert check(f"# Bees\n\n{sentence}\n", {1: EGGS_A, 2: EGGS_B}).flagged == []


def test_numbers_of_different_quantities_or_years_are_no_disagreement():
    sources = {
        1: "In 2019 the colony had 40 frames and 2,000 eggs a day were laid.",
        2: "By 2021 the colony produced 30 kilograms of honey from 40 frames.",
    }
    md = "# Bees\n\nIn 2019 the colony had 40 frames [1][2].\n"
    assert check(md, sources).flagged == []
