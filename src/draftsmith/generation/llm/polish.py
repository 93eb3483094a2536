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
    """``(parts, None)`` polished, or ``(parts, why)`` with every window that could not be
    used left as it was. A post too long for one call within the context budget is
    polished in windows of consecutive parts, each told what the others cover."""
    budget = client.settings.context_budget_tokens
    windows = polish_windows(req, parts, budget)
    if not windows:
        return parts, "a single part is too long for one call within the context budget"
    out = list(parts)
    problems: list[str] = []
    for lo, hi in windows:
        context = _others(parts, lo, hi) if len(windows) > 1 else ""
        window, why = await _polish_window(client, req, parts[lo:hi], context, sources, cancelled)
        if why:
            problems.append(why if len(windows) == 1 else f"{_name(parts, lo, hi)}: {why}")
        else:
            out[lo:hi] = window
    return out, "; ".join(problems) or None


def _cost(req: GenerationRequest, window: Parts, context: str) -> int:
    """Tokens of the polishing call for ``window``: prompt plus room for the answer."""
    draft = join_parts(window)
    user = prompts.polish_prompt(req, draft, context)
    return estimate_tokens(prompts.POLISH_SYSTEM) + estimate_tokens(user) + _max_tokens(draft)


def _max_tokens(draft: str) -> int:
    return int(estimate_tokens(draft) * 1.3) + 100


def polish_windows(req: GenerationRequest, parts: Parts, budget: int) -> list[tuple[int, int]]:
    """Consecutive ``(lo, hi)`` ranges of ``parts`` each fitting one call (the whole post
    when it fits); empty when a single part does not fit."""
    if _cost(req, parts, "") <= budget:
        return [(0, len(parts))]
    windows: list[tuple[int, int]] = []
    lo = 0
    while lo < len(parts):
        hi = lo + 1
        if _cost(req, parts[lo:hi], _others(parts, lo, hi)) > budget:
            return []
        while hi < len(parts) and _cost(req, parts[lo : hi + 1], _others(parts, lo, hi + 1)) <= (
            budget
        ):
            hi += 1
        windows.append((lo, hi))
        lo = hi
    return windows


def _others(parts: Parts, lo: int, hi: int) -> str:
    """What the parts outside ``lo:hi`` cover: heading and first sentence of each."""
    lines = []
    for i, (heading, md) in enumerate(parts):
        if lo <= i < hi:
            continue
        first = re.split(r"(?<=[.!?])\s", strip_markers(md).strip(), maxsplit=1)[0]
        lines.append(f"- {heading or 'Introduction'}: {first[:200]}")
    return "\n".join(lines)


def _name(parts: Parts, lo: int, hi: int) -> str:
    names = [h or "the introduction" for h, _ in parts[lo:hi]]
    return f'"{names[0]}"' if len(names) == 1 else f'"{names[0]}" to "{names[-1]}"'


async def _polish_window(
    client: LLMClient,
    req: GenerationRequest,
    window: Parts,
    context: str,
    sources: Mapping[int, str],
    cancelled,
) -> tuple[Parts, str | None]:
    draft = join_parts(window)
    messages = [
        {"role": "system", "content": prompts.POLISH_SYSTEM},
        {"role": "user", "content": prompts.polish_prompt(req, draft, context)},
    ]
    answer = await client.chat(messages, _max_tokens(draft), cancelled)
    polished = [(h, clean_section_text(md) if md else md) for h, md in split_parts(answer)]
    if window[0][0] is not None and polished and polished[0] == (None, ""):
        polished = polished[1:]  # a window that starts at a heading has no introduction
    why = check_polished(window, polished, sources)
    return (window, why) if why else (polished, None)
