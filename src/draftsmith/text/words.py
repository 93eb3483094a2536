"""Word counting and whitespace normalisation: the one definition the API, the CLI,
the engines, the chunker and the editor (``web/static/wordcount.js``, a port kept
equal by ``tests/e2e/test_word_count.py``) share.

A word is a run of letters/digits, joined by ``-``, ``'``, ``’`` or ``.``
("state-of-the-art", "don't", "e.g", "3.14" are one word each); punctuation and
Markdown marks ("-", "#", "|") are none. Scripts written without spaces (Chinese
ideographs, Japanese kana) count half a word per character, about the length of a
word there; Hangul is written with spaces and counts like any other script.
"""

from __future__ import annotations

import re

_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_UNSPACED_RE = re.compile(f"[{_UNSPACED}]")
_LETTERS = rf"[^\W_{_UNSPACED}]+"
#: one token: an unspaced-script character (half a word) or a whole word
_TOKEN_RE = re.compile(rf"[{_UNSPACED}]|{_LETTERS}(?:[-'’.]{_LETTERS})*")
_WORD_RE = re.compile(rf"{_LETTERS}(?:[-'’.]{_LETTERS})*")

_SOFT_HYPHEN_RE = re.compile(r"(\w)[\u00ad\x02]\s*\n\s*(\w)|(\w)-\n\s*([a-z])")
_WS_RE = re.compile(r"\s+")


def normalize_whitespace(text: str) -> str:
    """Collapse whitespace and join words hyphenated across a line break."""

    def _join(m: re.Match[str]) -> str:
        return (m.group(1) or m.group(3)) + (m.group(2) or m.group(4))

    text = _SOFT_HYPHEN_RE.sub(_join, text)
    text = text.replace("\u00ad", "").replace("\x02", "")
    return _WS_RE.sub(" ", text).strip()


def word_count(text: str) -> int:
    """Words of ``text`` (see the module docstring)."""
    words = len(_WORD_RE.findall(text))
    return words if text.isascii() else words + len(_UNSPACED_RE.findall(text)) // 2


def start_of_last_words(text: str, lo: int, end: int, n: int) -> int:
    """Offset where the last ``n`` words of ``text[lo:end]`` start (``end`` if none);
    a word cut by ``lo`` does not count."""
    tokens = [
        (m.start(), 0.5 if _UNSPACED_RE.match(m.group()) else 1.0)
        for m in _TOKEN_RE.finditer(text, lo, end)
    ]
    if tokens and tokens[0][0] == lo and lo > 0 and not text[lo - 1].isspace():
        tokens.pop(0)
    at, words = end, 0.0
    for start, weight in reversed(tokens):
        if words >= n:
            break
        words += weight
        at = start
    return at
