"""Errors raised by the generation engines.

Both carry a human sentence in ``message`` (safe to show to a user: it never
contains an API key or a prompt) and a stable snake_case ``code`` the caller
can store next to the blog row or send in an SSE ``error`` event.  ``transient``
says whether trying again later may succeed (a timeout, a 429 or 5xx, a lost
connection): a job retries only those.
"""

from __future__ import annotations


class GenerationError(Exception):
    """Generation failed for a reason the user should be told about."""

    def __init__(
        self, message: str, *, code: str = "generation_failed", transient: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class GenerationCancelled(Exception):
    """The caller asked to stop (``cancelled()`` returned True)."""

    def __init__(self, message: str = "Generation was cancelled") -> None:
        super().__init__(message)
        self.message = message
        self.code = "cancelled"
