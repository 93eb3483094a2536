"""Draft generation: retrieval-driven outline, writing and citation checking.

Pure logic (no database). The caller supplies a ``retrieve(query, k)``
coroutine (or a plain list of passages), an ``emit(type, data)`` callback and
a ``cancelled()`` predicate; see :class:`~draftsmith.generation.types.Engine`.
"""

from .citations import Verification, assemble_markdown, grounding, render_sources, verify
from .errors import GenerationCancelled, GenerationError
from .extractive import ExtractiveEngine
from .llm import LLMSettings, OpenAICompatEngine
from .registry import ENGINE_NAMES, get_engine
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
    "get_engine",
    "grounding",
    "render_sources",
    "target_words",
    "verify",
]
