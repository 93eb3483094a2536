"""Sentence splitting on offsets into the original text, so a sentence can be
quoted verbatim (``text[s.start:s.end]``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .blocks import Block, markdown_blocks
from .tokens import STOPWORDS


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str  # verbatim text[start:end]
    kind: str  # "prose" | "list"


#: The one abbreviation list: a period after one of these does not end a sentence.
#: ("etc"/"usw" are not in it: they often do.)
ABBREVIATIONS: frozenset[str] = frozenset(
    """
mr mrs ms dr prof sr jr st mt vs v e.g i.e eg ie cf fig figs eq eqs no nos vol vols pp p al approx
ca resp sec secs ch chap ref refs dept est min max viz u.s u.k u.s.a e.u ph.d jan feb mar apr jun
jul aug sep sept oct nov dec corp ltd co op ed eds rev gen col lt sgt capt cmdr inc art para paras
ibid bros nr bzgl bzw vgl ggf evtl inkl sog z.b d.h u.a s.o s.u
""".split()
)
# Abbreviations after which a quoted sentence cannot have ended: a candidate sentence
# that stops on one was cut mid-way ("etc." and "usw." may end a sentence, so they
# are not in ABBREVIATIONS, but an extract that stops on them is still a fragment).
CUT_OFF_ABBREVIATIONS: frozenset[str] = frozenset(
    """bzgl bzw vgl usw ggf evtl inkl sog ca etc z.b d.h u.a s.o s.u e.g i.e cf vs al fig eq
    no nr bros inc corp ltd co approx resp dr prof mr mrs ms st""".split()
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
der die das den dem des ein eine einen einem einer eines und oder aber von vom zu zum zur mit für
auf aus bei nach im an am ist sind wird werden wurde als wie dass sich nicht auch
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
    content word ("Basic patterns"), or Title Case lines of up to ten words. A line that
    starts in lower case, ends in a function word ("an", "the", "und") or with a comma is
    wrapped prose."""
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
