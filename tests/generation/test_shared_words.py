"""One stemmer, one generic-word list, form lines, glued bibliography keys and clause-like
headings (issue 9 review)."""

from draftsmith.documents.search import SearchHit
from draftsmith.generation import coverage
from draftsmith.generation.extractive.focus import core_terms
from draftsmith.generation.extractive.headings import good_heading_phrase, verb_words
from draftsmith.generation.extractive.sentences import sentence_problem
from draftsmith.generation.support import stem as grounding_stem
from draftsmith.generation.types import Passage
from draftsmith.text.tokens import content_words, stem


def test_grounding_search_and_coverage_stem_alike():
    for word in ("retrieval", "retrieve", "installation", "ducks", "generously", "mallard's"):
        assert grounding_stem(word) == stem(word.removesuffix("'s"))
    assert stem("retrieval") == stem("retrieve")  # Porter 2, as PostgreSQL's index
    assert stem("über") == "über" and stem("gas") == "gas"


def test_one_generic_list_for_coverage_and_the_topic_focus():
    assert [t.text for t in coverage.topic_terms("A beginner's guide to OCR options")] == [
        "ocr",
        "options",
    ]
    assert core_terms(["guide", "ocr", "options"]) == frozenset(content_words("ocr options"))


def test_a_form_instruction_is_no_sentence_for_a_post():
    cover = "Indicate by check mark whether the registrant is a shell company (Rule 12b-2)."
    assert sentence_problem(cover) == "form instruction"
    assert sentence_problem("The company designs and licenses casino table games.") is None


def test_a_bibliography_key_glued_to_a_word_is_debris():
    glued = "Many programs and desktops use the MIME system[MIME] to represent the types of files."
    assert sentence_problem(glued) == "footnote marker"
    assert sentence_problem(glued.replace("[MIME]", "")) is None


def test_a_key_phrase_with_a_verb_in_it_is_no_heading():
    verbs = verb_words(
        [
            "Premium games generate higher revenue. Side bets can generate revenue too.",
            "The market is large. Operators want to market their games.",
        ]
    )
    assert "generate" in verbs and "market" not in verbs
    assert not good_heading_phrase("premium games generate", {}, verbs)
    assert not good_heading_phrase("games generate higher", {}, verbs)
    assert not good_heading_phrase("generate higher revenue", {}, verbs)
    assert good_heading_phrase("addressable market", {}, verbs)


def test_a_passage_from_a_search_hit_keeps_its_location():
    hit = SearchHit(7, "d1", 2, "Text.", 3, "Intro", 10, 15, 1.5, "iii", "A › Intro")
    p = Passage.from_hit(hit, "a.pdf")
    assert (p.chunk_id, p.document_name, p.page_label, p.section, p.score) == (
        "7",
        "a.pdf",
        "iii",
        "A › Intro",
        1.5,
    )
