"""Word counting and whitespace normalisation: the one definition the API,
CLI and editor share."""

from __future__ import annotations

import re

from .tokens import CJK_RE


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
    """Words of prose, CJK characters counted as half a word each."""
    cjk = len(CJK_RE.findall(text))
    words = len(re.findall(r"[^\W_]+(?:[-'’.][^\W_]+)*", CJK_RE.sub(" ", text)))
    return words + cjk // 2
