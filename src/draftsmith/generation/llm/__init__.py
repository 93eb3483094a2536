"""The engine for any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp).

``settings`` (what it needs), ``client`` (the SDK client, retries and error mapping),
``structured`` (the structured-output mode each endpoint takes, remembered), ``prompts``
(messages and fitting passages to the context budget), ``outline`` (the outline model),
``answers`` (checking each answer and numbering its citations), ``writer`` (body sections
together, then the introduction and conclusion from the body), ``polish`` (the verified
editing pass), ``probe`` (what `draftsmith doctor` asks), ``engine`` (plan, generate,
rewrite one section).
"""

from .engine import OpenAICompatEngine
from .settings import LLMSettings

__all__ = ["LLMSettings", "OpenAICompatEngine"]
