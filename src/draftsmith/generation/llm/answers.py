"""Checking what the model wrote for one part of the post and mapping its local passage
numbers ``[1]..[k]`` to the draft's citation numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence

from draftsmith.text.blocks import markdown_blocks
from draftsmith.text.sentences import split_sentences

from ..citations import SourceRegistry, markers_in, rewrite_markers, strip_markers
from ..support import support_score
from ..types import Passage

_REFUSAL = re.compile(
    r"^\W*(?:i'?m sorry|i am sorry|sorry,|i cannot|i can'?t|i can not|i'?m unable|i am unable|"
    r"i won'?t|as an ai|i'?m not able|i am not able|unfortunately,? i)",
    re.IGNORECASE,
)
_TRAILING_SOURCES = re.compile(
    r"(?im)^\s*(?:#{1,6}\s*)?(?:\*\*)?(?:sources|references|citations|bibliography)(?:\*\*)?\s*:?\s*$"
)


#: chat-template tokens a server without the model's template leaks into the answer
_TEMPLATE_TOKENS = re.compile(
    r"<<\s*/?\s*SYS\s*>>|\[/?INST\]|<\|[a-z_]{2,20}\|>|</?(?:start_of_turn|end_of_turn|s)>"
    r"(?:user|model|assistant|system)?",
    re.IGNORECASE,
)


class Unusable(Exception):
    """The answer cannot be used; the message says why."""


def clean_section_text(text: str) -> str:
    """Strip what the model should not have written: a wrapping code fence, a
    leading heading, a trailing Sources list."""
    t = text.strip()
    m = re.fullmatch(r"```(?:markdown|md)?\s*\n(.*?)\n?```", t, re.DOTALL)
    if m:
        t = m.group(1).strip()
    lines = t.split("\n")
    while lines and (not lines[0].strip() or re.match(r"^\s*#{1,6}\s", lines[0])):
        lines.pop(0)
    t = "\n".join(lines).strip()
    m = _TRAILING_SOURCES.search(t)
    if m:
        t = t[: m.start()].rstrip()
    # reference-style lines "[1] Some document" at the very end
    if re.search(r"\n\s*\[\d+\]\s+\S[^\n]*$", t) and not re.search(r"[.!?]\s*\[\d+\]\s*$", t):
        t = re.sub(r"(?:\n\s*\[\d+\][^\n]*)+\s*$", "", t)
    # headings inside a section body become bold lead-ins (the draft has one level of sections)
    t = re.sub(r"(?m)^\s*#{1,6}\s+(.+?)\s*#*\s*$", r"**\1**", t)
    return t.strip()


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", strip_markers(text).lower()))


def strip_echo(text: str, prompt: str, passages: Sequence[Passage]) -> str:
    """``text`` without what a weak model copies from its prompt instead of writing: chat
    template tokens, lines of the instructions, the passages' headers, and paragraphs
    repeated word for word (a model stuck in a loop)."""
    t = _TEMPLATE_TOKENS.sub("", text)
    echoed = {_norm(line) for line in prompt.split("\n") if len(_norm(line).split()) >= 3}
    echoed |= {_norm(s.text) for s in split_sentences(prompt) if len(s.text.split()) >= 4}
    names = tuple(f"({p.document_name}".lower() for p in passages)
    kept_paras: list[str] = []
    seen: set[str] = set()
    for para in re.split(r"\n\s*\n", t):
        lines = []
        for line in para.split("\n"):
            bare = line.strip().lower()
            if bare.startswith(names) or re.match(r"^\[\d+\]\s*\(", bare):
                continue  # a passage header, "(doc.pdf, "Title", p. 3)"
            if _norm(line) in echoed:
                continue
            lines.append(line)
        kept = "\n".join(lines).strip("\n")
        sents = [s.text for s in split_sentences(kept)]
        if sents and all(_norm(s) in echoed for s in sents):
            continue
        key = _norm(kept)
        if not key or key in seen:
            continue
        seen.add(key)
        kept_paras.append(kept)
    return "\n\n".join(kept_paras)


class _LazyMap:
    """Local passage number -> global citation number, assigned on first use
    (so global numbers follow the order of appearance in the draft)."""

    def __init__(self, passages: Sequence[Passage], registry: SourceRegistry) -> None:
        self.passages = passages
        self.registry = registry

    def get(self, n: int, default: int | None = None) -> int | None:
        if 1 <= n <= len(self.passages):
            return self.registry.add(self.passages[n - 1])
        return default


def accept_answer(
    text: str,
    used: list[Passage],
    registry: SourceRegistry,
    *,
    weak_threshold: float,
    prompt: str = "",
) -> str:
    """The answer with global citation numbers; a paragraph without a marker cites the
    passage that supports it best, if one does well enough (so an answer without any
    marker is usable when its passages support some of it). ``prompt`` (the instructions,
    without the passages) is what an echo of it is recognised by. Raises :class:`Unusable`."""
    t = clean_section_text(strip_echo(text, prompt, used))
    if not t or not re.search(r"\w", strip_markers(t)):
        raise Unusable("the answer was empty")
    if _REFUSAL.match(t):
        raise Unusable("the model declined to write it")
    out = t
    for b in reversed([b for b in markdown_blocks(t) if b.kind in ("prose", "list")]):
        para = t[b.start : b.end]
        if markers_in(para):
            continue
        scores = [support_score(para, [p.text]) for p in used]
        best = max(range(len(used)), key=lambda i: (scores[i], -i))
        if scores[best] >= weak_threshold:
            out = out[: b.end] + f" [{best + 1}]" + out[b.end :]
    # a small model may forget the markers: prose its passages support still counts
    if not any(1 <= n <= len(used) for n in markers_in(out)):
        raise Unusable("it cites none of the source passages")
    return rewrite_markers(out, _LazyMap(used, registry))  # type: ignore[arg-type]
