"""Checking what the model wrote for one part of the post and mapping its local passage
numbers ``[1]..[k]`` to the draft's citation numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence

from draftsmith.text.blocks import markdown_blocks
from draftsmith.text.sentences import split_sentences
from draftsmith.text.tokens import tokenize

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
    r"<<?\s*/?\s*SYS\s*>>?|\[/?INST\]|<\|[a-z_]{2,20}\|>|</?(?:start_of_turn|end_of_turn|s)>"
    r"(?:user|model|assistant|system)?",
    re.IGNORECASE,
)
#: HTML paragraph tags where Markdown was asked for
_HTML_PARAGRAPH = re.compile(r"(?i)<p>|</p>|<p\s*$")


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


def _words(text: str) -> list[str]:
    return tokenize(strip_markers(text))


def _norm(text: str) -> str:
    return " ".join(_words(text))


def _pieces(text: str) -> list[list[str]]:
    """The words of each line and each sentence of ``text``."""
    return [_words(x) for x in text.split("\n")] + [_words(s.text) for s in split_sentences(text)]


class _Echo:
    """Recognises text copied from the prompt: a line or sentence of its fixed instructions,
    word for word or nearly (a small model drops or changes a word or two), or a line of
    the brief word for word (nearly would be a sentence on the topic)."""

    def __init__(self, instructions: str, brief: str) -> None:
        fixed = _pieces(instructions)
        self.exact = {" ".join(w) for w in fixed + _pieces(brief) if len(w) >= 3}
        self.sets = [set(w) for w in fixed if len(w) >= 6]

    def __call__(self, text: str) -> bool:
        words = _words(text)
        if " ".join(words) in self.exact:
            return True
        if len(words) < 6:
            return False
        mine = set(words)
        return any(len(mine & theirs) >= 0.85 * len(mine) for theirs in self.sets)


def strip_echo(text: str, instructions: str, brief: str, passages: Sequence[Passage]) -> str:
    """``text`` without what a weak model copies from its prompt instead of writing: chat
    template tokens, HTML paragraph tags, sentences of the instructions, the passages'
    headers, and paragraphs it repeats (a model stuck in a loop repeats one, or stops
    in the middle of its copy)."""
    t = _HTML_PARAGRAPH.sub("\n\n", _TEMPLATE_TOKENS.sub("", text))
    echo = _Echo(instructions, brief)
    names = tuple(f"({p.document_name}".lower() for p in passages)
    kept: list[str] = []
    keys: list[str] = []
    for para in re.split(r"\n\s*\n", t):
        lines = []
        for line in para.split("\n"):
            bare = line.strip().lower()
            if bare.startswith(names) or re.match(r"^\[\d+\]\s*\(", bare) or echo(line):
                continue  # a passage header "(doc.pdf, "Title", p. 3)", or the instructions
            lines.append(line)
        para = "\n".join(lines).strip("\n")
        for sent in reversed(split_sentences(para)):
            if echo(sent.text):
                para = (para[: sent.start].rstrip() + " " + para[sent.end :].lstrip()).strip()
        key = _norm(para)
        if not key or any(key == k or (len(key) >= 40 and k.startswith(key)) for k in keys):
            continue
        keys.append(key)
        kept.append(para)
    return "\n\n".join(kept)


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
    instructions: str = "",
    brief: str = "",
) -> str:
    """The answer with global citation numbers; a paragraph without a marker cites the
    passage that supports it best, if one does well enough (so an answer without any
    marker is usable when its passages support some of it). ``instructions`` and ``brief``
    (the prompt without the passages) are what an echo of it is recognised by. Raises
    :class:`Unusable`."""
    t = clean_section_text(strip_echo(text, instructions, brief, used))
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
