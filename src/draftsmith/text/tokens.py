"""Words as the search and scoring code sees them: stopwords, stemming,
CJK bigrams, and prompt-token estimates."""

from __future__ import annotations

import math
import re
import threading
from functools import lru_cache

import snowballstemmer

STOPWORDS: frozenset[str] = frozenset(
    """
a about above across after afterwards again against all almost alone along already also although
always am among amongst an and another any anyhow anyone anything anyway anywhere are aren't around
as at be became because become becomes becoming been before beforehand behind being below beside
besides between beyond both but by can cannot can't could couldn't did didn't do does doesn't doing
don't done down due during each either else elsewhere enough even ever every everyone everything
everywhere except few for former formerly from further had hadn't has hasn't have haven't having he
he'd he'll he's hence her here hereafter hereby herein here's hers herself him himself his how
however how's i i'd i'll i'm i've ie eg if in indeed instead into is isn't it it's its itself just
last latter latterly least less let's like likely made make makes making many may maybe me meanwhile
might mine more moreover most mostly much must mustn't my myself namely neither never nevertheless
next no nobody none nor not nothing now nowhere of off often on once one only onto or other others
otherwise ought our ours ourselves out over own per perhaps please put quite rather re really same
several shall shan't she she'd she'll she's should shouldn't since so some somehow someone something
sometime sometimes somewhere still such than that that's the their theirs them themselves then
thence there thereafter thereby therefore therein there's thereupon these they they'd they'll
they're they've this those though through throughout thru thus to together too toward towards under
until up upon us use used uses using very via was wasn't we we'd we'll we're we've well were weren't
what whatever what's when whence whenever when's where whereafter whereas whereby wherein where's
whereupon wherever whether which while whither who whoever whole whom whose who's why why's will
with within without won't would wouldn't yet you you'd you'll your you're yours yourself yourselves
you've also get gets got go goes going new way ways thing things able across want wants need needs
see seen one two three first second third many much lot lots etc vs via
""".split()
)

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uac00-\ud7af"  # hangul syllables
)
CJK_RE = re.compile(f"[{_CJK}]")
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[^\W_]+(?:['’][^\W\d_]+)?", re.UNICODE)


#: a Snowball stemmer keeps the word being stemmed in its own state, so one instance must
#: never serve two threads at once (saves check grounding in worker threads)
_local = threading.local()


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """Snowball (Porter 2) English stem of a lower-cased word: the one stemmer of every
    in-Python match (search, coverage, grounding, the extractive engine), the one the
    PostgreSQL index uses ('draftsmith_english'); SQLite's FTS5 ``porter`` is its
    predecessor. Short words and words outside ASCII (other languages) stay as they are."""
    if len(word) <= 3 or not word.isascii():
        return word
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; CJK runs become overlapping character bigrams."""
    out: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        tok = m.group(0)
        if CJK_RE.match(tok):
            if len(tok) == 1:
                out.append(tok)
            else:
                out.extend(tok[i : i + 2] for i in range(len(tok) - 1))
        else:
            out.append(tok.lower().replace("’", "'"))
    return out


def is_content_token(tok: str) -> bool:
    if tok in STOPWORDS:
        return False
    if tok.isdigit():
        return len(tok) >= 2
    if CJK_RE.match(tok):
        return True
    return len(tok) >= 2


def content_words(text: str) -> list[str]:
    """Stemmed content tokens (stopwords and one-letter tokens removed)."""
    return [stem(t) for t in tokenize(text) if is_content_token(t)]


def estimate_tokens(text: str) -> int:
    """Rough token count for prompt budgeting (errs on the high side).

    ~4 characters per token for alphabetic text, ~1 token per CJK character."""
    if not text:
        return 0
    cjk = len(CJK_RE.findall(text))
    other = len(text) - cjk
    return cjk + math.ceil(other / 3.6)


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """Cut ``text`` so that ``estimate_tokens`` fits ``max_tokens``.

    Prefers to cut after a sentence end, else at a word boundary; appends "…"
    when something was removed."""
    if max_tokens <= 0:
        return ""
    if estimate_tokens(text) <= max_tokens:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # binary search the longest prefix that fits (minus the ellipsis)
        mid = (lo + hi + 1) // 2
        if estimate_tokens(text[:mid]) + 1 <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    best = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("? "), cut.rfind("! "))
    if best >= len(cut) * 0.6:
        cut = cut[: best + 1]
    else:
        sp = cut.rfind(" ")
        if sp > len(cut) * 0.5:
            cut = cut[:sp]
    return cut.rstrip() + "…"
