"""``VERIFY=llm``: a second opinion from the LLM on the sentences the lexical judge is
least sure of.

The lexical judge (:mod:`.support`) is confident when a sentence copies its source, or
when it states a number, name, quoted string or negation its source lacks. Between
those - paraphrases and claims that share only some words with the passage - it marks
its verdict ``borderline``. Those sentences go to the model in batches (many sentences
per request, each with the passages it cites); the JSON answer is parsed tolerantly
and a verdict the model gives replaces the lexical one. Any failure (endpoint down,
an answer that is not JSON) keeps the lexical verdicts: the second opinion can only
refine grounding, never block a draft.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from draftsmith.text.tokens import estimate_tokens, truncate_to_tokens

from .errors import GenerationError
from .grounding import Checked, assess_draft, overrule, summarize
from .llm.client import LLMClient, SchemaRejected
from .llm.settings import LLMSettings
from .types import Draft

log = logging.getLogger(__name__)

#: most sentences per request, and most prompt tokens a passage may take
BATCH = 12
PASSAGE_TOKENS = 350
SYSTEM = (
    "You check a blog draft against its sources. For each numbered sentence, decide "
    "whether the source text given with it supports everything the sentence states "
    "(numbers, names, negations and claims included); a faithful paraphrase is "
    'supported. Answer only with JSON: {"verdicts": [{"id": 1, "supported": true}, ...]}.'
)
_VERDICT_RE = re.compile(r'"id"\s*:\s*"?(\d+)"?[^{}]*?"supported"\s*:\s*"?(true|false)', re.I)


def needs_opinion(checked: Checked) -> bool:
    """A sentence the lexical judge passed or failed on word overlap alone."""
    return checked.support is not None and checked.support.borderline


def _prompt(batch: Sequence[tuple[int, Checked, Mapping[int, str]]]) -> str:
    parts = []
    for i, (_, checked, sources) in enumerate(batch, 1):
        passages = "\n".join(
            f"[{n}] {truncate_to_tokens(' '.join(sources[n].split()), PASSAGE_TOKENS)}"
            for n in checked.citations
            if n in sources
        )
        parts.append(f"Sentence {i}: {checked.sentence}\nSource:\n{passages}")
    return "\n\n".join(parts)


def parse_verdicts(answer: str) -> dict[int, bool]:
    """``{sentence id: supported}`` from the model's answer: a JSON object with
    ``verdicts``, a bare list, JSON inside a code fence or prose, or at worst the
    ``"id": n, "supported": b`` pairs found in broken JSON."""
    text = re.sub(r"```(?:json)?", "", answer)
    for start, end in (("{", "}"), ("[", "]")):
        a, b = text.find(start), text.rfind(end)
        if a == -1 or b <= a:
            continue
        try:
            data: Any = json.loads(text[a : b + 1])
        except ValueError:
            continue
        items = data.get("verdicts", []) if isinstance(data, dict) else data
        out = {}
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("supported"), bool):
                try:
                    out[int(item.get("id"))] = item["supported"]
                except (TypeError, ValueError):
                    continue
        if out:
            return out
    return {int(i): v.lower() == "true" for i, v in _VERDICT_RE.findall(text)}


def _batches(
    items: list[tuple[int, Checked, Mapping[int, str]]], budget: int
) -> list[list[tuple[int, Checked, Mapping[int, str]]]]:
    """Consecutive batches of at most BATCH sentences whose prompt fits ``budget``."""
    out: list[list[tuple[int, Checked, Mapping[int, str]]]] = [[]]
    for item in items:
        if out[-1] and (
            len(out[-1]) >= BATCH or estimate_tokens(_prompt([*out[-1], item])) > budget
        ):
            out.append([])
        out[-1].append(item)
    return [b for b in out if b]


async def second_opinion(
    items: Sequence[tuple[Checked, Mapping[int, str]]], settings: LLMSettings
) -> list[Checked]:
    """``items`` (a checked sentence and the passages by citation number) with the
    model's verdict on each borderline one; the others, and any the model did not
    answer, keep their lexical verdict."""
    out = [checked for checked, _ in items]
    asked = [(i, c, s) for i, (c, s) in enumerate(items) if needs_opinion(c)]
    if not asked:
        return out
    budget = max(500, settings.context_budget_tokens - 100 * BATCH - estimate_tokens(SYSTEM))
    async with LLMClient(settings) as client:
        for batch in _batches(asked, budget):
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": _prompt(batch)},
            ]
            try:
                answer = await client.chat(messages, 30 * len(batch) + 50, lambda: False)
            except (GenerationError, SchemaRejected) as exc:
                log.warning("VERIFY=llm: no second opinion (%s); lexical verdicts kept", exc)
                continue
            verdicts = parse_verdicts(answer)
            for k, (i, checked, _) in enumerate(batch, 1):
                if k in verdicts:
                    out[i] = overrule(checked, verdicts[k])
    return out


async def recheck(draft: Draft, settings: LLMSettings) -> Draft:
    """``draft`` with its grounding refined by the model's second opinion."""
    checked = assess_draft(draft.markdown, draft.passages)
    rechecked = await second_opinion([(c, draft.passages) for c in checked], settings)
    return replace(draft, grounding=summarize(rechecked))
