"""Grounding of a draft, sentence by sentence, against the passages it cites.

Every body sentence (prose and list items; the title, headings, code, tables and
the Sources list are not sentences) is checked:

- ``unknown_citation``: it cites a number that is not one of the draft's sources;
- ``unsupported``: the passages it cites don't support it (:func:`support.assess`), or
  they contradict each other on a number it states (:mod:`.disagreement`; the detail
  says the sources disagree);
- ``uncited``: it makes a claim and neither it nor its paragraph cites anything.

A sentence without its own marker borrows those of the next cited sentence in its
paragraph (else the previous one): "A is B. It does C [1]." checks both against [1].
Framing sentences are not checked: those that name only the draft's own title and
headings ("This post looks at X: A, B and C.", "To recap, this post covered A and
B.") and the extractive engine's templates. ``score`` is the share of checked
sentences that were not flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from draftsmith.text.blocks import markdown_blocks
from draftsmith.text.sentences import Sentence, list_items, split_sentences_in
from draftsmith.text.words import normalize_whitespace

from .citations import MARKER_RE, markers_in, split_body, strip_markers
from .disagreement import disagreement
from .support import Support, assess, content_words
from .types import FlaggedSentence, Grounding

#: words a framing sentence may use besides the draft's title and headings
FRAMING_WORDS = frozenset(
    content_words(
        "post article guide look looks cover covers covered recap summary overview explain "
        "explains introduce introduces discuss discusses section sections topic conclusion "
        "learn walk through start begin close finally next part"
    )
)
REASONS = ("unknown_citation", "unsupported", "uncited")


@dataclass(frozen=True, slots=True)
class Checked:
    """One checked sentence: ``markdown[start:end]``, the numbers it cites (its own
    or borrowed), and the verdict (``reason`` None when it passed)."""

    sentence: str
    start: int
    end: int
    citations: list[int]
    reason: str | None
    support: Support | None = None
    #: why the cited sources contradict each other (then ``reason`` is "unsupported")
    conflict: str = ""

    def flagged(self) -> FlaggedSentence | None:
        if self.reason is None:
            return None
        detail = self.conflict or ("; ".join(self.support.reasons) if self.support else "")
        return FlaggedSentence(
            sentence=self.sentence,
            start=self.start,
            end=self.end,
            reason=self.reason,
            citations=list(self.citations),
            detail=detail,
        )


def _sentences(markdown: str, end: int) -> list[list[Sentence]]:
    """Sentences of ``markdown[:end]`` by paragraph, offsets into ``markdown``."""
    paragraphs: list[list[Sentence]] = []
    for block in markdown_blocks(markdown[:end]):
        if block.kind == "prose":
            paragraphs.append(split_sentences_in(markdown, block.start, block.end, "prose"))
        elif block.kind == "list":
            items = list_items(markdown, block)
            paragraphs.append(
                [s for a, b in items for s in split_sentences_in(markdown, a, b, "list")]
            )
    return paragraphs


def _with_citations(paragraph: list[Sentence]) -> list[tuple[Sentence, list[int], bool]]:
    """(sentence, numbers, own) for each sentence; a lone marker ("… end. [2]") joins
    the sentence before it; a sentence without one borrows (``own`` False)."""
    items: list[tuple[Sentence, list[int]]] = []
    for s in paragraph:
        nums = markers_in(s.text)
        if not re.search(r"\w", MARKER_RE.sub("", s.text)):
            if items:
                prev, prev_nums = items[-1]
                joined = Sentence(prev.start, s.end, prev.text, prev.kind)
                items[-1] = (joined, prev_nums + [n for n in nums if n not in prev_nums])
            continue
        items.append((s, nums))
    out: list[tuple[Sentence, list[int], bool]] = []
    for i, (s, nums) in enumerate(items):
        if nums:
            out.append((s, nums, True))
            continue
        later = next((n for _, n in items[i + 1 :] if n), None)
        earlier = next((n for _, n in reversed(items[:i]) if n), None)
        out.append((s, list(later or earlier or []), False))
    return out


def _outline_words(markdown: str, end: int) -> set[str]:
    """Content words of the title and headings: what a framing sentence may name."""
    words: set[str] = set()
    for block in markdown_blocks(markdown[:end]):
        if block.kind == "heading":
            words.update(content_words(markdown[block.start : block.end]))
    return words | FRAMING_WORDS


def is_framing(sentence: str, outline_words: set[str]) -> bool:
    """A sentence that makes no claim: only the draft's own title/headings words
    (or one of the extractive engine's templates)."""
    from .extractive.writing import is_framing_sentence  # the engine imports this module

    text = normalize_whitespace(strip_markers(sentence))
    if is_framing_sentence(text):
        return True
    return set(content_words(text)) <= outline_words


def assess_draft(markdown: str, sources: Mapping[int, str]) -> list[Checked]:
    """Every checked sentence of ``markdown`` with its verdict; ``sources`` maps each
    citation number to its passage text."""
    body, _ = split_body(markdown)
    outline = _outline_words(markdown, len(body))
    cache: dict[tuple[str, tuple[int, ...]], Support] = {}
    out: list[Checked] = []
    for paragraph in _sentences(markdown, len(body)):
        for s, nums, own in _with_citations(paragraph):
            text = markdown[s.start : s.end]
            unknown = [n for n in nums if n not in sources] if own else []
            if unknown:
                out.append(Checked(text, s.start, s.end, nums, "unknown_citation"))
                continue
            known = tuple(n for n in nums if n in sources)
            if not known:
                if not is_framing(text, outline):
                    out.append(Checked(text, s.start, s.end, [], "uncited"))
                continue
            if not own and is_framing(text, outline):
                continue
            claim = normalize_whitespace(strip_markers(text))
            key = (claim, known)
            if key not in cache:
                cache[key] = assess(claim, [sources[n] for n in known])
            verdict = cache[key]
            reason = None if verdict.supported else "unsupported"
            conflict = ""
            if reason is None and len(known) > 1:
                conflict = disagreement(claim, {n: sources[n] for n in known}) or ""
                reason = "unsupported" if conflict else None
            out.append(Checked(text, s.start, s.end, list(known), reason, verdict, conflict))
    return out


def summarize(checked: Iterable[Checked]) -> Grounding:
    """The API's grounding: share of checked sentences not flagged, and the flagged ones."""
    items = list(checked)
    flagged = [f for c in items if (f := c.flagged()) is not None]
    score = round(1 - len(flagged) / len(items), 3) if items else 1.0
    return Grounding(score=score, checked=len(items), flagged=flagged)


def check(markdown: str, sources: Mapping[int, str]) -> Grounding:
    """Grounding of ``markdown`` (a whole draft: title, body, Sources) against
    ``sources`` (citation number -> passage text)."""
    return summarize(assess_draft(markdown, sources))


def sources_of(citations: Iterable[object]) -> dict[int, str]:
    """Citation number -> the text to check against: the stored passage, else the quote
    (drafts saved before passages were stored)."""
    out: dict[int, str] = {}
    for c in citations:
        get = c.get if isinstance(c, Mapping) else lambda k, c=c: getattr(c, k, None)
        n = get("n")
        text = get("passage") or get("quote") or ""
        if isinstance(n, int) and not isinstance(n, bool):
            out[n] = str(text)
    return out


def overrule(checked: Checked, supported: bool) -> Checked:
    """``checked`` with a second opinion's verdict on support (sources that contradict each
    other stay flagged)."""
    if checked.reason not in (None, "unsupported") or checked.conflict:
        return checked
    return replace(checked, reason=None if supported else "unsupported")
