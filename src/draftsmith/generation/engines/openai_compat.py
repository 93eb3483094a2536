"""Engine for any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp).

Uses the official ``openai`` SDK with its own retries disabled
(``max_retries=0``); retries are done here so that they are bounded, jittered,
honour ``Retry-After`` and can be tested against a fake server.

Pipeline: outline as JSON (``response_format`` json_schema, falling back to a
plain prompt when the server rejects it with 400; tolerant parsing; one repair
round), then an introduction, one streamed call per section and a
conclusion, each written from numbered passages ``[1]..[k]`` that are mapped
back to the draft's global citation numbers; finally verification/grounding.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import openai

from draftsmith.text.blocks import markdown_blocks
from draftsmith.text.tokens import estimate_tokens, truncate_to_tokens
from draftsmith.text.words import normalize_whitespace, word_count

from ..citations import (
    SourceRegistry,
    markers_in,
    rewrite_markers,
    strip_markers,
    support_score,
)
from ..draft import as_retriever, finish_draft, join_parts
from ..errors import GenerationCancelled, GenerationError
from ..events import Progress, run_cancellable, sleep_cancellable
from ..retrieval import retrieve_unique
from ..types import (
    Cancelled,
    Draft,
    Emit,
    GenerationRequest,
    OutlineSection,
    Passage,
    Sources,
    target_words,
)

log = logging.getLogger("draftsmith.generation.llm")

SECTIONS_FOR_LENGTH = {"short": (2, 3), "medium": (3, 4), "long": (4, 6)}
OUTLINE_ERROR = "The model returned an outline that is not valid JSON"


@dataclass
class LLMSettings:
    """Everything the LLM engine needs. ``api_key`` is never logged or repr'd."""

    base_url: str
    api_key: str | None = None
    model: str = "gpt-4o-mini"
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    #: attempts per request (first try included) for 429, 5xx, timeouts and connection errors
    max_attempts: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 20.0
    #: a Retry-After longer than this fails at once instead of sleeping
    max_retry_after: float = 60.0
    #: prompt + completion tokens per call (estimated); passages are truncated to fit
    context_budget_tokens: int = 6000
    passages_per_section: int = 8
    temperature: float = 0.3
    #: extra tries when an answer is unusable (empty, refusal, no citations)
    unusable_retries: int = 1
    #: minimum seconds between partial ``section`` events while streaming
    partial_event_interval: float = 0.5
    weak_threshold: float = 0.4
    extra_headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        key = "set" if self.api_key else "unset"
        return f"LLMSettings(base_url={self.base_url!r}, model={self.model!r}, api_key=<{key}>)"


class _SchemaRejected(Exception):
    pass


class _Unusable(Exception):
    pass


# --------------------------------------------------------------------------
# helpers


def parse_retry_after(headers: Any, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``retry-after-ms``."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms:
            return max(0.0, float(ms) / 1000.0)
    except (TypeError, ValueError):
        pass
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if not value:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if dt is None:
        return None
    return max(0.0, dt.timestamp() - (now if now is not None else time.time()))


def extract_json_object(text: str) -> Any:
    """The first JSON object in ``text`` (code fences and chatter around it ignored)."""
    t = text.strip()
    fence = re.search(r"```(?:json|JSON)?\s*\n?(.*?)```", t, re.DOTALL)
    candidates = [fence.group(1)] if fence else []
    candidates.append(t)
    for cand in candidates:
        start = cand.find("{")
        while start != -1:
            depth, in_str, esc = 0, False, False
            for i in range(start, len(cand)):
                ch = cand[i]
                if in_str:
                    if esc:
                        esc = False
                    elif ch == "\\":
                        esc = True
                    elif ch == '"':
                        in_str = False
                elif ch == '"':
                    in_str = True
                elif ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        try:
                            return json.loads(cand[start : i + 1])
                        except json.JSONDecodeError:
                            break
            start = cand.find("{", start + 1)
    raise ValueError("no JSON object found")


def parse_outline(text: str) -> tuple[str | None, list[OutlineSection]]:
    """Validate the model's outline JSON: ``{"title", "sections": [{"heading", "points", "query"}]}``."""
    data = extract_json_object(text)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    raw = data.get("sections") or data.get("outline")
    if not isinstance(raw, list) or not raw:
        raise ValueError("no sections")
    sections: list[OutlineSection] = []
    for item in raw:
        if isinstance(item, str):
            item = {"heading": item}
        if not isinstance(item, dict):
            continue
        heading = normalize_whitespace(str(item.get("heading") or item.get("title") or "")).strip(
            "# "
        )
        if not heading:
            continue
        points = item.get("points") or item.get("key_points") or []
        if not isinstance(points, list):
            points = [str(points)]
        pts = [normalize_whitespace(str(p)) for p in points if str(p).strip()][:6]
        query = normalize_whitespace(str(item.get("query") or ""))
        sections.append(OutlineSection(heading=heading[:120], points=pts, query=query))
    if not sections:
        raise ValueError("no usable sections")
    title = data.get("title")
    return (
        normalize_whitespace(str(title)) if isinstance(title, str) and title.strip() else None
    ), sections


_REFUSAL = re.compile(
    r"^\W*(?:i'?m sorry|i am sorry|sorry,|i cannot|i can'?t|i can not|i'?m unable|i am unable|i won'?t|"
    r"as an ai|i'?m not able|i am not able|unfortunately,? i)",
    re.IGNORECASE,
)
_TRAILING_SOURCES = re.compile(
    r"(?im)^\s*(?:#{1,6}\s*)?(?:\*\*)?(?:sources|references|citations|bibliography)(?:\*\*)?\s*:?\s*$"
)


def clean_section_text(text: str, heading: str | None = None) -> str:
    """Strip what the model should not have written: a wrapping code fence, a
    leading heading, a trailing Sources list."""
    t = text.strip()
    m = re.fullmatch(r"```(?:markdown|md)?\s*\n(.*?)\n?```", t, re.DOTALL)
    if m:
        t = m.group(1).strip()
    lines = t.split("\n")
    while lines and (not lines[0].strip() or re.match(r"^\s*#{1,6}\s", lines[0])):
        lines.pop(0)
    t = "\n".join(lines).strip()
    m = _TRAILING_SOURCES.search(t)
    if m:
        t = t[: m.start()].rstrip()
    # reference-style lines "[1] Some document" at the very end
    t = (
        re.sub(r"(?:\n\s*\[\d+\][^\n]*)+\s*$", "", t)
        if re.search(r"\n\s*\[\d+\]\s+\S[^\n]*$", t) and not re.search(r"[.!?]\s*\[\d+\]\s*$", t)
        else t
    )
    # headings inside a section body become bold lead-ins (the draft has one level of sections)
    t = re.sub(r"(?m)^\s*#{1,6}\s+(.+?)\s*#*\s*$", r"**\1**", t)
    return t.strip()


def _sanitize_passage(text: str) -> str:
    """Passage text for a prompt: whitespace collapsed, numeric brackets that
    would read as citations turned into parentheses."""
    t = re.sub(r"[ \t]+", " ", text.replace("\r", ""))
    t = re.sub(r" ?\n ?", "\n", t)
    t = re.sub(r"\n{3,}", "\n\n", t).strip()
    return re.sub(r"\[(\d{1,4})\]", r"(\1)", t)


class _LazyMap:
    """Local passage number -> global citation number, assigned on first use
    (so global numbers follow the order of appearance in the draft)."""

    def __init__(self, passages: Sequence[Passage], registry: SourceRegistry) -> None:
        self.passages = passages
        self.registry = registry

    def get(self, n: int, default: Any = None) -> int | None:
        if 1 <= n <= len(self.passages):
            return self.registry.add(self.passages[n - 1])
        return default


# --------------------------------------------------------------------------
# engine


class OpenAICompatEngine:
    name = "llm"

    def __init__(
        self,
        settings: LLMSettings,
        *,
        rng: random.Random | None = None,
        client_factory: Callable[[], openai.AsyncOpenAI] | None = None,
    ) -> None:
        if not settings.base_url:
            raise GenerationError(
                "No LLM endpoint is configured (DRAFTSMITH_LLM_BASE_URL).",
                code="llm_not_configured",
            )
        self.settings = settings
        self._rng = rng or random.Random()
        self._client_factory = client_factory
        self._json_schema_ok = True

    @property
    def model(self) -> str:
        return self.settings.model

    def __repr__(self) -> str:
        return f"OpenAICompatEngine({self.settings!r})"

    def _client(self) -> openai.AsyncOpenAI:
        if self._client_factory is not None:
            return self._client_factory()
        s = self.settings
        return openai.AsyncOpenAI(
            base_url=s.base_url,
            api_key=s.api_key or "not-needed",
            timeout=openai.Timeout(s.read_timeout, connect=s.connect_timeout),
            max_retries=0,
            default_headers=s.extra_headers or None,
        )

    async def list_models(self) -> list[str]:
        """Model ids the endpoint offers (for ``draftsmith doctor``)."""
        client = self._client()
        try:
            page = await client.models.list()
            return [m.id for m in page.data]
        except openai.APIStatusError as e:
            raise self._status_error(e) from None
        except openai.APIConnectionError as e:
            raise GenerationError(self._conn_message(e, 1), code="llm_unreachable") from None
        finally:
            await client.close()

    # ------------------------------------------------------------------ transport

    def _conn_message(self, e: Exception, attempts: int) -> str:
        s = self.settings
        tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(e, openai.APITimeoutError):
            return (
                f"The LLM endpoint timed out{tries} (connect timeout {s.connect_timeout:g}s, "
                f"read timeout {s.read_timeout:g}s)."
            )
        return f"Could not connect to the LLM endpoint at {s.base_url}{tries}."

    def _status_error(self, e: openai.APIStatusError, attempts: int = 1) -> GenerationError:
        status = e.status_code
        detail = ""
        body = e.body
        if isinstance(body, dict):
            err = body.get("error", body)
            if isinstance(err, dict):
                detail = str(err.get("message") or "")[:200]
            elif isinstance(err, str):
                detail = err[:200]
        if status in (401, 403):
            return GenerationError(
                f"The LLM endpoint rejected the API key (HTTP {status}); check DRAFTSMITH_LLM_API_KEY.",
                code="llm_auth",
            )
        if status == 404:
            return GenerationError(
                f"The LLM endpoint does not know the model {self.settings.model!r} (HTTP 404).",
                code="llm_model",
            )
        if status == 429:
            return GenerationError(
                f"The LLM endpoint kept rate-limiting the requests (HTTP 429) after {attempts} attempts.",
                code="llm_rate_limited",
            )
        if status >= 500:
            return GenerationError(
                f"The LLM endpoint failed with HTTP {status} after {attempts} attempts.",
                code="llm_server_error",
            )
        return GenerationError(
            f"The LLM endpoint refused the request (HTTP {status}){': ' + detail if detail else ''}.",
            code="llm_bad_request",
        )

    def _backoff(self, attempt: int) -> float:
        s = self.settings
        cap = min(s.backoff_max, s.backoff_base * (2 ** (attempt - 1)))
        return self._rng.uniform(0.5 * cap, cap)  # "equal jitter"

    async def _request(
        self,
        client: openai.AsyncOpenAI,
        prog: Progress,
        *,
        messages: list[dict[str, str]],
        max_tokens: int,
        stream: bool,
        response_format: dict[str, Any] | None = None,
        on_text: Callable[[str], Awaitable[None]] | None = None,
    ) -> str:
        """One chat completion with bounded, jittered retries; returns the text."""
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            try:
                return await run_cancellable(
                    lambda: self._once(
                        client, prog, messages, max_tokens, stream, response_format, on_text
                    ),
                    prog.cancelled,
                )
            except GenerationCancelled:
                raise
            except openai.APIStatusError as e:
                status = e.status_code
                if status == 400 and response_format is not None:
                    raise _SchemaRejected() from None
                if not (status == 429 or status >= 500) or status == 501:
                    raise self._status_error(e, attempt) from None
                if attempt >= s.max_attempts:
                    raise self._status_error(e, attempt) from None
                wait = parse_retry_after(e.response.headers if e.response is not None else None)
                if wait is not None:
                    if wait > s.max_retry_after:
                        raise GenerationError(
                            f"The LLM endpoint asked to retry after {wait:.0f}s (HTTP {status}), longer than "
                            f"the {s.max_retry_after:.0f}s this app waits.",
                            code="llm_rate_limited",
                        ) from None
                    wait += self._rng.uniform(0, min(1.0, 0.1 * wait + 0.05))
                else:
                    wait = self._backoff(attempt)
                log.warning(
                    "LLM HTTP %s (attempt %d/%d); retrying in %.1fs",
                    status,
                    attempt,
                    s.max_attempts,
                    wait,
                )
            except openai.APIConnectionError as e:  # includes APITimeoutError
                if attempt >= s.max_attempts:
                    raise GenerationError(
                        self._conn_message(e, attempt),
                        code="llm_timeout"
                        if isinstance(e, openai.APITimeoutError)
                        else "llm_unreachable",
                    ) from None
                wait = self._backoff(attempt)
                log.warning(
                    "LLM %s (attempt %d/%d); retrying in %.1fs",
                    "timeout" if isinstance(e, openai.APITimeoutError) else "connection error",
                    attempt,
                    s.max_attempts,
                    wait,
                )
            await sleep_cancellable(wait, prog.cancelled)

    async def _once(
        self,
        client: openai.AsyncOpenAI,
        prog: Progress,
        messages: list[dict[str, str]],
        max_tokens: int,
        stream: bool,
        response_format: dict[str, Any] | None,
        on_text: Callable[[str], Awaitable[None]] | None,
    ) -> str:
        kwargs: dict[str, Any] = dict(
            model=self.settings.model,
            messages=messages,
            max_tokens=max_tokens,
            temperature=self.settings.temperature,
        )
        if response_format is not None:
            kwargs["response_format"] = response_format
        if not stream:
            resp = await client.chat.completions.create(**kwargs)
            if not resp.choices:
                return ""
            return resp.choices[0].message.content or ""
        st = await client.chat.completions.create(stream=True, **kwargs)
        parts: list[str] = []
        try:
            async for chunk in st:
                if prog.cancelled():
                    raise GenerationCancelled()
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                piece = getattr(delta, "content", None) if delta is not None else None
                if piece:
                    parts.append(piece)
                    if on_text is not None:
                        await on_text("".join(parts))
        finally:
            with anyio.move_on_after(2, shield=True):
                await st.close()
        return "".join(parts)

    # ------------------------------------------------------------------ prompts

    def _style_lines(self, req: GenerationRequest) -> list[str]:
        lines = [f"Topic: {req.topic}"]
        if req.title:
            lines.append(f"Title: {req.title}")
        if req.audience:
            lines.append(f"Audience: {req.audience}")
        if req.tone:
            lines.append(f"Tone: {req.tone}")
        lines.append(f"Language: {req.language or 'the language of the topic'}")
        if req.instructions:
            lines.append(f"Additional instructions from the user: {req.instructions}")
        return lines

    def _fit_passages(
        self, passages: Sequence[Passage], budget_tokens: int
    ) -> tuple[list[Passage], str]:
        """Numbered passage block ``[1] (doc, p. X)\\ntext`` fitting ``budget_tokens``."""
        items = list(passages)
        while items:
            headers = [
                f"[{i + 1}] ({p.document_name}{', p. ' + str(p.page) if p.page is not None else ''})"
                for i, p in enumerate(items)
            ]
            overhead = sum(estimate_tokens(h) + 4 for h in headers)
            room = budget_tokens - overhead
            if room >= 60 * len(items) or len(items) <= 1:
                break
            items.pop()  # least relevant last
        if not items:
            return [], ""
        texts = [_sanitize_passage(p.text) for p in items]
        room = max(40, budget_tokens - sum(estimate_tokens(h) + 4 for h in headers))
        # water-filling: short passages keep everything, long ones share the rest
        need = [estimate_tokens(t) for t in texts]
        alloc = [0] * len(texts)
        left = room
        order = sorted(range(len(texts)), key=lambda i: need[i])
        for k, i in enumerate(order):
            share = left // (len(order) - k)
            alloc[i] = min(need[i], share)
            left -= alloc[i]
        blocks = [
            f"{h}\n{truncate_to_tokens(t, a)}"
            for h, t, a in zip(headers, texts, alloc, strict=False)
        ]
        return items, "\n\n".join(blocks)

    def _budget_messages(
        self,
        system: str,
        user_head: str,
        user_tail: str,
        passages: Sequence[Passage],
        max_tokens: int,
    ) -> tuple[list[dict[str, str]], list[Passage]]:
        budget = self.settings.context_budget_tokens - max_tokens
        fixed = (
            estimate_tokens(system) + estimate_tokens(user_head) + estimate_tokens(user_tail) + 16
        )
        room = budget - fixed
        if room < 80:
            raise GenerationError(
                "The LLM context budget is too small for the prompt; raise the context budget setting.",
                code="llm_budget",
            )
        used, block = self._fit_passages(passages, room)
        user = f"{user_head}\n\nSOURCES:\n\n{block}\n\n{user_tail}"
        return [{"role": "system", "content": system}, {"role": "user", "content": user}], used

    # ------------------------------------------------------------------ outline

    def _outline_schema(self, lo: int, hi: int) -> dict[str, Any]:
        return {
            "type": "json_schema",
            "json_schema": {
                "name": "blog_outline",
                "strict": True,
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["title", "sections"],
                    "properties": {
                        "title": {"type": "string"},
                        "sections": {
                            "type": "array",
                            "minItems": lo,
                            "maxItems": hi,
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["heading", "points", "query"],
                                "properties": {
                                    "heading": {"type": "string"},
                                    "points": {"type": "array", "items": {"type": "string"}},
                                    "query": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        }

    async def _outline(
        self,
        client: openai.AsyncOpenAI,
        prog: Progress,
        req: GenerationRequest,
        passages: list[Passage],
    ) -> tuple[str | None, list[OutlineSection]]:
        lo, hi = SECTIONS_FOR_LENGTH.get(req.length, (3, 4))
        system = (
            "You plan blog posts that are grounded only in the user's source documents. "
            "You answer with a single JSON object and nothing else."
        )
        head = "\n".join(
            [
                "Plan a blog post.",
                *self._style_lines(req),
                f"Target length: about {target_words(req.length)} words.",
            ]
        )
        tail = (
            f'Return JSON: {{"title": string, "sections": [{{"heading": string, "points": [string], '
            f'"query": string}}]}} with {lo} to {hi} body sections (no introduction or conclusion section; '
            "those are written separately). Each heading is short; points are 2-4 facts from the sources; "
            "query is a few search keywords to find the supporting passages. Use only the sources above."
        )
        max_tokens = 700
        messages, _ = self._budget_messages(system, head, tail, passages, max_tokens)
        fmt = self._outline_schema(lo, hi) if self._json_schema_ok else None
        try:
            text = await self._request(
                client,
                prog,
                messages=messages,
                max_tokens=max_tokens,
                stream=False,
                response_format=fmt,
            )
        except _SchemaRejected:
            log.info("LLM endpoint rejected response_format json_schema; using a plain prompt")
            self._json_schema_ok = False
            text = await self._request(
                client, prog, messages=messages, max_tokens=max_tokens, stream=False
            )
        try:
            return self._clamp(parse_outline(text), hi)
        except ValueError:
            pass
        await prog.status("outlining", "The outline was not valid JSON; asking the model to fix it")
        repair = messages + [
            {"role": "assistant", "content": text[:4000]},
            {
                "role": "user",
                "content": "That reply was not a valid JSON object of the requested shape. Reply with only the "
                "corrected JSON object, no code fences and no other text.",
            },
        ]
        fixed = await self._request(
            client, prog, messages=repair, max_tokens=max_tokens, stream=False
        )
        try:
            return self._clamp(parse_outline(fixed), hi)
        except ValueError:
            raise GenerationError(OUTLINE_ERROR, code="llm_bad_outline") from None

    @staticmethod
    def _clamp(
        res: tuple[str | None, list[OutlineSection]], hi: int
    ) -> tuple[str | None, list[OutlineSection]]:
        title, sections = res
        return title, sections[: max(hi, 1)]

    # ------------------------------------------------------------------ writing

    async def _write_part(
        self,
        client: openai.AsyncOpenAI,
        prog: Progress,
        req: GenerationRequest,
        *,
        index: int,
        kind: str,
        heading: str | None,
        points: Sequence[str],
        words: int,
        passages: list[Passage],
        registry: SourceRegistry,
        context: str = "",
    ) -> str:
        what = {
            "introduction": "the introduction of the post (no heading), 1-2 paragraphs",
            "conclusion": "the conclusion of the post (no heading), 1-2 paragraphs that sum up the main points",
        }.get(
            kind, f'the body of the section "{heading}" (do not repeat the heading), 2-4 paragraphs'
        )
        system = (
            "You write blog posts grounded strictly in numbered source passages. Every paragraph cites the "
            "passages that support it with their numbers in square brackets, like [1] or [2][3], placed at the "
            "end of the sentence they support. Cite only the numbers given. Do not invent facts that the sources "
            "do not state. Write Markdown prose paragraphs; no headings, no list of sources."
        )
        head_lines = [f"Write {what}.", *self._style_lines(req), f"Length: about {words} words."]
        if points:
            head_lines.append("Cover: " + "; ".join(points))
        if context:
            head_lines.append(context)
        head = "\n".join(head_lines)
        tail = "Write the text now. Remember: every paragraph cites at least one source as [n]."
        max_tokens = min(int(words * 2.0) + 150, max(300, self.settings.context_budget_tokens // 2))
        messages, used = self._budget_messages(system, head, tail, passages, max_tokens)
        if not used:
            raise GenerationError(
                f'No source passage fits the prompt for "{heading or kind}".', code="llm_budget"
            )

        last_emit = [0.0]

        async def on_text(so_far: str) -> None:
            now = time.monotonic()
            if now - last_emit[0] >= self.settings.partial_event_interval:
                last_emit[0] = now
                await prog.section(index, heading, strip_markers(so_far), kind=kind, final=False)

        tries = 1 + max(0, self.settings.unusable_retries)
        problem = ""
        for _ in range(tries):
            text = await self._request(
                client, prog, messages=messages, max_tokens=max_tokens, stream=True, on_text=on_text
            )
            try:
                return self._accept(text, heading or kind, used, registry)
            except _Unusable as e:
                problem = str(e)
                log.warning("unusable LLM answer for %s: %s", heading or kind, problem)
        raise GenerationError(
            f'The model\'s answer for "{heading or kind}" was unusable: {problem}.',
            code="llm_unusable",
        )

    def _accept(self, text: str, label: str, used: list[Passage], registry: SourceRegistry) -> str:
        t = clean_section_text(text)
        if not t or not re.search(r"\w", strip_markers(t)):
            raise _Unusable("the answer was empty")
        if _REFUSAL.match(t):
            raise _Unusable("the model declined to write it")
        valid = [n for n in markers_in(t) if 1 <= n <= len(used)]
        if not valid:
            raise _Unusable("it cites none of the source passages")
        # paragraphs without a marker: cite the passage that supports them best, if one does
        blocks = [b for b in markdown_blocks(t) if b.kind in ("prose", "list")]
        out = t
        for b in reversed(blocks):
            para = t[b.start : b.end]
            if markers_in(para):
                continue
            scores = [support_score(para, [p.text]) for p in used]
            best = max(range(len(used)), key=lambda i: (scores[i], -i))
            if scores[best] >= self.settings.weak_threshold:
                out = out[: b.end] + f" [{best + 1}]" + out[b.end :]
        return rewrite_markers(out, _LazyMap(used, registry))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ generate

    async def generate(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
    ) -> Draft:
        prog = Progress(emit, cancelled)
        s = self.settings
        W = target_words(req.length)
        await prog.status("retrieving", "Finding the passages that match the topic")
        retrieve, all_passages = await as_retriever(passages_for)
        topic_query = " ".join(x for x in (req.topic, req.title or "") if x)
        topic_passages = await retrieve_unique(
            retrieve, topic_query, max(12, s.passages_per_section * 2)
        )
        if not topic_passages and all_passages:
            topic_passages = all_passages[: s.passages_per_section * 2]
        if not topic_passages:
            raise GenerationError(
                "None of the selected documents has text about this topic; try other words or other documents.",
                code="no_relevant_passages",
            )
        prog.check()
        client = self._client()
        try:
            await prog.status("outlining", f"Asking {s.model} for an outline")
            llm_title, outline = await self._outline(client, prog, req, topic_passages)
            title = (req.title or llm_title or req.topic).strip()
            await prog.outline(title, outline)

            await prog.status("writing", "Writing the draft")
            registry = SourceRegistry()
            intro_w = max(60, round(W * 0.12))
            concl_w = max(60, round(W * 0.10))
            per = max(80, round((W - intro_w - concl_w) / max(1, len(outline))))
            k = s.passages_per_section
            parts: list[tuple[str | None, str, str]] = []

            intro = await self._write_part(
                client,
                prog,
                req,
                index=0,
                kind="introduction",
                heading=None,
                points=[o.heading for o in outline],
                words=intro_w,
                passages=topic_passages[:k],
                registry=registry,
            )
            await prog.section(0, None, intro, kind="introduction")
            parts.append((None, intro, "introduction"))
            section_passages: list[list[Passage]] = []
            for i, sec in enumerate(outline, start=1):
                q = " ".join(
                    x for x in (sec.heading, sec.query, " ".join(sec.points), req.topic) if x
                )
                got = await retrieve_unique(retrieve, q, k)
                prog.check()
                if not got:
                    got = topic_passages[:k]
                section_passages.append(got)
                md = await self._write_part(
                    client,
                    prog,
                    req,
                    index=i,
                    kind="section",
                    heading=sec.heading,
                    points=sec.points,
                    words=per,
                    passages=got,
                    registry=registry,
                )
                await prog.section(i, sec.heading, md, kind="section")
                parts.append((sec.heading, md, "section"))
            # conclusion: the best passages of each section
            concl_sources: list[Passage] = []
            seen: set[str] = set()
            for rank in range(k):
                for got in section_passages or [topic_passages]:
                    if rank < len(got) and got[rank].chunk_id not in seen:
                        seen.add(got[rank].chunk_id)
                        concl_sources.append(got[rank])
            concl_sources = concl_sources[:k]
            heads = "Sections of the post: " + "; ".join(o.heading for o in outline)
            concl = await self._write_part(
                client,
                prog,
                req,
                index=len(outline) + 1,
                kind="conclusion",
                heading="Conclusion",
                points=[],
                words=concl_w,
                passages=concl_sources,
                registry=registry,
                context=heads,
            )
            await prog.section(len(outline) + 1, "Conclusion", concl, kind="conclusion")
            parts.append(("Conclusion", concl, "conclusion"))
        finally:
            with anyio.move_on_after(2, shield=True):
                await client.close()

        await prog.status("verifying", "Checking citations and grounding")
        body = join_parts([(heading, md) for heading, md, _ in parts])
        v = finish_draft(title, body, registry, threshold=s.weak_threshold)
        body_words = word_count(strip_markers("\n\n".join(md for _, md, _ in parts)))
        await prog.status(
            "verifying", f"{len(v.citations)} sources cited, grounding {v.grounding.score:.2f}"
        )
        return Draft(
            title=title,
            markdown=v.markdown,
            citations=v.citations,
            grounding=v.grounding,
            outline=outline,
            engine=self.name,
            model=s.model,
            word_count=body_words,
            warnings=list(v.problems),
        )


__all__ = [
    "LLMSettings",
    "OpenAICompatEngine",
    "parse_outline",
    "extract_json_object",
    "parse_retry_after",
    "clean_section_text",
    "OUTLINE_ERROR",
]
