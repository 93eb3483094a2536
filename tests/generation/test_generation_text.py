from draftsmith.generation.text import (
    content_words,
    estimate_tokens,
    extract_keyphrases,
    keywords,
    markdown_blocks,
    split_sentences,
    truncate_to_tokens,
)


def texts(md: str, **kw) -> list[str]:
    return [s.text for s in split_sentences(md, **kw)]


def test_abbreviations_decimals_and_initials_do_not_split():
    md = "Dr. Smith measured 3.14 units, e.g. in the lab. It cost $4.5 million in the U.S. Army budget. J. R. Tolkien wrote it."
    assert texts(md) == [
        "Dr. Smith measured 3.14 units, e.g. in the lab.",
        "It cost $4.5 million in the U.S. Army budget.",
        "J. R. Tolkien wrote it.",
    ]


def test_offsets_are_verbatim_and_wrapped_lines_join():
    md = "Intro line.\n\nThis sentence is wrapped\nover two lines. Next one?"
    sents = split_sentences(md)
    assert [s.text for s in sents] == [
        "Intro line.",
        "This sentence is wrapped\nover two lines.",
        "Next one?",
    ]
    for s in sents:
        assert md[s.start : s.end] == s.text


def test_markdown_structure_is_not_prose():
    md = """# A heading that ends with a period.

Real prose sentence here.

- a list item that is a sentence.
- another item

| col | col |
|-----|-----|
| Table cell. | More. |

```python
code = "Not. Prose."
```

> Quoted text.

![Figure 3. A caption.](x.png)

Setext heading
--------------
"""
    assert texts(md) == ["Real prose sentence here."]
    assert texts(md, include_lists=True) == [
        "Real prose sentence here.",
        "a list item that is a sentence.",
        "another item",
    ]
    kinds = [b.kind for b in markdown_blocks(md)]
    assert "table" in kinds and "code" in kinds and "heading" in kinds


def test_pdf_style_heading_line_is_cut_from_the_next_sentence():
    md = (
        "Solution Brief\nThe centre of excellence helps clients achieve their business\n"
        "requirements with experts in the database products."
    )
    out = texts(md)
    assert out[0] == "Solution Brief"
    assert out[1].startswith("The centre of excellence")


def test_cjk_sentences_split_without_spaces():
    assert texts("日本語の文です。二つ目の文です。") == ["日本語の文です。", "二つ目の文です。"]


def test_keywords_and_keyphrases():
    assert content_words("The retrievers are running quickly")[:1] == ["retriever"]
    assert "the" not in keywords("the cat and the dog and the cat")
    assert keywords("the cat and the dog and the cat")[0] == "cat"
    docs = [
        "Dense passage retrieval works well.",
        "We trained dense passage retrieval.",
        "BM25 is sparse.",
    ]
    phrases = [p for p, _ in extract_keyphrases(docs, exclude=["works"])]
    assert phrases[0] == "Dense passage retrieval"
    # tolerant of other languages: no crash, words kept
    assert "überprüfung" in keywords("Die Überprüfung der Überprüfung ist wichtig")


def test_token_estimate_and_truncation():
    text = "word " * 1000
    assert 1000 <= estimate_tokens(text) <= 1600
    cut = truncate_to_tokens("First sentence here. " * 50, 40)
    assert estimate_tokens(cut) <= 40
    assert cut.endswith("…")
    assert estimate_tokens("漢字" * 10) == 20
