"""What `draftsmith doctor` learns of the LLM endpoint with two tiny calls: how long a
token takes, and which structured-output mode the server takes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from draftsmith.config import Settings
from draftsmith.text.tokens import estimate_tokens

from .client import LLMClient
from .outline import extract_json_object
from .settings import LLMSettings

MODE_NAMES = {
    "json_schema": "json_schema",
    "json_object_schema": "json_object with a schema",
    "json_object": "json_object (no schema)",
    "plain": "none (a plain prompt, parsed tolerantly)",
}
_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Probe:
    seconds: float
    tokens: int
    mode: str
    json_ok: bool

    def __str__(self) -> str:
        per_token = self.seconds / max(1, self.tokens) * 1000
        json_note = "" if self.json_ok else " (but its answer was not JSON)"
        return (
            f"a {self.tokens}-token completion took {self.seconds:.2f} s "
            f"(~{per_token:.0f} ms per token, prompt included); structured output: "
            f"{MODE_NAMES[self.mode]}{json_note}"
        )


async def probe_endpoint(settings: Settings) -> Probe:
    """Raises :class:`GenerationError` (with the server's words) when a call fails."""
    llm = LLMSettings.from_settings(settings, max_attempts=1)
    never = lambda: False  # noqa: E731
    async with LLMClient(llm) as client:
        # the structured call first: it also wakes a server that loads its model lazily
        answer, mode = await client.structured(
            [{"role": "user", "content": 'Reply with the JSON object {"ok": true} only.'}],
            24,
            never,
            name="doctor_probe",
            schema=_SCHEMA,
        )
        started = time.perf_counter()
        text = await client.chat(
            [{"role": "user", "content": "Count from 1 to 20, separated by spaces."}], 48, never
        )
        seconds = time.perf_counter() - started
        tokens = client.last_completion_tokens or estimate_tokens(text)
    try:
        json_ok = isinstance(extract_json_object(answer), dict)
    except (ValueError, json.JSONDecodeError):
        json_ok = False
    return Probe(seconds, max(1, tokens), mode, json_ok)
