"""The engine for any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp).

``settings`` (what it needs), ``client`` (the SDK client and error mapping), ``prompts``
(messages and fitting passages to the context budget), ``outline`` (the outline model),
``answers`` (checking each answer and numbering its citations), ``engine`` (the steps).
"""

from .engine import OpenAICompatEngine
from .settings import LLMSettings

__all__ = ["LLMSettings", "OpenAICompatEngine"]
