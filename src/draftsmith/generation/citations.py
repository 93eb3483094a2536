"""Citation markers, the Sources list, verification and grounding.

Markers in the draft body are ``[n]`` (several sources: ``[1][3]``). While an
engine writes, it numbers sources provisionally with a :class:`SourceRegistry`;
:func:`finalize` then renumbers by first appearance, picks a verbatim quote
per source and renders the ``## Sources`` list. :func:`verify` checks a
finished (or user-edited) draft's markers and quotes against the passages
(sentence grounding is ``grounding.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from draftsmith.text.blocks import markdown_blocks
from draftsmith.text.markdown import escape_inline, strip_control_chars
from draftsmith.text.sentences import split_sentences, split_sentences_in
from draftsmith.text.tokens import content_words
from draftsmith.text.words import normalize_whitespace, word_count

from .errors import GenerationError
from .types import Citation, Grounding, Passage

#: ``[3]``, ``[1, 2]``, ``[1-3]``; not a link (``[1](...)``) or a reference definition (``[1]:``).
MARKER_RE = re.compile(r"\[(\d{1,4}(?:\s*(?:,|;|-|–)\s*\d{1,4})*)\](?![(:])")
SOURCES_HEADING = "Sources"
_SOURCES_RE = re.compile(r"(?m)^#{1,6}\s+(Sources|References)\s*$")
#: a quote of several sentences stays under this; one longer sentence is still quoted whole
MAX_QUOTE_CHARS = 600


def parse_marker(body: str) -> list[int]:
    """``"1, 3-4"`` -> ``[1, 3, 4]`` (ranges capped at 20 numbers)."""
    nums: list[int] = []
    for part in re.split(r"\s*[,;]\s*", body):
        m = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a <= b and b - a <= 20:
                nums.extend(range(a, b + 1))
            continue
        if part.isdigit():
            nums.append(int(part))
    out: list[int] = []
    for n in nums:
        if n not in out:
            out.append(n)
    return out


_INLINE_CODE_RE = re.compile(r"`[^`\n]*`")


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Fenced code blocks and inline code of ``text``: ``tm[4]`` there is no citation."""
    if "`" not in text and "~~~" not in text:
        return []
    spans = [(b.start, b.end) for b in markdown_blocks(text) if b.kind == "code"]
    spans += [m.span() for m in _INLINE_CODE_RE.finditer(text)]
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _outside_code(text: str, edit) -> str:
    """``edit`` applied to the text between code spans, code left as it is."""
    out: list[str] = []
    pos = 0
    for s, e in _code_spans(text):
        out += [edit(text[pos:s]), text[s:e]]
        pos = e
    return "".join(out) + edit(text[pos:])


def markers_in(text: str) -> list[int]:
    """All citation numbers in ``text``, in order of appearance, without repeats (code
    spans aside)."""
    out: list[int] = []
    for s, e in _code_spans(text):
        text = text[:s] + " " * (e - s) + text[e:]
    for m in MARKER_RE.finditer(text):
        for n in parse_marker(m.group(1)):
            if n not in out:
                out.append(n)
    return out


def rewrite_markers(text: str, mapping: Mapping[int, int | None]) -> str:
    """Replace each marker number via ``mapping`` (missing or None: removed).

    Output markers are in the canonical form ``[a][b]``; a removed marker
    leaves no stray space before punctuation. Code spans are left as they are."""
    return _outside_code(text, lambda part: _rewrite_markers(part, mapping))


def _rewrite_markers(text: str, mapping: Mapping[int, int | None]) -> str:

    def sub(m: re.Match[str]) -> str:
        new: list[int] = []
        for n in parse_marker(m.group(1)):
            t = mapping.get(n)
            if t is not None and t not in new:
                new.append(t)
        return "".join(f"[{n}]" for n in new)

    out = MARKER_RE.sub(sub, text)
    out = re.sub(r"(\])\s*\[(?=\d)", r"\1[", out)  # "[1] [2]" -> "[1][2]"
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out)  # "claim [gone]." -> "claim."
    return re.sub(r"[ \t]{2,}", " ", out)


def strip_markers(text: str) -> str:
    """``text`` without ``[n]`` markers (and without the space they leave before punctuation)."""
    out = MARKER_RE.sub("", text)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out)
    return re.sub(r"[ \t]{2,}", " ", out).strip()


# --------------------------------------------------------------------------
# provisional numbering while writing


class SourceRegistry:
    """Provisional citation numbers, one per passage (keyed by ``chunk_id``).

    ``prefer_quote(n, start, end)`` records a span (offsets inside the
    passage text) to use as that source's quote, e.g. a sentence the extractive
    engine copied; several spans of one source make one quote covering them all."""

    def __init__(self) -> None:
        self._by_chunk: dict[str, int] = {}
        self.passages: dict[int, Passage] = {}
        self.preferred: dict[int, tuple[int, int]] = {}

    def add(self, passage: Passage) -> int:
        n = self._by_chunk.get(passage.chunk_id)
        if n is None:
            n = len(self._by_chunk) + 1
            self._by_chunk[passage.chunk_id] = n
            self.passages[n] = passage
        return n

    def prefer_quote(self, n: int, start: int, end: int) -> None:
        s, e = self.preferred.get(n, (start, end))
        self.preferred[n] = (min(s, start), max(e, end))

    def __len__(self) -> int:
        return len(self._by_chunk)


# --------------------------------------------------------------------------
# quotes


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences (and list items) of ``text``; its trimmed whole if none."""
    sents = split_sentences(text, include_lists=True) or split_sentences_in(text, 0, len(text))
    if sents:
        return [(sent.start, sent.end) for sent in sents]
    s, e = 0, len(text)
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return [(s, e)] if e > s else []


def _clip_quote(text: str, s: int, e: int, claim_words: set[str]) -> tuple[int, int]:
    """The whole sentences of ``text`` that ``text[s:e]`` touches, never cut mid-sentence.

    Longer than MAX_QUOTE_CHARS, they shrink to the run of consecutive sentences
    (at most MAX_QUOTE_CHARS, at least one sentence) sharing most words with the claim."""
    spans = [sp for sp in _sentence_spans(text) if min(e, sp[1]) > max(s, sp[0])]
    if not spans:
        return s, e
    if spans[-1][1] - spans[0][0] <= MAX_QUOTE_CHARS:
        return spans[0][0], spans[-1][1]
    best, best_score = (spans[0][0], spans[0][1]), -1.0
    for i, (first, _) in enumerate(spans):
        j = i
        while j + 1 < len(spans) and spans[j + 1][1] - first <= MAX_QUOTE_CHARS:
            j += 1
        words = set(content_words(text[first : spans[j][1]]))
        score = len(words & claim_words) - 0.001 * i
        if score > best_score:
            best, best_score = (first, spans[j][1]), score
    return best


def best_quote(passage: Passage, claim: str = "") -> tuple[int, int]:
    """Offsets (inside ``passage.text``) of the passage sentence that best
    supports ``claim`` (content-word overlap); the first sentence if no claim."""
    text = passage.text
    spans = _sentence_spans(text)
    if not spans:
        return 0, len(text)
    claim_words = set(content_words(claim))
    best = spans[0]
    if claim_words:
        best_score = -1.0
        for sp in spans:
            words = set(content_words(text[sp[0] : sp[1]]))
            if not words:
                continue
            overlap = len(words & claim_words)
            score = overlap + 0.1 * overlap / len(words)
            if score > best_score:
                best, best_score = sp, score
    return _clip_quote(text, best[0], best[1], claim_words)


def claims_by_number(body: str) -> dict[int, str]:
    """Text of the sentences citing each number (used to pick quotes)."""
    claims: dict[int, list[str]] = {}
    for sent, nums in _cited_sentences(body):
        for n in nums:
            claims.setdefault(n, []).append(sent)
    return {n: " ".join(v) for n, v in claims.items()}


# --------------------------------------------------------------------------
# finalize: renumber, quotes, Sources


def finalize(body: str, registry: SourceRegistry) -> tuple[str, list[Citation]]:
    """Renumber the provisional markers of ``body`` 1..N by first appearance
    (unknown numbers are removed) and build one :class:`Citation` per number."""
    order = [n for n in markers_in(body) if n in registry.passages]
    mapping: dict[int, int | None] = {old: i + 1 for i, old in enumerate(order)}
    claims = claims_by_number(body)
    new_body = rewrite_markers(body, mapping)
    citations = [
        cite(
            mapping[old] or 0,
            registry.passages[old],
            registry.preferred.get(old),
            claims.get(old, ""),
        )
        for old in order
    ]
    return new_body, citations


def cite(n: int, p: Passage, preferred: tuple[int, int] | None, claim: str) -> Citation:
    """Citation ``n`` of passage ``p``: its quote the whole sentences of the ``preferred``
    span (offsets in ``p.text``), else the sentence that best supports ``claim``."""
    if preferred is not None:
        s, e = _clip_quote(p.text, preferred[0], preferred[1], set(content_words(claim)))
    else:
        s, e = best_quote(p, claim)
    return Citation(
        n=n,
        document_id=p.document_id,
        document_name=p.document_name,
        page=p.page,
        chunk_id=p.chunk_id,
        start=p.start + s,
        end=p.start + e,
        quote=p.text[s:e],
        page_label=p.page_label or (None if p.page is None else str(p.page)),
        section=p.section or p.heading,
    )


def citation_value(obj: Any, key: str) -> Any:
    """``obj[key]`` for a citation dict, ``obj.key`` for a Citation object."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def citation_location(c: Any) -> str:
    """Where a citation (:class:`Citation` or dict) points: ``"p. iv, Install › Linux"``.

    The page label, else the page number (citations stored before labels), then the
    section path; "" when neither is known."""
    parts: list[str] = []
    label = citation_value(c, "page_label")
    page = citation_value(c, "page")
    if isinstance(label, str) and label.strip():
        parts.append(f"p. {label.strip()}")
    elif isinstance(page, int) and not isinstance(page, bool):
        parts.append(f"p. {page}")
    section = citation_value(c, "section")
    if isinstance(section, str) and section.strip():
        parts.append(section.strip())
    return ", ".join(parts)


def _source_text(value: Any) -> str:
    return escape_inline(strip_control_chars(normalize_whitespace(str(value))))


def render_sources(citations: Iterable[Any] | None) -> str:
    """The ``## Sources`` section of a draft and of every export, one line per
    citation (:class:`Citation` or dict): ``- [n] name, p. iv, Install › Linux — “quote”``,
    by number. Names and quotes are escaped so they render as written. "" if none is usable."""
    rows: dict[int, str] = {}
    for c in citations or ():
        n = citation_value(c, "n")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1 or n in rows:
            continue
        line = f"- [{n}] " + _source_text(citation_value(c, "document_name") or "Source")
        location = citation_location(c)
        if location:
            line += ", " + _source_text(location)
        quote = citation_value(c, "quote")
        if quote:
            line += f" — “{_source_text(quote)}”"
        rows[n] = line
    if not rows:
        return ""
    return f"## {SOURCES_HEADING}\n\n" + "\n".join(rows[n] for n in sorted(rows)) + "\n"


def assemble_markdown(title: str, body: str, citations: Sequence[Citation]) -> str:
    """``# title``, the body, and the Sources list."""
    parts = [f"# {title.strip()}", body.strip()]
    if citations:
        parts.append(render_sources(citations).strip())
    return "\n\n".join(p for p in parts if p) + "\n"


def split_body(markdown: str) -> tuple[str, str]:
    """(body, sources-section) of a draft; the body still has its title line."""
    matches = list(_SOURCES_RE.finditer(markdown))
    if not matches:
        return markdown, ""
    m = matches[-1]
    return markdown[: m.start()], markdown[m.start() :]


def draft_word_count(markdown: str) -> int:
    """The words of a draft as the API, the CLI and the editor (``wordcount.js``)
    show them: the text before its Sources list, without citation markers."""
    body, _ = split_body(markdown)
    return word_count(MARKER_RE.sub(" ", body))


# --------------------------------------------------------------------------
# verification and grounding


def _body_paragraphs(body: str) -> list[str]:
    """Prose and list blocks of the body (title, headings, code, tables excluded)."""
    return [body[b.start : b.end] for b in markdown_blocks(body) if b.kind in ("prose", "list")]


def _cited_sentences(body: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, numbers that support it) for every body sentence.

    A sentence without its own marker borrows those of the next cited sentence
    in its paragraph (else the previous one): "A is B. It does C [1]." cites [1]
    for both sentences. A marker standing alone after a sentence ("… end. [2]")
    belongs to the sentence before it."""
    out: list[tuple[str, list[int]]] = []
    for para in _body_paragraphs(body):
        sents = split_sentences(para, include_lists=True)
        items: list[tuple[str, list[int]]] = []
        for s in sents:
            nums = markers_in(s.text)
            clean = strip_markers(s.text)
            if not re.search(r"\w", MARKER_RE.sub("", s.text)):
                if items:  # lone marker: attach to previous sentence
                    prev_text, prev_nums = items[-1]
                    items[-1] = (prev_text, prev_nums + [n for n in nums if n not in prev_nums])
                continue
            items.append((normalize_whitespace(clean), nums))
        for i, (text, nums) in enumerate(items):
            if not nums:
                later = next((n for _, n in items[i + 1 :] if n), None)
                earlier = next((n for _, n in reversed(items[:i]) if n), None)
                nums = list(later or earlier or [])
            out.append((text, nums))
    return out


@dataclass
class Verification:
    """Result of :func:`verify`.

    ``markdown`` and ``citations`` are the repaired versions (unknown markers
    removed, quotes and offsets fixed where possible). ``problems`` are human
    sentences; ``ok`` means there were none."""

    markdown: str
    citations: list[Citation]
    grounding: Grounding | None = None  # set by draft.finish_draft (grounding.py)
    unknown_markers: list[int] = field(default_factory=list)
    uncited_paragraphs: list[str] = field(default_factory=list)
    bad_quotes: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    draft_markdown: str,
    citations: Sequence[Citation],
    passages: Sequence[Passage] | Mapping[str, Passage],
    *,
    strict: bool = False,
    document_texts: Mapping[str, str] | None = None,
) -> Verification:
    """Check a draft against its sources.

    - every ``[n]`` in the body must be one of ``citations``: unknown markers
      are removed (or, with ``strict``, a :class:`GenerationError` is raised);
    - every citation's ``quote`` must occur verbatim in its passage text (and,
      if ``document_texts`` maps document ids to their Markdown, at
      ``[start, end)`` of the document). A quote that is not verbatim is
      replaced by the passage's best supporting sentence and reported;
    - every body paragraph must carry at least one citation (reported).

    The Sources list is re-rendered from the repaired citations."""
    by_chunk: dict[str, Passage] = (
        dict(passages) if isinstance(passages, Mapping) else {p.chunk_id: p for p in passages}
    )
    body, _ = split_body(draft_markdown)
    problems: list[str] = []
    body, unknown = _drop_unknown_markers(body, citations, problems, strict)
    fixed, bad_quotes = _repair_quotes(
        citations, by_chunk, claims_by_number(body), document_texts, problems, strict
    )
    uncited = _uncited_paragraphs(body)
    if uncited:
        problems.append(f"{len(uncited)} paragraph(s) cite no source.")
        if strict:
            raise GenerationError(problems[-1], code="uncited_paragraph")

    used_after = set(markers_in(body))
    final_citations = [c for c in fixed if c.n in used_after]
    markdown = (
        body.rstrip() + "\n\n" + render_sources(final_citations)
        if final_citations
        else body.rstrip() + "\n"
    )
    return Verification(
        markdown=markdown,
        citations=final_citations,
        unknown_markers=unknown,
        uncited_paragraphs=uncited,
        bad_quotes=bad_quotes,
        problems=problems,
    )


def _drop_unknown_markers(
    body: str, citations: Sequence[Citation], problems: list[str], strict: bool
) -> tuple[str, list[int]]:
    """The body without markers that name no citation, and those numbers (reported)."""
    known = {c.n for c in citations}
    unknown = [n for n in markers_in(body) if n not in known]
    if unknown:
        problems.append(
            f"The draft cites unknown source numbers: {', '.join(f'[{n}]' for n in unknown)}."
        )
        if strict:
            raise GenerationError(problems[-1], code="unknown_citation")
        body = rewrite_markers(body, {n: n for n in known})
    return body, unknown


def _repair_quotes(
    citations: Sequence[Citation],
    by_chunk: Mapping[str, Passage],
    claims: Mapping[int, str],
    document_texts: Mapping[str, str] | None,
    problems: list[str],
    strict: bool,
) -> tuple[list[Citation], list[int]]:
    """Citations with verbatim quotes at the right offsets, and the numbers that needed a repair.

    A quote found in its passage at other offsets is moved; one not found (or,
    given ``document_texts``, not at its offsets in the document) is replaced
    by the passage's best sentence for the claim it supports."""
    fixed: list[Citation] = []
    bad_quotes: list[int] = []
    for c in citations:
        p = by_chunk.get(c.chunk_id)
        if p is None:
            problems.append(
                f"Source [{c.n}] refers to a passage that is not available ({c.document_name})."
            )
            bad_quotes.append(c.n)
            fixed.append(c)
            continue
        ok = bool(c.quote) and c.quote in p.text
        if ok:
            c = _at_quote_offsets(c, p)
            if document_texts is not None and c.document_id in document_texts:
                if document_texts[c.document_id][c.start : c.end] != c.quote:
                    ok = False
        if not ok:
            bad_quotes.append(c.n)
            problems.append(
                f"The quote of source [{c.n}] does not occur verbatim in {c.document_name}."
            )
            if strict:
                raise GenerationError(problems[-1], code="bad_quote")
            s, e = best_quote(p, claims.get(c.n, ""))
            c = replace(c, start=p.start + s, end=p.start + e, quote=p.text[s:e])
        fixed.append(c)
    return fixed, bad_quotes


def _at_quote_offsets(c: Citation, p: Passage) -> Citation:
    """``c`` with start/end moved to its quote's first occurrence in ``p`` if they miss it."""
    rel = c.start - p.start
    if p.text[rel : rel + len(c.quote)] != c.quote or c.end - c.start != len(c.quote):
        rel = p.text.find(c.quote)
        c = replace(c, start=p.start + rel, end=p.start + rel + len(c.quote))
    return c


def _uncited_paragraphs(body: str) -> list[str]:
    """Body paragraphs (after the title) that carry no marker, whitespace-normalised."""
    title_stripped = re.sub(r"(?m)\A\s*#\s+[^\n]*\n", "", body, count=1)
    return [
        normalize_whitespace(para)
        for para in _body_paragraphs(title_stripped)
        if not markers_in(para)
    ]
