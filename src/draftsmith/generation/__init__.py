"""Draft generation: retrieval-driven outline, writing and citation checking.

Pure logic (no database). The caller supplies a ``retrieve(query, k)``
coroutine (or a plain list of passages), an ``emit(type, data)`` callback and
a ``cancelled()`` predicate; see :class:`~draftsmith.generation.types.Engine`.
"""

from .citations import Verification, assemble_markdown, grounding, render_sources, verify
from .engines import ENGINE_NAMES, LLMSettings, default_engine_name, get_engine, llm_settings_from
from .engines.openai_compat import OpenAICompatEngine
from .errors import GenerationCancelled, GenerationError
from .extractive import ExtractiveEngine
from .retrieval import InMemoryRetriever
from .types import (
    TARGET_WORDS,
    Citation,
    Draft,
    Engine,
    GenerationRequest,
    Grounding,
    OutlineSection,
    Passage,
    WeakSentence,
    target_words,
)

__all__ = [
    "Citation",
    "Draft",
    "ENGINE_NAMES",
    "Engine",
    "ExtractiveEngine",
    "GenerationCancelled",
    "GenerationError",
    "GenerationRequest",
    "Grounding",
    "InMemoryRetriever",
    "LLMSettings",
    "OpenAICompatEngine",
    "OutlineSection",
    "Passage",
    "TARGET_WORDS",
    "Verification",
    "WeakSentence",
    "assemble_markdown",
    "default_engine_name",
    "get_engine",
    "grounding",
    "llm_settings_from",
    "render_sources",
    "target_words",
    "verify",
]
