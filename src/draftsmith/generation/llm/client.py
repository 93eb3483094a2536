"""The endpoint: the ``openai`` SDK client, one chat call, and errors in plain language.

The retries are ours, not the SDK's (its ``max_retries`` is 0), because what to retry
depends on the request:

- a refused ``response_format`` (any 4xx/5xx whose body says so) is not retried at all:
  it raises :class:`SchemaRejected` at once, for the caller to try the next mode;
- HTTP 408/409/429/5xx and lost connections are retried up to ``max_attempts`` with
  exponential backoff, honouring ``Retry-After`` / ``retry-after-ms`` (one longer than
  :data:`MAX_RETRY_AFTER_S` fails at once);
- a timeout is retried at most once: the connection is closed first (httpx drops a
  connection whose response did not complete, so a server that notices stops), but a
  single-slot server may still be busy with the abandoned request, and sending the same
  prompt again and again only queues behind it. The message says what to lower.

Every wait runs on the event loop under :func:`run_cancellable`, where a cancel reaches it.
"""

from __future__ import annotations

import functools
import json
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx
import openai

from draftsmith import metrics
from draftsmith.text.tokens import estimate_tokens

from ..errors import GenerationError
from ..events import run_cancellable
from ..types import Cancelled
from . import structured
from .settings import LLMSettings

#: called with the whole text so far while an answer streams in
OnText = Callable[[str], Awaitable[None]]
#: a server asking to wait longer than this before retrying is not waited for
MAX_RETRY_AFTER_S = 120.0
_RETRYABLE = {408, 409, 429}
_SECRET_RE = re.compile(r"(?i)(bearer\s+\S+|sk-[A-Za-z0-9_\-]{6,}|api[_-]?key\W+\S+)")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle takes a tenth of a second,
    which each post would otherwise spend before its first call."""
    return httpx.create_ssl_context()


class SchemaRejected(Exception):
    """The server refused the request's ``response_format``; the message is its reason."""


class LLMClient:
    """One OpenAI-compatible endpoint; use as ``async with LLMClient(settings) as client``."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self._sdk = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",
            timeout=openai.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            max_retries=0,
            default_headers=settings.extra_headers or None,
            http_client=openai.DefaultAsyncHttpxClient(verify=_ssl_context()),
        )
        #: tokens the server counted for the last plain (not streamed) answer, if it says
        self.last_completion_tokens: int | None = None

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        with anyio.move_on_after(2, shield=True):
            await self._sdk.close()

    async def list_models(self) -> list[str]:
        """Model ids the endpoint offers."""
        try:
            page = await self._sdk.models.list()
        except openai.APIStatusError as e:
            raise self._status_error(e, 1) from None
        except openai.APIConnectionError:
            raise self._connection_error(1) from None
        return [m.id for m in page.data]

    @property
    def structured_mode(self) -> str:
        """The structured-output mode this endpoint is known to take (or will be tried first)."""
        return structured.known_mode(self.settings.base_url, self.settings.model)

    async def structured(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        cancelled: Cancelled,
        *,
        name: str,
        schema: dict[str, Any],
    ) -> tuple[str, str]:
        """``(answer, mode)``: a JSON answer asked for in the strictest mode the endpoint
        takes, falling back mode by mode (``json_schema`` → ``json_object`` with the schema
        → ``json_object`` → a plain prompt) when the server refuses one; remembered."""
        s = self.settings
        for mode in structured.modes_from(self.structured_mode):
            fmt = structured.response_format(mode, name, schema)
            try:
                answer = await self.chat(messages, max_tokens, cancelled, response_format=fmt)
            except SchemaRejected:
                continue
            structured.remember(s.base_url, s.model, mode)
            return answer, mode
        raise AssertionError("the plain mode sends no response_format")  # pragma: no cover

    async def chat(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        cancelled: Cancelled,
        *,
        response_format: dict[str, Any] | None = None,
        on_text: OnText | None = None,
    ) -> str:
        """The answer's text; streamed (calling ``on_text``) when ``on_text`` is given.

        Stops within a tenth of a second once ``cancelled()`` is true, also while waiting
        to retry or while a stream sends nothing. Raises :class:`SchemaRejected` (only
        when ``response_format`` is given) or :class:`GenerationError`."""
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature,
        }
        if response_format is not None:
            kwargs["response_format"] = response_format
        started, outcome = time.perf_counter(), "error"
        try:
            answer = await run_cancellable(
                lambda: self._with_retries(kwargs, on_text, response_format is not None),
                cancelled,
            )
            outcome = "ok"
            return answer
        finally:
            metrics.LLM_DURATION.labels(outcome).observe(time.perf_counter() - started)

    async def _with_retries(
        self, kwargs: dict[str, Any], on_text: OnText | None, negotiating: bool
    ) -> str:
        s = self.settings
        timeouts = 0
        for attempt in range(1, s.max_attempts + 1):
            last = attempt == s.max_attempts
            try:
                if on_text is None:
                    return await self._complete(kwargs)
                return await self._stream(kwargs, on_text)
            except openai.APIStatusError as e:
                metrics.LLM_ERRORS.labels(f"http_{e.status_code}").inc()
                text = _body_text(e)
                if negotiating and structured.rejects_format(e.status_code, text):
                    raise SchemaRejected(self._scrub(text)) from None
                retryable = e.status_code in _RETRYABLE or e.status_code >= 500
                if not retryable or last:
                    raise self._status_error(e, attempt) from None
                wait = _retry_after(e.response.headers)
                if wait is not None and wait > MAX_RETRY_AFTER_S:
                    raise GenerationError(
                        f"The LLM endpoint asked to retry after {_retry_after_text(e)}s "
                        f"(HTTP {e.status_code}), longer than this app waits"
                        f"{self._detail(e)}.",
                        code="llm_rate_limited",
                        transient=True,
                    ) from None
            except openai.APITimeoutError:
                metrics.LLM_ERRORS.labels("timeout").inc()
                timeouts += 1
                if timeouts >= 2 or last:
                    raise self._timeout_error(kwargs, attempt) from None
                wait = 0.0
            except openai.APIConnectionError:
                metrics.LLM_ERRORS.labels("connection").inc()
                if last:
                    raise self._connection_error(attempt) from None
                wait = None
            except json.JSONDecodeError:  # from the SDK, on a 200 whose body is not JSON
                metrics.LLM_ERRORS.labels("JSONDecodeError").inc()
                raise GenerationError(
                    "The LLM endpoint answered with a body that is not JSON "
                    "(is DRAFTSMITH_LLM_BASE_URL an OpenAI-compatible API?).",
                    code="llm_bad_response",
                ) from None
            if wait is None:  # exponential backoff with jitter: 0.5 s, 1 s, 2 s ... 8 s
                wait = min(8.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.8, 1.0)
            await anyio.sleep(wait)
        raise AssertionError("max_attempts is at least 1")  # pragma: no cover

    async def _complete(self, kwargs: dict[str, Any]) -> str:
        resp = await self._sdk.chat.completions.create(**kwargs)
        self.last_completion_tokens = resp.usage.completion_tokens if resp.usage else None
        return (resp.choices[0].message.content or "") if resp.choices else ""

    async def _stream(self, kwargs: dict[str, Any], on_text: OnText) -> str:
        stream = await self._sdk.chat.completions.create(stream=True, **kwargs)
        parts: list[str] = []
        finished = False
        try:
            async for chunk in stream:
                choice = chunk.choices[0] if chunk.choices else None
                if choice is not None and choice.delta is not None and choice.delta.content:
                    parts.append(choice.delta.content)
                    await on_text("".join(parts))
                finished = finished or bool(choice is not None and choice.finish_reason)
        except httpx.TimeoutException:
            raise GenerationError(
                f"The LLM endpoint stopped sending the answer for more than the read timeout "
                f"({self.settings.read_timeout:g} s): the model is too slow for this prompt; "
                "lower DRAFTSMITH_LLM_CONTEXT_BUDGET_TOKENS or raise DRAFTSMITH_LLM_TIMEOUT_S.",
                code="llm_timeout",
                transient=True,
            ) from None
        except httpx.TransportError:
            finished = False  # the connection broke mid-answer
        finally:
            with anyio.move_on_after(2, shield=True):
                await stream.close()
        if not finished:
            raise GenerationError(
                "The LLM endpoint closed the stream before the answer was complete.",
                code="llm_stream_closed",
                transient=True,
            )
        return "".join(parts)

    # -- errors in plain language

    def _scrub(self, text: str, limit: int = 240) -> str:
        """A server's own words for the user: one line, trimmed, no key or token in it."""
        key = self.settings.api_key
        if key:
            text = text.replace(key, "***")
        text = _SECRET_RE.sub("***", " ".join(text.split()))
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

    def _detail(self, e: openai.APIStatusError) -> str:
        """``": <the server's reason>"`` or ``""``."""
        text = self._scrub(_body_text(e))
        return f": {text}" if text else ""

    def _timeout_error(self, kwargs: dict[str, Any], attempts: int) -> GenerationError:
        s = self.settings
        prompt = sum(estimate_tokens(str(m.get("content") or "")) for m in kwargs["messages"])
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        return GenerationError(
            f"The LLM endpoint timed out after {tries} (read timeout {s.read_timeout:g} s, "
            f"a prompt of about {prompt} tokens): the model is too slow for this prompt. "
            f"Lower DRAFTSMITH_LLM_CONTEXT_BUDGET_TOKENS (now {s.context_budget_tokens}) "
            "or raise DRAFTSMITH_LLM_TIMEOUT_S.",
            code="llm_timeout",
            transient=True,
        )

    def _connection_error(self, attempts: int) -> GenerationError:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        return GenerationError(
            f"Could not connect to the LLM endpoint at {self.settings.base_url} after {tries}.",
            code="llm_unreachable",
            transient=True,
        )

    def _status_error(self, e: openai.APIStatusError, attempts: int) -> GenerationError:
        status = e.status_code
        detail = self._detail(e)
        if status in (401, 403):
            return GenerationError(
                f"The LLM endpoint rejected the API key (HTTP {status}); "
                "check DRAFTSMITH_LLM_API_KEY.",
                code="llm_auth",
            )
        if status == 404:
            return GenerationError(
                f"The LLM endpoint does not know the model {self.settings.model!r} "
                f"(HTTP 404){detail}.",
                code="llm_model",
            )
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if status == 429:
            return GenerationError(
                f"The LLM endpoint kept rate-limiting the requests (HTTP 429) after {tries}"
                f"{detail}.",
                code="llm_rate_limited",
                transient=True,
            )
        if status >= 500 or status in _RETRYABLE:
            return GenerationError(
                f"The LLM endpoint failed with HTTP {status} after {tries}{detail}.",
                code="llm_server_error",
                transient=True,
            )
        return GenerationError(
            f"The LLM endpoint refused the request (HTTP {status}){detail}.",
            code="llm_bad_request",
        )


def _body_text(e: openai.APIStatusError) -> str:
    """The server's reason: an OpenAI-style ``error.message``, else the body as text."""
    body = e.body
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        err = err.get("message") or err.get("detail") or json.dumps(err)
    if err is None:
        try:
            err = e.response.text
        except Exception:  # a streamed response that was not read
            err = ""
    return str(err)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, ``Retry-After`` in seconds or
    as an HTTP date), or None."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _retry_after_text(e: openai.APIStatusError) -> str:
    return e.response.headers.get("retry-after") or e.response.headers.get("retry-after-ms") or "?"
