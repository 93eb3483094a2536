"""Key phrases shared by several texts (for headings and topic terms)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from .tokens import STOPWORDS, stem

_PHRASE_SPLIT_RE = re.compile(r"[^\w\s'’-]|\s-\s|_")


def candidate_phrases(text: str, max_len: int = 3) -> list[tuple[str, str]]:
    """(key, surface) pairs of runs of 1..max_len content words.

    The key is the stemmed, lower-cased phrase; the surface keeps the original
    casing of the first occurrence. Runs are broken at stopwords and punctuation."""
    out: list[tuple[str, str]] = []
    for chunk in _PHRASE_SPLIT_RE.split(text):
        run: list[str] = []
        for raw in chunk.split():
            tok = raw.strip("'’-").replace("’", "'")
            low = tok.lower()
            if (
                not tok
                or low in STOPWORDS
                or len(low) < 2
                or not any(c.isalpha() for c in tok)
                or sum(c.isdigit() for c in tok) > len(tok) / 2
            ):
                _runs(run, max_len, out)
                run = []
                continue
            run.append(tok)
        _runs(run, max_len, out)
    return out


def _runs(run: list[str], max_len: int, out: list[tuple[str, str]]) -> None:
    if not run:
        return
    n = len(run)
    for size in range(1, min(max_len, n) + 1):
        for i in range(n - size + 1):
            words = run[i : i + size]
            key = " ".join(stem(w.lower()) for w in words)
            out.append((key, " ".join(words)))


def extract_keyphrases(
    texts: Sequence[str],
    k: int = 10,
    exclude: Iterable[str] = (),
    min_df: int = 2,
) -> list[tuple[str, float]]:
    """Key phrases shared by several of ``texts``, best first.

    Score: document frequency among ``texts`` × a length bonus (multi-word
    phrases are more specific). Phrases whose words are all in ``exclude``
    (e.g. the topic words) are dropped, and a phrase contained in a better one
    is dropped. Deterministic."""
    excl = {stem(w.lower()) for w in exclude}
    df: Counter[str] = Counter()
    tf: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}
    order = 0
    for t in texts:
        seen: set[str] = set()
        for key, surf in candidate_phrases(t):
            tf[key] += 1
            surface.setdefault(key, Counter())[surf] += 1
            if key not in first:
                first[key] = order
                order += 1
            if key not in seen:
                seen.add(key)
                df[key] += 1
    scored: list[tuple[float, int, str]] = []
    for key, d in df.items():
        if d < min_df:
            continue
        words = key.split()
        if all(w in excl for w in words):
            continue
        if words[0] in excl and len(words) == 1:
            continue
        bonus = 1.0 + 0.8 * (len(words) - 1)
        scored.append((d * bonus + 0.01 * math.log1p(tf[key]), -first[key], key))
    scored.sort(reverse=True)
    chosen: list[tuple[str, float]] = []
    chosen_keys: list[str] = []
    for score, _, key in scored:
        if any(f" {key} " in f" {c} " or f" {c} " in f" {key} " for c in chosen_keys):
            continue
        chosen_keys.append(key)
        surf = sorted(surface[key].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        chosen.append((surf, score))
        if len(chosen) >= k:
            break
    return chosen
