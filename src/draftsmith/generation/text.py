"""Text utilities for generation: Markdown-aware sentence splitting, keyword
and key-phrase extraction, and token estimation.

Everything works on offsets into the original text, so a sentence found here
can be cited verbatim (``text[span.start:span.end]``).

Language handling: English gets a stopword list and light suffix stripping;
other alphabetic languages fall back to "words of three or more letters";
CJK text (no spaces) is tokenised into overlapping character bigrams.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# --------------------------------------------------------------------------
# stopwords and tokens

STOPWORDS: frozenset[str] = frozenset(
    """
a about above across after afterwards again against all almost alone along already also although always am among
amongst an and another any anyhow anyone anything anyway anywhere are aren't around as at be became because become
becomes becoming been before beforehand behind being below beside besides between beyond both but by can cannot
can't could couldn't did didn't do does doesn't doing don't done down due during each either else elsewhere enough
even ever every everyone everything everywhere except few for former formerly from further had hadn't has hasn't
have haven't having he he'd he'll he's hence her here hereafter hereby herein here's hers herself him himself his
how however how's i i'd i'll i'm i've ie eg if in indeed instead into is isn't it it's its itself just last latter
latterly least less let's like likely made make makes making many may maybe me meanwhile might mine more moreover
most mostly much must mustn't my myself namely neither never nevertheless next no nobody none nor not nothing now
nowhere of off often on once one only onto or other others otherwise ought our ours ourselves out over own per
perhaps please put quite rather re really same several shall shan't she she'd she'll she's should shouldn't since
so some somehow someone something sometime sometimes somewhere still such than that that's the their theirs them
themselves then thence there thereafter thereby therefore therein there's thereupon these they they'd they'll
they're they've this those though through throughout thru thus to together too toward towards under until up upon
us use used uses using very via was wasn't we we'd we'll we're we've well were weren't what whatever what's when
whence whenever when's where whereafter whereas whereby wherein where's whereupon wherever whether which while
whither who whoever whole whom whose who's why why's will with within without won't would wouldn't yet you you'd
you'll your you're yours yourself yourselves you've also get gets got go goes going new way ways thing things
able across want wants need needs see seen one two three first second third many much lot lots etc vs via
""".split()
)

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uac00-\ud7af"  # hangul syllables
)
_CJK_RE = re.compile(f"[{_CJK}]")
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[^\W_]+(?:['’][^\W\d_]+)?", re.UNICODE)


_STEM_CACHE: dict[str, str] = {}


def stem(word: str) -> str:
    """Cached :func:`_stem`."""
    r = _STEM_CACHE.get(word)
    if r is None:
        r = _stem(word)
        if len(_STEM_CACHE) < 500_000:
            _STEM_CACHE[word] = r
    return r


def _stem(word: str) -> str:
    """Very light, deterministic English suffix stripping (plural, -ing, -ed, -ly).

    Good enough to match "retrieval"/"retrieve" style variants loosely and to
    match plurals exactly; harmless for other languages (only long words
    ending in these suffixes are touched)."""
    w = word
    if len(w) <= 3 or not w.isascii():
        return w
    for suf, rep in (
        ("ational", "ate"),
        ("ization", "ize"),
        ("ations", "ate"),
        ("ation", "ate"),
        ("ness", ""),
        ("ments", "ment"),
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
        ("es", "e"),
        ("s", ""),
    ):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            if suf == "s" and w.endswith(("ss", "us", "is")):
                return w
            return w[: len(w) - len(suf)] + rep
    return w


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; CJK runs become overlapping character bigrams."""
    out: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        tok = m.group(0)
        if _CJK_RE.match(tok):
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
    if _CJK_RE.match(tok):
        return True
    return len(tok) >= 2


def content_words(text: str) -> list[str]:
    """Stemmed content tokens (stopwords and one-letter tokens removed)."""
    return [stem(t) for t in tokenize(text) if is_content_token(t)]


def keywords(text: str, k: int = 10) -> list[str]:
    """The k most frequent content words of ``text`` (unstemmed surface forms, deterministic)."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, t in enumerate(tokenize(text)):
        if is_content_token(t) and not t.isdigit():
            counts[t] += 1
            first.setdefault(t, i)
    ranked = sorted(counts, key=lambda t: (-counts[t], first[t]))
    return ranked[:k]


# --------------------------------------------------------------------------
# token estimation


def estimate_tokens(text: str) -> int:
    """Rough token count for prompt budgeting (errs on the high side).

    ~4 characters per token for alphabetic text, ~1 token per CJK character."""
    if not text:
        return 0
    cjk = len(_CJK_RE.findall(text))
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


# --------------------------------------------------------------------------
# Markdown blocks


@dataclass(frozen=True, slots=True)
class Block:
    start: int
    end: int
    kind: str  # "prose" | "list" | "heading" | "code" | "table" | "other"


_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_SETEXT_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HR_RE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_LIST_RE = re.compile(r"^\s*(?:[-*+•▪‣◦●]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+")
_TABLE_RE = re.compile(r"^\s*\||\|.*\|")
_OTHER_RE = re.compile(
    r"^\s*(?:>|<[A-Za-z/!][^>]*>\s*$|!\[|\?\?\?|!!!|:::|\{[\w-]+\}|:[\w-]+:|\.\. |\[[^\]]+\]:\s|\$\$|\\\[)"
)


def markdown_blocks(text: str) -> list[Block]:
    """Classify the lines of ``text`` into blocks.

    Prose blocks are runs of consecutive prose lines (a blank line or any
    non-prose line ends them). List items (with their continuation lines) are
    "list" blocks; headings, code, tables, quotes, HTML, images and directives
    are never prose."""
    blocks: list[Block] = []
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        lines.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    kinds: list[str] = []
    in_fence = False
    fence = ""
    prev_kind = "blank"
    for s, e in lines:
        line = text[s:e]
        stripped = line.strip()
        if in_fence:
            kinds.append("code")
            m = _FENCE_RE.match(line)
            if m and m.group(1) == fence:
                in_fence = False
            continue
        m = _FENCE_RE.match(line)
        if m:
            in_fence, fence = True, m.group(1)
            kinds.append("code")
            prev_kind = "code"
            continue
        if not stripped:
            kind = "blank"
        elif _HEADING_RE.match(line):
            kind = "heading"
        elif _SETEXT_RE.match(line) and prev_kind == "prose" and kinds and kinds[-1] == "prose":
            kind = "heading"
            kinds[-1] = "heading"  # the line above is a setext heading
        elif _HR_RE.match(line):
            kind = "other"
        elif _TABLE_RE.match(line):
            kind = "table"
        elif _OTHER_RE.match(line):
            kind = "other"
        elif _LIST_RE.match(line):
            kind = "list_start"
        elif prev_kind in ("list_start", "list"):
            kind = "list"  # continuation (indented or lazy) of a list item
        else:
            kind = "prose"
        kinds.append(kind)
        prev_kind = kind
    # group
    i = 0
    n = len(lines)
    while i < n:
        kind = kinds[i]
        if kind == "blank":
            i += 1
            continue
        j = i + 1
        if kind == "prose":
            while j < n and kinds[j] == "prose":
                j += 1
        elif kind == "list_start":
            while j < n and kinds[j] == "list":
                j += 1
            kind = "list"
        else:
            while j < n and kinds[j] == kind:
                j += 1
        blocks.append(Block(lines[i][0], lines[j - 1][1], kind))
        i = j
    return blocks


# --------------------------------------------------------------------------
# sentences


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str  # verbatim text[start:end]
    kind: str  # "prose" | "list"


ABBREVIATIONS: frozenset[str] = frozenset(
    """
mr mrs ms dr prof sr jr st mt vs v e.g i.e eg ie cf fig figs eq eqs no nos vol vols pp p al approx
ca resp sec secs ch chap ref refs dept est min max viz u.s u.k u.s.a e.u ph.d jan feb mar apr jun jul
aug sep sept oct nov dec corp ltd co op ed eds rev gen col lt sgt capt cmdr inc art para paras ibid
""".split()
)
_TERM_RE = re.compile(r"(?:[.!?…]+|[。！？]+)[\"'”’)\]»」』）]*")
_WORD_BEFORE_RE = re.compile(r"([\w.]+)$")


def _is_boundary(text: str, term_start: int, end: int, block_end: int) -> bool:
    term = text[term_start:end]
    if term[0] in "。！？":
        return True
    nxt = end
    while nxt < block_end and text[nxt] in " \t\r\n":
        nxt += 1
    if nxt >= block_end:
        return True
    if nxt == end:  # no whitespace after the terminator: "3.14", "e.g.x", "file.txt"
        return False
    ch = text[nxt]
    if ch.isalpha() and ch.islower():
        return False
    if not (ch.isalpha() or ch.isdigit() or ch in "\"'“‘([*_`¿¡«"):
        return False
    if term.startswith(".") and not term.startswith(".."):
        m = _WORD_BEFORE_RE.search(text, max(0, term_start - 40), term_start)
        if m:
            word = m.group(1).lower().strip(".")
            if word in ABBREVIATIONS:
                if word in (
                    "no",
                    "nos",
                    "p",
                    "pp",
                    "fig",
                    "figs",
                    "eq",
                    "eqs",
                    "vol",
                    "sec",
                    "ch",
                    "ref",
                    "art",
                    "para",
                ):
                    return not ch.isdigit() and word not in (
                        "fig",
                        "figs",
                        "eq",
                        "eqs",
                        "ref",
                        "refs",
                    )
                return False
            raw = m.group(1)
            if len(raw) == 1 and raw.isupper():  # initial: "J. Smith"
                return False
            if "." in raw.strip(".") and all(
                len(p) <= 2 for p in raw.strip(".").split(".")
            ):  # "U.S.", "e.g."
                return False
    return True


#: Words that do not end a heading (a line ending in one is wrapped prose).
FUNCTION_WORDS: frozenset[str] = STOPWORDS | frozenset(
    """
der die das den dem des ein eine einen einem einer eines und oder aber von vom zu zum zur mit für auf aus bei
nach im an am ist sind wird werden wurde als wie dass sich nicht auch
le la les un une des du de et ou à au aux en pour par avec sur dans est sont que qui ne pas
el los las unos unas y o del con por para es son se lo
il gli di da e per che è
""".split()
)
_CAPTION_LINE_RE = re.compile(
    r"^(?:Figure|Fig\.|Table|Tab\.|Abbildung|Abb\.|Tabelle|Listing|Algorithm|Chart|Exhibit)\s*\d+[.:]",
    re.IGNORECASE,
)
_NUMBERED_LINE_RE = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.|[A-Z]\.)\s+[^\W\d_]")


def looks_like_heading_line(line: str) -> bool:
    """True if one line of extracted (e.g. PDF) text is a heading, caption or other
    stand-alone line rather than a piece of wrapped prose.

    Headings: numbered ("2 Basic Idea", "3.1 Overview"), captions ("Table 1: ..."),
    lines without letters (page numbers), up to three words starting with a capitalised
    content word ("Basic patterns"), or Title Case lines of up to ten words. A line that starts in lower case, ends in
    a function word ("an", "the", "und") or with a comma is wrapped prose."""
    s = line.strip()
    if not s or len(s) > 120:
        return False
    if _CAPTION_LINE_RE.match(s):
        return True
    if not any(ch.isalpha() for ch in s):
        return True
    words = s.split()
    if len(words) > 10:
        return False
    first = next((ch for ch in s if ch.isalnum()), "")
    if first.islower():
        return False
    if s[-1] in ",;-–—(/&+":
        return False
    last = re.sub(r"^\W+|\W+$", "", words[-1]).lower()
    if last in FUNCTION_WORDS:
        return False
    if _NUMBERED_LINE_RE.match(s):
        return len(words) >= 2
    if "," in s:
        return False
    if (
        len(words) <= 3
        and len(s) <= 40
        and first.isupper()
        and not any(ch.isdigit() for ch in s)
        and re.sub(r"^\W+|\W+$", "", words[0]).lower() not in FUNCTION_WORDS
    ):
        return True
    sig = [
        w
        for w in (re.sub(r"^\W+|\W+$", "", w) for w in words)
        if w and w[0].isalpha() and (len(w) > 3 or w.isupper()) and w.lower() not in FUNCTION_WORDS
    ]
    return bool(sig) and all(w[0].isupper() for w in sig)


def split_sentences_in(
    text: str, start: int, end: int, kind: str = "prose", *, join_wrapped_lines: bool = False
) -> list[Sentence]:
    """Sentence spans inside ``text[start:end]`` (one prose block or list item).

    By default a short line without final punctuation followed by a capitalised line
    ends a sentence (a heading/caption line of a PDF page). With ``join_wrapped_lines``
    only a line that :func:`looks_like_heading_line` (or the line before a caption)
    does: a sentence wrapped over narrow columns ("... create all feasible\nIE systems
    in advance ...") stays one sentence."""
    out: list[Sentence] = []
    line_spans: list[tuple[int, int]] = []
    pos = start
    for line in text[start:end].split("\n"):
        line_spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    segments: list[tuple[int, int]] = []
    if len(line_spans) > 1:
        maxlen = max(len(text[s:e].strip()) for s, e in line_spans)
        seg_start = start
        for (s, e), (ns, ne) in zip(line_spans, line_spans[1:], strict=False):
            line = text[s:e].strip()
            nxt = text[ns:ne].lstrip()
            if not (line and nxt):
                continue
            if join_wrapped_lines:
                hard = (
                    line[-1] not in ".,;:!?-–—(\"'“”’)]。！？"
                    and (nxt[0].isupper() or nxt[0].isdigit())
                    and looks_like_heading_line(line)
                ) or bool(_CAPTION_LINE_RE.match(nxt))
            else:
                hard = (
                    line[-1] not in ".,;:!?-–—(\"'“”’)]。！？"
                    and (nxt[0].isupper() or nxt[0].isdigit())
                    and len(line) < 0.6 * maxlen
                )
            if hard:
                segments.append((seg_start, e))
                seg_start = ns
        segments.append((seg_start, end))
    else:
        segments = [(start, end)]
    for seg_s, seg_e in segments:
        cur = seg_s
        for m in _TERM_RE.finditer(text, seg_s, seg_e):
            if _is_boundary(text, m.start(), m.end(), seg_e):
                _emit(text, cur, m.end(), kind, out)
                cur = m.end()
        _emit(text, cur, seg_e, kind, out)
    return out


def _emit(text: str, s: int, e: int, kind: str, out: list[Sentence]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append(Sentence(s, e, text[s:e], kind))


_LIST_MARK_RE = re.compile(r"\s*(?:[-*+•▪‣◦●]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+")


def list_items(text: str, block: Block) -> list[tuple[int, int]]:
    """(start, end) of the items of a "list" block, without their markers."""
    item_starts = [
        m.start() + block.start
        for m in re.finditer(
            r"(?m)^\s*(?:[-*+•▪‣◦●]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+",
            text[block.start : block.end],
        )
    ]
    item_starts.append(block.end)
    out: list[tuple[int, int]] = []
    for s, e in zip(item_starts, item_starts[1:], strict=False):
        m = _LIST_MARK_RE.match(text, s, e)
        out.append((m.end() if m else s, e))
    return out


def split_sentences(
    text: str, include_lists: bool = False, *, join_wrapped_lines: bool = False
) -> list[Sentence]:
    """Sentences of the prose in Markdown ``text``.

    Headings, code, tables, quotes, HTML and directives are skipped. List items
    are skipped unless ``include_lists`` (then their marker is not part of the
    sentence and ``kind == "list"``). ``join_wrapped_lines``: see
    :func:`split_sentences_in`."""
    out: list[Sentence] = []
    for b in markdown_blocks(text):
        if b.kind == "prose":
            out.extend(
                split_sentences_in(
                    text, b.start, b.end, "prose", join_wrapped_lines=join_wrapped_lines
                )
            )
        elif b.kind == "list" and include_lists:
            for s, e in list_items(text, b):
                out.extend(
                    split_sentences_in(text, s, e, "list", join_wrapped_lines=join_wrapped_lines)
                )
    return out


# --------------------------------------------------------------------------
# display helpers

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
    cjk = len(_CJK_RE.findall(text))
    words = len(re.findall(r"[^\W_]+(?:[-'’.][^\W_]+)*", _CJK_RE.sub(" ", text)))
    return words + cjk // 2


# --------------------------------------------------------------------------
# key phrases

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
