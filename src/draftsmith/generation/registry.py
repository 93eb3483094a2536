"""Engines by name: ``get_engine("extractive" | "llm", settings)``."""

from __future__ import annotations

from typing import Any

from draftsmith.config import Settings

from .errors import GenerationError
from .extractive import ExtractiveEngine
from .llm import LLMSettings, OpenAICompatEngine
from .types import Engine

ENGINE_NAMES = ("extractive", "llm")


def get_engine(name: str, settings: Settings | None = None, **overrides: Any) -> Engine:
    """The engine called ``name``. The LLM engine reads its endpoint from ``settings``;
    keyword ``overrides`` use :class:`LLMSettings` field names (``base_url=...``).
    The configured default is ``settings.default_engine``."""
    if name == "extractive":
        return ExtractiveEngine()
    if name == "llm":
        return OpenAICompatEngine(LLMSettings.from_settings(settings, **overrides))
    raise GenerationError(
        f"Unknown engine {name!r}; use one of: {', '.join(ENGINE_NAMES)}.", code="unknown_engine"
    )
