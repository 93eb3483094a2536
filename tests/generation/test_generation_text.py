from draftsmith.text.blocks import markdown_blocks
from draftsmith.text.phrases import extract_keyphrases
from draftsmith.text.sentences import split_sentences
from draftsmith.text.tokens import content_words, estimate_tokens, truncate_to_tokens


def texts(md: str, **kw) -> list[str]:
    return [s.text for s in split_sentences(md, **kw)]


def test_abbreviations_decimals_and_initials_do_not_split():
    md = (
        "Dr. Smith measured 3.14 units, e.g. in the lab. It cost $4.5 million in the U.S. Army "
        "budget. J. R. Tolkien wrote it."
    )
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
    assert content_words("The retrievers are running quickly")[:1] == ["retriev"]  # Porter 2
    docs = [
        "Dense passage retrieval works well.",
        "We trained dense passage retrieval.",
        "BM25 is sparse.",
    ]
    phrases = [p for p, _ in extract_keyphrases(docs, exclude=["works"])]
    assert phrases[0] == "Dense passage retrieval"
    # tolerant of other languages: no crash, words kept
    assert "überprüfung" in content_words("Die Überprüfung der Überprüfung ist wichtig")


def test_token_estimate_and_truncation():
    text = "word " * 1000
    assert 1000 <= estimate_tokens(text) <= 1600
    cut = truncate_to_tokens("First sentence here. " * 50, 40)
    assert estimate_tokens(cut) <= 40
    assert cut.endswith("…")
    assert estimate_tokens("漢字" * 10) == 20


def test_wrapped_pdf_lines_join_only_when_asked():
    pdf = (
        "Preemptive Information Extraction is an\nattempt to automatically create all feasible\n"
        "IE systems in advance without human intervention. We propose a technique.\n"
        "2 Basic Idea\nIn Unrestricted Relation Discovery, the discovery process is clustering."
    )
    joined = texts(pdf, join_wrapped_lines=True)
    assert joined[0].startswith("Preemptive Information Extraction is an\nattempt")
    assert joined[0].endswith("without human intervention.")
    assert "2 Basic Idea" in joined  # a heading line still ends the sentence before it
    assert joined[-1].startswith("In Unrestricted Relation Discovery")
    # the default keeps the old line rule for other callers
    assert texts(pdf) == [s.text for s in split_sentences(pdf)]
    md = "Solution Brief\nThe centre of excellence helps clients with experts in databases."
    assert texts(md, join_wrapped_lines=True)[0] == "Solution Brief"


def test_heading_lines():
    from draftsmith.text.sentences import looks_like_heading_line as heading

    for line in (
        "2 Basic Idea",
        "3.1 Web Crawling and Basic Clustering",
        "Increasing Basic Patterns",
        "Abstract",
        "Erforderliche Vorkenntnisse",
        "Table 1: Sample discovered relation.",
        "12",
    ):
        assert heading(line), line
    for line in (
        "Preemptive Information Extraction is an",
        "attempt to automatically create all feasible",
        "In this case",
        "Vielen Dank für die Erlaubnis, Ihre",
        "Unrestricted Relation Discovery that discovers",
    ):
        assert not heading(line), line


def test_one_sentence_splitter_for_chunks_and_engines():
    """A long paragraph is cut by the chunker exactly where the engines' splitter cuts."""
    from draftsmith.documents.chunking import _sentences

    para = (
        "Dr. Smith measured 3.14 units, e.g. in the lab. It cost $4.5 million in the U.S. "
        "Army budget. Vgl. Abschnitt 3 bzw. Kapitel 4 für Details. 日本語の文です。二つ目の文です。"
    )
    assert [para[s:e] for s, e in _sentences(para, 0, len(para))] == texts(para)
    assert len(texts(para)) == 5


def test_cjk_word_count_is_the_same_everywhere(tmp_path):
    from draftsmith.documents.chunking import chunk_extraction
    from draftsmith.documents.extract import extract
    from draftsmith.generation.citations import draft_word_count
    from draftsmith.text.words import word_count

    text = "日本語の文章です。これは二つ目の文です。Mixed with English words.\n"
    p = tmp_path / "ja.txt"
    p.write_text(text, encoding="utf-8")
    ex = extract(p, "text", "utf-8")
    expected = word_count(text)
    assert expected == 18 // 2 + 4  # 18 kana/kanji count half a word each, plus four words
    assert ex.word_count == expected
    assert [c.word_count for c in chunk_extraction(ex)] == [expected]
    assert draft_word_count(text) == expected
