import pytest

from draftsmith.generation.citations import (
    SourceRegistry,
    assemble_markdown,
    finalize,
    markers_in,
    rewrite_markers,
    verify,
)
from draftsmith.generation.errors import GenerationError
from draftsmith.generation.grounding import check
from draftsmith.generation.types import Citation, Passage

DOC = (
    "# Cats\n\nCats sleep for most of the day in warm places. They hunt small birds and mice at "
    "dawn.\n\n"
    "## Dogs\n\nDogs need a daily walk and regular exercise. A bored dog chews furniture."
)
_S1, _E1 = DOC.index("Cats sleep"), DOC.index("## Dogs") - 2
_S2 = DOC.index("Dogs need")
P1 = Passage("c1", "d1", "pets.md", 2, _S1, _E1, DOC[_S1:_E1], "Cats", 1.0)
P2 = Passage("c2", "d1", "pets.md", 3, _S2, len(DOC), DOC[_S2:], "Dogs", 0.5)


def test_passage_fixture_is_verbatim():
    assert P1.text.startswith("Cats sleep") and P1.text.endswith("mice at dawn.")
    assert P2.text.startswith("Dogs need")


def _draft(body: str) -> tuple[str, list[Citation]]:
    reg = SourceRegistry()
    reg.add(P1)
    reg.add(P2)
    body, cits = finalize(body, reg)
    return assemble_markdown("Pets", body, cits), cits


def test_finalize_renumbers_by_first_appearance_and_quotes_verbatim():
    md, cits = _draft("Dogs need a daily walk [2]. Cats sleep most of the day [1].")
    assert "Dogs need a daily walk [1]. Cats sleep most of the day [2]." in md
    assert [c.chunk_id for c in cits] == ["c2", "c1"]
    for c in cits:
        p = P1 if c.chunk_id == "c1" else P2
        assert c.quote in p.text
        assert DOC[c.start : c.end] == c.quote
    assert cits[1].quote == "Cats sleep for most of the day in warm places."
    assert (
        "## Sources" in md
        and "- [1] pets.md, p. 3, Dogs — “Dogs need a daily walk and regular exercise.”" in md
    )
    # passages without a stored label or path: the page number and the heading
    assert (cits[0].page_label, cits[0].section) == ("3", "Dogs")


def test_marker_forms():
    assert markers_in("a [1, 3] b [4-5] c [2][1] d [x](y) [7](http://e)") == [1, 3, 4, 5, 2]
    assert rewrite_markers("A [1, 2]. B [3].", {1: 5, 2: None}) == "A [5]. B."


def test_unknown_markers_are_removed_or_raise():
    md, cits = _draft("Cats sleep most of the day [1]. Dogs need walks [2] [9].")
    assert "[9]" not in md  # finalize drops numbers it does not know
    md = md.replace("walks [2].", "walks [2][9].")
    v = verify(md, cits, [P1, P2])
    assert v.unknown_markers == [9]
    assert "[9]" not in v.markdown
    assert "Dogs need walks [2]." in v.markdown
    with pytest.raises(GenerationError):
        verify(md, cits, [P1, P2], strict=True)


def test_quote_not_verbatim_is_detected_and_repaired():
    md, cits = _draft("Cats sleep most of the day [1].")
    bad = [
        Citation(
            c.n,
            c.document_id,
            c.document_name,
            c.page,
            c.chunk_id,
            c.start,
            c.end,
            "Cats never sleep.",
        )
        for c in cits
    ]
    v = verify(md, bad, [P1, P2])
    assert v.bad_quotes == [1]
    assert v.citations[0].quote in P1.text
    assert DOC[v.citations[0].start : v.citations[0].end] == v.citations[0].quote
    with pytest.raises(GenerationError):
        verify(md, bad, [P1, P2], strict=True)
    # also checked against the document text at [start, end)
    shifted = [
        Citation(
            c.n, c.document_id, c.document_name, c.page, c.chunk_id, c.start + 1, c.end + 1, c.quote
        )
        for c in cits
    ]
    v2 = verify(md, shifted, [P1, P2], document_texts={"d1": DOC})
    assert not v2.bad_quotes and v2.citations[0].start == cits[0].start


def test_uncited_paragraph_is_reported():
    md, cits = _draft("Cats sleep most of the day [1].\n\nThis paragraph cites nothing at all.")
    v = verify(md, cits, [P1, P2])
    assert v.uncited_paragraphs == ["This paragraph cites nothing at all."]
    assert not v.ok


def test_unsupported_sentence_is_flagged_with_offsets():
    md, cits = _draft(
        "Cats sleep for most of the day in warm places [1]. "
        "Quantum computers will replace all spreadsheets next year [1].\n\n"
        "Dogs need a daily walk and exercise [2]."
    )
    v = verify(md, cits, [P1, P2])
    g = check(v.markdown, {c.n: p.text for c, p in zip(v.citations, [P1, P2], strict=True)})
    assert [(f.reason, f.citations) for f in g.flagged] == [("unsupported", [1])]
    flagged = g.flagged[0]
    assert v.markdown[flagged.start : flagged.end] == flagged.sentence
    assert flagged.sentence == "Quantum computers will replace all spreadsheets next year [1]."
    assert g.checked == 3 and g.score == round(2 / 3, 3)


def test_sentence_without_marker_borrows_the_next_one():
    md, cits = _draft("Cats hunt at dawn. They sleep in warm places [1].")
    v = verify(md, cits, [P1, P2])
    g = check(v.markdown, {1: P1.text})
    assert g.checked == 2 and g.flagged == [] and g.score == 1.0
