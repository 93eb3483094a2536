"""The last pass over a whole post: repeated facts removed across sections, transitions
smoothed, every citation marker kept. The model's version is used only if it verifies:
the same headings in the same order, every part still there with exactly the same set of
markers (none dropped, none invented), not much shorter, and grounding no worse.
Otherwise the unpolished text stays and the reason is reported."""

from __future__ import annotations

import re
from collections.abc import Mapping

from draftsmith.text.tokens import estimate_tokens
from draftsmith.text.words import word_count

from ..citations import markers_in, strip_markers
from ..draft import join_parts
from ..grounding import check
from ..types import GenerationRequest
from . import prompts
from .answers import clean_section_text
from .client import LLMClient
from .writer import Parts

#: the polished body must keep this share of the words
MIN_KEPT_WORDS = 0.6
#: ... and may lose at most this much grounding score
MAX_GROUNDING_LOSS = 0.02


def split_parts(markdown: str) -> Parts:
    """``(heading, text)`` parts of a post body: the text before the first ``##`` (the
    introduction, heading None), then one per ``## heading``."""
    t = markdown.strip()
    m = re.fullmatch(r"```(?:markdown|md)?\s*\n(.*?)\n?```", t, re.DOTALL)
    if m:
        t = m.group(1).strip()
    t = re.sub(r"^#\s+[^\n]*\n", "", t)  # a title the model added
    chunks = re.split(r"(?m)^##\s+(.+?)\s*#*\s*$", t)
    parts: Parts = [(None, chunks[0].strip())]
    for i in range(1, len(chunks), 2):
        parts.append((chunks[i].strip(), chunks[i + 1].strip()))
    return parts


def check_polished(original: Parts, polished: Parts, sources: Mapping[int, str]) -> str | None:
    """Why ``polished`` cannot replace ``original`` (None: it can)."""
    if polished == original:
        return None
    if [h for h, _ in polished] != [h for h, _ in original]:
        return "it changed the headings"
    if any(not re.search(r"\w", strip_markers(md)) for _, md in polished):
        return "it left a part empty"
    for (heading, old), (_, new) in zip(original, polished, strict=True):
        where = f'"{heading}"' if heading else "the introduction"
        if set(markers_in(new)) - set(markers_in(old)):
            return f"it invented citation markers in {where}"
        if set(markers_in(old)) - set(markers_in(new)):
            return f"it dropped citation markers from {where}"
    before, after = join_parts(original), join_parts(polished)
    if word_count(strip_markers(after)) < MIN_KEPT_WORDS * word_count(strip_markers(before)):
        return "it cut too much"
    if check(after, sources).score < check(before, sources).score - MAX_GROUNDING_LOSS:
        return "its sentences are less well supported by their sources"
    return None


async def polish(
    client: LLMClient,
    req: GenerationRequest,
    parts: Parts,
    sources: Mapping[int, str],
    cancelled,
) -> tuple[Parts, str | None]:
    """``(parts, None)`` polished, or ``(the original parts, why not)``."""
    draft = join_parts(parts)
    user = prompts.polish_prompt(req, draft)
    max_tokens = int(estimate_tokens(draft) * 1.3) + 100
    budget = client.settings.context_budget_tokens
    if estimate_tokens(prompts.POLISH_SYSTEM) + estimate_tokens(user) + max_tokens > budget:
        return parts, "the post is too long for one call within the context budget"
    messages = [
        {"role": "system", "content": prompts.POLISH_SYSTEM},
        {"role": "user", "content": user},
    ]
    answer = await client.chat(messages, max_tokens, cancelled)
    polished = [(h, clean_section_text(md) if md else md) for h, md in split_parts(answer)]
    why = check_polished(parts, polished, sources)
    return (parts, why) if why else (polished, None)
