"""The messages sent to the model: the whole brief (topic, title, audience, tone,
language, length, the user's instructions), numbered source passages fitted to the
context budget (each headed by its document, title and date where known), and the
outline, writing and polishing prompts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from draftsmith.text.tokens import estimate_tokens, truncate_to_tokens

from ..errors import GenerationError
from ..types import GenerationRequest, Passage, target_words

Messages = list[dict[str, str]]

OUTLINE_SYSTEM = (
    "You plan blog posts that are grounded only in the user's source documents. "
    "You answer with a single JSON object and nothing else."
)
WRITE_SYSTEM = (
    "You write blog posts grounded strictly in numbered source passages. Every paragraph cites "
    "the passages that support it with their numbers in square brackets, like [1] or [2][3], "
    "placed at the end of the sentence they support. Cite only the numbers given. Do not invent "
    "facts that the sources do not state. When passages disagree (different numbers, dates or "
    "claims about the same thing), say that the sources differ and cite each side. Write Markdown "
    "prose paragraphs; no headings, no list of sources."
)
POLISH_SYSTEM = (
    "You are the editor of a blog post grounded in numbered sources. You return the whole "
    "post, revised, in Markdown and nothing else."
)
REPAIR_REQUEST = (
    "That reply was not a valid JSON object of the requested shape. Reply with only the "
    "corrected JSON object, no code fences and no other text."
)
_WHAT = {
    "introduction": "the introduction of the post (no heading), 1-2 paragraphs",
    "conclusion": "the conclusion of the post (no heading), 1-2 paragraphs that sum up the "
    "main points",
}


def style_lines(req: GenerationRequest) -> list[str]:
    """The brief, one line each (what every prompt carries)."""
    lines = [f"Topic: {req.topic}"]
    if req.title:
        lines.append(f"Title: {req.title}")
    if req.audience:
        lines.append(f"Audience: {req.audience}")
    if req.tone:
        lines.append(f"Tone: {req.tone}")
    lines.append(f"Language: {req.language or 'the language of the topic'}")
    lines.append(f"Length of the whole post: {req.length} (about {target_words(req.length)} words)")
    if req.instructions:
        lines.append(f"Additional instructions from the user: {req.instructions}")
    return lines


def outline_prompt(req: GenerationRequest, lo: int, hi: int) -> tuple[str, str]:
    """``(head, tail)`` of the user message asking for an outline of ``lo``..``hi`` sections."""
    head = "\n".join(
        [
            "Plan a blog post.",
            *style_lines(req),
        ]
    )
    tail = (
        f'Return JSON: {{"title": string, "sections": [{{"heading": string, "points": [string], '
        f'"query": string}}]}} with {lo} to {hi} body sections (no introduction or conclusion '
        "section; those are written separately). Each heading is short; points are 2-4 facts from "
        "the sources; query is a few search keywords to find the supporting passages. Use only the "
        "sources above."
    )
    return head, tail


def write_prompt(
    req: GenerationRequest,
    kind: str,
    heading: str | None,
    points: Sequence[str],
    words: int,
    context: str = "",
) -> tuple[str, str]:
    """``(head, tail)`` of the user message asking for one part of the post."""
    what = _WHAT.get(
        kind, f'the body of the section "{heading}" (do not repeat the heading), 2-4 paragraphs'
    )
    lines = [f"Write {what}.", *style_lines(req), f"Length: about {words} words."]
    if points:
        lines.append("Cover: " + "; ".join(points))
    if context:
        lines.append(context)
    tail = (
        "Write the text now. Remember: every paragraph cites at least one source as [n]; "
        "where the sources disagree, say so and cite both."
    )
    return "\n".join(lines), tail


def others_context(
    others: Sequence[tuple[str, Sequence[str]]], written: Sequence[tuple[str, str]]
) -> str:
    """What a body section must not repeat: the other sections' headings and points, and
    a digest of those already written."""
    lines: list[str] = []
    if others:
        lines.append("The post's other sections cover (do not repeat what they cover):")
        for heading, points in others:
            lines.append(f'- "{heading}"' + (": " + "; ".join(points) if points else ""))
    if written:
        lines.append("Already written (do not repeat these facts; you may refer to them):")
        lines += [f'- "{heading}": {digest}' for heading, digest in written]
    return "\n".join(lines)


def body_context(kind: str, body: str) -> str:
    """The finished body, for the introduction or the conclusion written from it."""
    what = (
        "Introduce what it covers without repeating its details"
        if kind == "introduction"
        else "Sum up what it showed without repeating it sentence by sentence"
    )
    return f"The body of the post, already written. {what}:\n\n<<<BODY\n{body}\nBODY>>>"


def polish_prompt(req: GenerationRequest, draft: str, others: str = "") -> str:
    """The user message asking for the whole post (or, with ``others`` — what the rest of
    the post covers — one stretch of it) back, de-duplicated and smoothed."""
    rest = (
        [
            "This is one stretch of a longer post. The rest of the post covers:",
            others,
            "- remove facts here that the rest of the post already gives;",
        ]
        if others
        else []
    )
    return "\n".join(
        [
            "Revise this blog post draft:",
            "- remove facts repeated across sections (keep each where it fits best);",
            "- smooth the transitions between sections;",
            "- keep every line starting with ## exactly as it is, in the same order, and any "
            "text before the first ## as the introduction;",
            "- keep every citation marker such as [3] with the claim it supports: do not remove, "
            "renumber or add markers, and do not add facts;",
            "- keep the brief:",
            *[f"  {line}" for line in style_lines(req)],
            *rest,
            "Reply with the whole revised post and nothing else."
            if not others
            else "Reply with the whole revised stretch and nothing else.",
            "",
            "DRAFT:",
            "",
            draft,
        ]
    )


def sanitize_passage(text: str) -> str:
    """Passage text for a prompt: whitespace collapsed, numeric brackets that
    would read as citations turned into parentheses."""
    t = re.sub(r"[ \t]+", " ", text.replace("\r", ""))
    t = re.sub(r" ?\n ?", "\n", t)
    t = re.sub(r"\n{3,}", "\n\n", t).strip()
    return re.sub(r"\[(\d{1,4})\]", r"(\1)", t)


_DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d\d-[01]\d-[0-3]\d|(?:19|20)\d\d-[01]\d|(?:19|20)\d\d)(?!\d)"
)


def document_title(p: Passage) -> str | None:
    """The document's title as far as the passage knows: the top of its heading path."""
    top = (p.section or "").split("›")[0].strip()
    return top or None


def document_date(p: Passage) -> str | None:
    """The document's own date (from its metadata), else one its name carries
    ("report-2023-04.pdf"), if any."""
    if p.document_date:
        return p.document_date
    m = _DATE_RE.search(p.document_name)
    return m.group(1) if m else None


def _passage_header(n: int, p: Passage) -> str:
    """``[n] (name, "title", dated D, p. X)``: enough for the model to tell sources apart
    and say which one says what when they disagree."""
    parts = [p.document_name]
    title = document_title(p)
    if title and title.lower() not in p.document_name.lower():
        parts.append(f'"{title}"')
    date = document_date(p)
    if date:
        parts.append(f"dated {date}")
    label = p.page_label or p.page  # the number printed on the page, as the reader sees it
    if label is not None:
        parts.append(f"p. {label}")
    return f"[{n}] ({', '.join(parts)})"


def fit_passages(passages: Sequence[Passage], budget_tokens: int) -> tuple[list[Passage], str]:
    """Numbered passage block ``[1] (doc, p. X)\\ntext`` fitting ``budget_tokens``: the least
    relevant (last) passages go first, then long passages share what short ones leave."""
    items = list(passages)
    while len(items) > 1:
        overhead = sum(estimate_tokens(_passage_header(i + 1, p)) + 4 for i, p in enumerate(items))
        if budget_tokens - overhead >= 60 * len(items):
            break
        items.pop()
    if not items:
        return [], ""
    headers = [_passage_header(i + 1, p) for i, p in enumerate(items)]
    texts = [sanitize_passage(p.text) for p in items]
    room = max(40, budget_tokens - sum(estimate_tokens(h) + 4 for h in headers))
    # water-filling: short passages keep everything, long ones share the rest
    need = [estimate_tokens(t) for t in texts]
    alloc = [0] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: need[i])
    for k, i in enumerate(order):
        alloc[i] = min(need[i], room // (len(order) - k))
        room -= alloc[i]
    blocks = [
        f"{h}\n{truncate_to_tokens(t, a)}" for h, t, a in zip(headers, texts, alloc, strict=True)
    ]
    return items, "\n\n".join(blocks)


def budget_messages(
    system: str,
    head: str,
    tail: str,
    passages: Sequence[Passage],
    *,
    max_tokens: int,
    budget_tokens: int,
) -> tuple[Messages, list[Passage]]:
    """System and user messages with as much of ``passages`` as fits ``budget_tokens`` next to
    an answer of ``max_tokens``; also the passages used, in their prompt order."""
    fixed = estimate_tokens(system) + estimate_tokens(head) + estimate_tokens(tail) + 16
    room = budget_tokens - max_tokens - fixed
    if room < 80:
        raise GenerationError(
            "The LLM context budget is too small for the prompt; raise "
            "DRAFTSMITH_LLM_CONTEXT_BUDGET_TOKENS.",
            code="llm_budget",
        )
    used, block = fit_passages(passages, room)
    user = f"{head}\n\nSOURCES:\n\n{block}\n\n{tail}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], used
