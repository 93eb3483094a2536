"""Engine registry: ``get_engine("extractive" | "llm", settings)``."""

from __future__ import annotations

from typing import Any

from ..errors import GenerationError
from ..extractive import ExtractiveEngine
from ..types import Engine
from .openai_compat import LLMSettings, OpenAICompatEngine

ENGINE_NAMES = ("extractive", "llm")

_LLM_FIELDS = {
    # LLMSettings field -> attribute names looked up on a settings-like object
    "base_url": ("llm_base_url", "base_url"),
    "api_key": ("llm_api_key", "api_key"),
    "model": ("llm_model", "model"),
    "connect_timeout": ("llm_connect_timeout", "connect_timeout"),
    "read_timeout": ("llm_read_timeout", "read_timeout"),
    "max_attempts": ("llm_max_attempts", "max_attempts"),
    "context_budget_tokens": ("llm_context_budget_tokens", "context_budget_tokens"),
    "temperature": ("llm_temperature", "temperature"),
}


def _secret(value: Any) -> Any:
    # pydantic SecretStr
    get = getattr(value, "get_secret_value", None)
    return get() if callable(get) else value


def llm_settings_from(settings: Any = None, **overrides: Any) -> LLMSettings:
    """Build :class:`LLMSettings` from a settings-like object (e.g. the app's
    pydantic Settings with ``llm_base_url``, ``llm_api_key``, ``llm_model``),
    a mapping, or keyword overrides. Unset values keep LLMSettings' defaults."""
    values: dict[str, Any] = {}
    for field, names in _LLM_FIELDS.items():
        for name in names:
            if isinstance(settings, dict):
                v = settings.get(name)
            else:
                v = getattr(settings, name, None) if settings is not None else None
            if v is not None:
                values[field] = _secret(v)
                break
    for k, v in overrides.items():
        if v is not None:
            values[k] = _secret(v)
    if values.get("base_url") is not None:
        values["base_url"] = str(values["base_url"])
    if not values.get("base_url"):
        raise GenerationError(
            "The LLM engine needs an endpoint: set DRAFTSMITH_LLM_BASE_URL (or use the extractive engine).",
            code="llm_not_configured",
        )
    return LLMSettings(**values)


def default_engine_name(settings: Any = None) -> str:
    """ "llm" when an LLM endpoint is configured, else "extractive"."""
    url = (
        settings.get("llm_base_url")
        if isinstance(settings, dict)
        else getattr(settings, "llm_base_url", None)
    )
    return "llm" if url else "extractive"


def get_engine(name: str | None = None, settings: Any = None, **overrides: Any) -> Engine:
    """Return an engine by name ("extractive" or "llm"; None = the default for ``settings``).

    ``settings`` is any object or dict with ``llm_base_url``/``llm_api_key``/``llm_model``
    (and optionally ``llm_connect_timeout``, ``llm_read_timeout``, ``llm_max_attempts``,
    ``llm_context_budget_tokens``, ``llm_temperature``), or an :class:`LLMSettings`.
    Keyword ``overrides`` use LLMSettings' field names (``base_url=...``, ``api_key=...``)."""
    name = name or default_engine_name(settings)
    if name == "extractive":
        return ExtractiveEngine()
    if name in ("llm", "openai", "openai_compat"):
        if isinstance(settings, LLMSettings):
            cfg = settings
            if overrides:
                cfg = LLMSettings(
                    **{**cfg.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
                )
        else:
            cfg = llm_settings_from(settings, **overrides)
        return OpenAICompatEngine(cfg)
    raise GenerationError(
        f"Unknown engine {name!r}; use one of: {', '.join(ENGINE_NAMES)}.", code="unknown_engine"
    )


__all__ = [
    "ENGINE_NAMES",
    "ExtractiveEngine",
    "LLMSettings",
    "OpenAICompatEngine",
    "default_engine_name",
    "get_engine",
    "llm_settings_from",
]
