"""What the LLM engine needs to know, built from the app's :class:`Settings`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from draftsmith.config import Settings

from ..errors import GenerationError


def _default(name: str) -> Any:
    """The app's default for a setting, so the engine's defaults live in one place."""
    return Settings.model_fields[name].default


@dataclass
class LLMSettings:
    """Everything the LLM engine needs. ``api_key`` is never logged or repr'd."""

    base_url: str
    api_key: str | None = None
    model: str = _default("llm_model")
    connect_timeout: float = _default("llm_connect_timeout_s")
    read_timeout: float = _default("llm_timeout_s")
    #: tries per request (first included); the SDK retries 408/409/429/5xx, timeouts and
    #: connection errors with exponential backoff, honouring Retry-After
    max_attempts: int = _default("llm_max_attempts")
    #: prompt + completion tokens per call (estimated); passages are truncated to fit
    context_budget_tokens: int = _default("llm_context_budget_tokens")
    temperature: float = _default("llm_temperature")
    #: body sections written at the same time (each one call to the endpoint)
    concurrency: int = _default("llm_concurrency")
    #: a last call that removes repeated facts and smooths transitions (kept only if verified)
    polish: bool = True
    passages_per_section: int = 8
    #: extra tries when an answer is unusable (empty, refusal, no citations)
    unusable_retries: int = 1
    #: minimum seconds between partial ``section`` events while streaming
    partial_event_interval: float = 0.5
    weak_threshold: float = 0.4
    extra_headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        key = "set" if self.api_key else "unset"
        return f"LLMSettings(base_url={self.base_url!r}, model={self.model!r}, api_key=<{key}>)"

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> LLMSettings:
        """The engine's settings from the app's; ``overrides`` (None ignored) use this class's
        field names, e.g. ``base_url=...``, ``model=...``."""
        values: dict[str, Any] = {}
        if settings is not None:
            key = settings.llm_api_key
            values = {
                "base_url": settings.llm_base_url,
                "api_key": key.get_secret_value() if key is not None else None,
                "model": settings.llm_model,
                "connect_timeout": settings.llm_connect_timeout_s,
                "read_timeout": settings.llm_timeout_s,
                "max_attempts": settings.llm_max_attempts,
                "context_budget_tokens": settings.llm_context_budget_tokens,
                "temperature": settings.llm_temperature,
                "concurrency": settings.llm_concurrency,
            }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("base_url"):
            raise GenerationError(
                "The LLM engine needs an endpoint: set DRAFTSMITH_LLM_BASE_URL "
                "(or use the extractive engine).",
                code="llm_not_configured",
            )
        return cls(**values)
