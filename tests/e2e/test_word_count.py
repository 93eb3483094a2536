"""The editor's live word count (web/static/wordcount.js) is the server's rule."""

from __future__ import annotations

from pathlib import Path

from draftsmith.generation.citations import draft_word_count
from draftsmith.text.words import word_count

STATIC = Path(__file__).resolve().parents[2] / "src" / "draftsmith" / "web" / "static"

SAMPLES = [
    "",
    "state-of-the-art ideas don't fail, e.g. at 3.14 or U.S.-based firms — really",
    "日本語の文です。二つ目の文です。",
    "中文混合 English 文本, with rock’n’roll and l'été",
    "한국어 문장입니다 two",
    "Ünïcödé naïve façade — 12,5 % – x_y foo/bar AT&T",
    "हिन्दी में लिखा गया वाक्य",
    "# Title\n\nA claim [1]. Another one [2, 3] and [1-2][4].\n\n- item\n\n## Sources\n\n- [1] "
    "doc — “quote words”\n",
    "## References\ncounted? no\n\n## Sources\n\nnot counted either",
    "Fake link [1](http://x.example) and ref [2]: kept",
]


def test_python_rule():
    assert word_count("state-of-the-art don't e.g. 3.14 - # |") == 4
    assert word_count("日本語の文です") == 3  # seven characters, half a word each
    assert word_count("한국어 문장입니다") == 2  # Hangul is written with spaces
    assert draft_word_count(SAMPLES[7]) == 7  # title + body, not markers or Sources


def test_editor_counts_words_as_the_server_does(chromium):
    source = (STATIC / "wordcount.js").read_text(encoding="utf-8")
    page = chromium.new_page()
    try:
        page.add_script_tag(
            content=source + "\nwindow.wordcount = { wordCount, draftWordCount };", type="module"
        )
        page.wait_for_function("window.wordcount !== undefined")
        got = page.evaluate(
            "(samples) => samples.map((s) => [window.wordcount.wordCount(s),"
            " window.wordcount.draftWordCount(s)])",
            SAMPLES,
        )
    finally:
        page.close()
    assert got == [[word_count(s), draft_word_count(s)] for s in SAMPLES]
