"""Structured output, negotiated per endpoint and remembered for the process.

Servers differ in what ``response_format`` they take: OpenAI and vLLM take
``json_schema``; llama-cpp-python's server answers HTTP 500 to it ("Input should be
'text' or 'json_object'") but takes ``json_object`` with a ``schema``; some take only
``json_object``; some reject any ``response_format``. The first request to an endpoint
tries the modes in that order; the one that worked is remembered per (base URL, model)
so later requests, from any engine or `draftsmith doctor`, start there.

Also remembered here: an endpoint that cut off a streamed answer while another request of
the same post arrived (llama-cpp-python's server does) gets one call at a time from then on.
"""

from __future__ import annotations

import re
import threading
from typing import Any

#: from the most to the least constrained; "plain" sends no response_format
MODES = ("json_schema", "json_object_schema", "json_object", "plain")

_known: dict[tuple[str, str], str] = {}
_serial: set[tuple[str, str]] = set()
_lock = threading.Lock()

#: a server's error body that shows it was the response_format it refused
_REJECTION = re.compile(
    r"response_format|json_schema|json_object|response format|structured output|"
    r"input should be 'text'|grammar|schema",
    re.IGNORECASE,
)


def _key(base_url: str, model: str) -> tuple[str, str]:
    return base_url.rstrip("/"), model


def known_mode(base_url: str, model: str) -> str:
    """The mode this endpoint took last time (``json_schema`` until one is known)."""
    with _lock:
        return _known.get(_key(base_url, model), MODES[0])


def remember(base_url: str, model: str, mode: str) -> None:
    with _lock:
        _known[_key(base_url, model)] = mode


def one_at_a_time(base_url: str, model: str) -> bool:
    with _lock:
        return _key(base_url, model) in _serial


def remember_one_at_a_time(base_url: str, model: str) -> None:
    with _lock:
        _serial.add(_key(base_url, model))


def forget_all() -> None:
    """Forget every endpoint (tests start each case from a clean process state)."""
    with _lock:
        _known.clear()
        _serial.clear()


def modes_from(mode: str) -> tuple[str, ...]:
    """``mode`` and the modes after it, in fallback order."""
    return MODES[MODES.index(mode) :] if mode in MODES else MODES


def response_format(mode: str, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The ``response_format`` of ``mode`` for a JSON answer of ``schema`` (None: plain)."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "strict": True, "schema": schema},
        }
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def rejects_format(status: int, body_text: str) -> bool:
    """An HTTP error (any 4xx/5xx but auth, unknown model and rate limits) whose body says
    the server refused the ``response_format``."""
    if status < 400 or status in (401, 403, 404, 429):
        return False
    return bool(_REJECTION.search(body_text))
