"""Sources that disagree: a sentence citing several passages that give different numbers
for the same quantity ("2,000 eggs a day" in one, "1,500 eggs a day" in another) while
the sentence states only one of them. The quantity is told by the word after the number
(its unit or noun, stemmed); a number written like a year (2019) is left alone. This can only
tell numbers apart: two passages that disagree in words pass."""

from __future__ import annotations

import re
from collections.abc import Mapping

from draftsmith.text.tokens import is_content_token, tokenize

from .support import stem

_QUANTITY_RE = re.compile(r"(?<![\w.\[])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(%|[^\W\d_][\w-]*)")


def quantities(text: str) -> dict[str, set[str]]:
    """``{quantity: {numbers}}``: each number followed by a unit or a content word."""
    out: dict[str, set[str]] = {}
    for m in _QUANTITY_RE.finditer(text):
        raw, word = m.group(1), m.group(2).lower()
        number = raw.replace(",", "")
        if re.fullmatch(r"1[89]\d\d|20\d\d", raw) or (word != "%" and not _content(word)):
            continue
        key = "percent" if word in ("%", "percent", "per-cent") else stem(word)
        out.setdefault(key, set()).add(number.rstrip("0").rstrip(".") if "." in number else number)
    return out


def _content(word: str) -> bool:
    tokens = tokenize(word)
    return bool(tokens) and is_content_token(tokens[0])


def disagreement(sentence: str, cited: Mapping[int, str]) -> str | None:
    """Why the passages ``cited`` (number -> text) contradict each other on a quantity the
    sentence states, or None (also when the sentence mentions the other value too)."""
    if len(cited) < 2:
        return None
    stated = quantities(sentence)
    mentioned = {
        m.group(1).replace(",", "") for m in re.finditer(r"(\d[\d,]*(?:\.\d+)?)", sentence)
    }
    by_source = {n: quantities(text) for n, text in cited.items()}
    for key, numbers in stated.items():
        for number in sorted(numbers):
            agree = [n for n, q in by_source.items() if number in q.get(key, ())]
            other = {
                n: sorted(q[key] - numbers)
                for n, q in by_source.items()
                if key in q and number not in q[key] and not q[key] & (numbers | mentioned)
            }
            if agree and other:
                n, values = next(iter(sorted(other.items())))
                return (
                    f"the cited sources disagree: [{agree[0]}] gives {number} {key}, "
                    f"[{n}] gives {' or '.join(values)}; say so and cite both"
                )
    return None
