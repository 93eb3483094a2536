"""Draft generation: retrieval-driven outline, writing and citation checking.

Pure logic (no database). The caller supplies a ``retrieve(query, k)``
coroutine (or a plain list of passages), an ``emit(type, data)`` callback and
a ``cancelled()`` predicate; see :class:`~draftsmith.generation.types.Engine`.
"""

from .citations import Verification, assemble_markdown, render_sources, verify
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
    FlaggedSentence,
    GenerationRequest,
    Grounding,
    OutlineSection,
    Passage,
    target_words,
)

__all__ = [
    "Citation",
    "Draft",
    "ENGINE_NAMES",
    "Engine",
    "FlaggedSentence",
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
    "assemble_markdown",
    "get_engine",
    "render_sources",
    "target_words",
    "verify",
]
