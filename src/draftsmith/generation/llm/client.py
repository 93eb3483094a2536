"""The endpoint: the ``openai`` SDK client, one chat call, and errors in plain language.

Retries are the SDK's own (``max_retries``): it retries 408/409/429/5xx, timeouts and
lost connections with exponential backoff, honours ``Retry-After`` (and refuses one
longer than two minutes), and runs its waits on the event loop, where a cancel reaches
them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import openai

from draftsmith import metrics

from ..errors import GenerationError
from ..events import run_cancellable
from ..types import Cancelled
from .settings import LLMSettings

#: called with the whole text so far while an answer streams in
OnText = Callable[[str], Awaitable[None]]


class SchemaRejected(Exception):
    """The server answered 400 to a request that carried a ``response_format``."""


class LLMClient:
    """One OpenAI-compatible endpoint; use as ``async with LLMClient(settings) as client``."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self._sdk = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",
            timeout=openai.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            max_retries=max(0, settings.max_attempts - 1),
            default_headers=settings.extra_headers or None,
        )

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        with anyio.move_on_after(2, shield=True):
            await self._sdk.close()

    async def list_models(self) -> list[str]:
        """Model ids the endpoint offers."""
        try:
            page = await self._sdk.models.list()
        except openai.APIError as e:
            raise self.error(e) from None
        return [m.id for m in page.data]

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

        Stops within a tenth of a second once ``cancelled()`` is true, also while the SDK
        waits to retry or a stream sends nothing. Raises :class:`SchemaRejected` or
        :class:`GenerationError`."""
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
            if on_text is None:
                answer = await run_cancellable(lambda: self._complete(kwargs), cancelled)
            else:
                answer = await run_cancellable(lambda: self._stream(kwargs, on_text), cancelled)
            outcome = "ok"
            return answer
        except openai.APIStatusError as e:
            metrics.LLM_ERRORS.labels(f"http_{e.status_code}").inc()
            if e.status_code == 400 and response_format is not None:
                raise SchemaRejected() from None
            raise self.error(e) from None
        except openai.APIConnectionError as e:
            metrics.LLM_ERRORS.labels(type(e).__name__).inc()
            raise self.error(e) from None
        except json.JSONDecodeError:  # from the SDK, on a 200 whose body is not JSON
            metrics.LLM_ERRORS.labels("JSONDecodeError").inc()
            raise GenerationError(
                "The LLM endpoint answered with a body that is not JSON "
                "(is DRAFTSMITH_LLM_BASE_URL an OpenAI-compatible API?).",
                code="llm_bad_response",
            ) from None
        finally:
            metrics.LLM_DURATION.labels(outcome).observe(time.perf_counter() - started)

    async def _complete(self, kwargs: dict[str, Any]) -> str:
        resp = await self._sdk.chat.completions.create(**kwargs)
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

    def error(self, e: openai.APIError) -> GenerationError:
        """A sentence for the user (never the key or the prompt) and a stable code."""
        # the SDK numbers its tries in a header of the request it gave up on
        attempts = int(e.request.headers.get("x-stainless-retry-count", 0)) + 1
        if isinstance(e, openai.APIStatusError):
            return self._status_error(e, attempts)
        s = self.settings
        tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(e, openai.APITimeoutError):
            return GenerationError(
                f"The LLM endpoint timed out{tries} (connect timeout {s.connect_timeout:g}s, "
                f"read timeout {s.read_timeout:g}s).",
                code="llm_timeout",
                transient=True,
            )
        return GenerationError(
            f"Could not connect to the LLM endpoint at {s.base_url}{tries}.",
            code="llm_unreachable",
            transient=True,
        )

    def _status_error(self, e: openai.APIStatusError, attempts: int) -> GenerationError:
        status = e.status_code
        if status in (401, 403):
            return GenerationError(
                f"The LLM endpoint rejected the API key (HTTP {status}); "
                "check DRAFTSMITH_LLM_API_KEY.",
                code="llm_auth",
            )
        if status == 404:
            return GenerationError(
                f"The LLM endpoint does not know the model {self.settings.model!r} (HTTP 404).",
                code="llm_model",
            )
        retry_after = e.response.headers.get("retry-after")
        if (
            (status == 429 or status >= 500)
            and retry_after
            and attempts < self.settings.max_attempts
        ):
            # the SDK stopped early: the server asked for a longer wait than it accepts
            return GenerationError(
                f"The LLM endpoint asked to retry after {retry_after}s (HTTP {status}), "
                "longer than this app waits.",
                code="llm_rate_limited",
                transient=True,
            )
        if status == 429:
            return GenerationError(
                "The LLM endpoint kept rate-limiting the requests (HTTP 429) "
                f"after {attempts} attempts.",
                code="llm_rate_limited",
                transient=True,
            )
        if status >= 500:
            return GenerationError(
                f"The LLM endpoint failed with HTTP {status} after {attempts} attempts.",
                code="llm_server_error",
                transient=True,
            )
        return GenerationError(
            f"The LLM endpoint refused the request (HTTP {status}){_detail(e.body)}.",
            code="llm_bad_request",
        )


def _detail(body: object) -> str:
    """``": <the server's message>"`` from an OpenAI-style error body, or ``""``."""
    err = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(err, dict):
        err = err.get("message")
    return f": {str(err)[:200]}" if err else ""
