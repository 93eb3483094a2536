"""A real, scriptable OpenAI-compatible HTTP server on loopback, for tests and benchmarks.

    with FakeOpenAIServer() as server:            # uvicorn in a background thread, free port
        server.push(status(429, retry_after=1), ok("hello [1]"))
        client = AsyncOpenAI(base_url=server.base_url, api_key="k")
        ...
        server.requests[-1].headers["authorization"]

Speaks ``POST /v1/chat/completions`` (plain JSON, and SSE when ``stream`` is
true: ``data: {...}`` chunks then ``data: [DONE]``), ``GET /v1/models`` and
``POST /v1/embeddings`` (a deterministic toy embedding: :func:`toy_embedding`; set
``embeddings_status`` to make it fail).

Each chat request consumes the next scripted behaviour from the queue
(:meth:`FakeOpenAIServer.push`); with an empty queue it answers by default
with something plausible derived from the request: a JSON outline for an
outline request, the draft itself for a polishing request, else paragraphs built
from the numbered ``[n]`` passages in the prompt, each citing them. ``latency`` adds
a fixed delay to every chat call. Every request is recorded in ``requests`` (with
when it was answered, and whether the client went away first).

What real servers do, on demand:

- ``json_schema_supported = False``: ``response_format`` json_schema is refused with
  ``json_schema_status`` (400, or 500 with pydantic's words as llama-cpp-python's
  server does: :meth:`FakeOpenAIServer.like_llama_cpp`); ``json_object`` with a
  ``schema`` is taken; ``response_format_supported = False`` refuses any of them;
- ``slots = 1``: one request is worked at a time, the others queue; with
  ``notices_disconnect = False`` an abandoned request keeps its slot until its answer
  would have been complete (llama-cpp-python);
- ``token_delay``: seconds per answer token (about four characters): a slow model;
- ``interrupts_streams = True``: a request arriving while an answer streams cuts that
  stream off (no finish reason, no ``[DONE]``), as llama-cpp-python's server does.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

__all__ = [
    "FakeOpenAIServer",
    "RecordedRequest",
    "Behaviour",
    "ok",
    "status",
    "sleep",
    "stream",
    "stream_forever",
    "stream_cut",
    "not_json",
    "json_schema_unsupported",
    "default",
    "default_answer",
    "toy_embedding",
]

EMBEDDING_DIM = 64


def toy_embedding(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """A hashed bag of crude stems (lower-cased words cut to 5 letters), unit length:
    deterministic across processes, and texts sharing words point the same way."""
    import hashlib

    vector = [0.0] * dim
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.blake2b(word[:5].encode(), digest_size=4).digest()
        vector[int.from_bytes(digest, "big") % dim] += 1.0
    norm = sum(x * x for x in vector) ** 0.5 or 1.0
    return [x / norm for x in vector]


# --------------------------------------------------------------------------
# behaviours


@dataclass
class Behaviour:
    kind: str
    content: str | None = None
    code: int = 200
    retry_after: float | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0
    chunks: list[str] | None = None
    delay: float = 0.0
    then: Behaviour | None = None


def ok(content: str) -> Behaviour:
    """Answer with ``content`` (streamed in small pieces if the request streams)."""
    return Behaviour("ok", content=content)


def status(
    code: int,
    retry_after: float | str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Behaviour:
    """Answer HTTP ``code`` with an OpenAI-style error body (and ``Retry-After`` if given)."""
    return Behaviour(
        "status", code=code, retry_after=retry_after, body=body, headers=dict(headers or {})
    )


def sleep(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Wait ``seconds`` before answering (``then`` or the default answer): for read timeouts."""
    return Behaviour("sleep", seconds=seconds, then=then)


def stream(chunks: list[str], delay: float = 0.0) -> Behaviour:
    """Stream exactly these content pieces, ``delay`` seconds apart."""
    return Behaviour("stream", chunks=list(chunks), delay=delay)


def stream_forever(delay: float = 0.2, piece: str = "more words ") -> Behaviour:
    """Start a stream that never ends (until the client goes away or the server stops)."""
    return Behaviour("stream_forever", delay=delay, content=piece)


def stream_cut(chunks: list[str]) -> Behaviour:
    """Stream these pieces, then close the response without a finish reason or ``[DONE]``."""
    return Behaviour("stream_cut", chunks=list(chunks))


def not_json(body: str = "<html><body>Bad gateway page</body></html>") -> Behaviour:
    """Answer 200 with a body that is not JSON (a proxy's HTML page, say)."""
    return Behaviour("not_json", content=body)


def json_schema_unsupported() -> Behaviour:
    """400 if this request asks for ``response_format`` json_schema, else the default answer."""
    return Behaviour("json_schema_unsupported")


def default() -> Behaviour:
    """The default, request-derived answer (useful between scripted ones)."""
    return Behaviour("default")


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def prompt(self) -> str:
        """All message contents joined (what the model would read)."""
        return "\n\n".join(str(m.get("content") or "") for m in self.messages)

    @property
    def stream(self) -> bool:
        return bool((self.body or {}).get("stream"))

    answered_at: float | None = None
    #: the client closed the connection before the answer was complete
    client_gone: bool = False

    @property
    def is_outline(self) -> bool:
        return _is_outline_request(self.body or {})

    @property
    def kind(self) -> str:
        """outline, polish, introduction, conclusion or section (what the prompt asks for)."""
        return _kind(self.body or {})

    @property
    def response_format(self) -> Any:
        return (self.body or {}).get("response_format")


# --------------------------------------------------------------------------
# default answers


def _is_outline_request(body: dict[str, Any]) -> bool:
    if body.get("response_format"):
        return True
    text = "\n".join(str(m.get("content") or "") for m in body.get("messages") or [])
    return "Plan a blog post" in text or ("Return JSON" in text and "sections" in text)


def _kind(body: dict[str, Any]) -> str:
    if _is_outline_request(body):
        return "outline"
    text = "\n".join(str(m.get("content") or "") for m in body.get("messages") or [])
    if "Revise this blog post draft" in text:
        return "polish"
    for kind in ("introduction", "conclusion"):
        if f"Write the {kind} of the post" in text:
            return kind
    return "section"


_PASSAGE_RE = re.compile(r"(?ms)^\[(\d+)\] \([^\n]*\)\n(.*?)(?=^\[\d+\] \(|\n\n[A-Z][^\n]*\Z|\Z)")


def _passages_in(prompt: str) -> list[tuple[int, str]]:
    block = prompt.split("SOURCES:", 1)[1] if "SOURCES:" in prompt else prompt
    return [(int(m.group(1)), m.group(2).strip()) for m in _PASSAGE_RE.finditer(block)]


def _sentences(text: str) -> list[str]:
    """Prose sentences of a passage (code, headings, tables and list markers dropped)."""
    t = re.sub(r"(?s)```.*?(```|$)", " ", text)
    t = re.sub(r"(?m)^\s*(#{1,6}\s.*|\|.*|[-*+]\s+|\d+[.)]\s+)", " ", t)
    t = re.sub(r"\s+", " ", t.replace("…", "")).strip()
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z])", t)
    return [
        p.strip()
        for p in parts
        if len(p.split()) >= 5 and p.strip()[-1:] in ".!?" and not re.search(r"[`{}<>|]", p)
    ]


def default_answer(body: dict[str, Any]) -> str:
    """A plausible answer derived from the request."""
    messages = body.get("messages") or []
    prompt = "\n\n".join(str(m.get("content") or "") for m in messages)
    if _kind(body) == "polish":  # a faithful editor: the draft as it was
        return prompt.split("DRAFT:\n\n", 1)[-1]
    passages = _passages_in(prompt)
    if _is_outline_request(body):
        topic = re.search(r"(?m)^Topic: (.+)$", prompt)
        topic_s = topic.group(1).strip() if topic else "the topic"
        sections = []
        for i, (_, text) in enumerate(passages[:3]):
            words = [w for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", text)][:3] or [f"Part {i + 1}"]
            heading = " ".join(words).capitalize()
            sents = _sentences(text)[:2] or [text[:80]]
            sections.append({"heading": heading, "points": sents, "query": " ".join(words)})
        while len(sections) < 2:
            sections.append(
                {"heading": f"Part {len(sections) + 1}", "points": [], "query": topic_s}
            )
        return json.dumps({"title": topic_s.capitalize(), "sections": sections})
    want = re.search(r"Length: about (\d+) words", prompt)
    target = int(want.group(1)) if want else 120
    if not any(_sentences(t) for _, t in passages):
        return "The sources say little about this [1]."
    paras: list[str] = []
    cur: list[str] = []
    words = 0
    rounds = 0
    while words < target and rounds < 5:
        for n, text in passages:
            sents = _sentences(text)
            if rounds >= len(sents):
                continue
            s = sents[rounds]
            cur.append(f"{s[:-1]} [{n}]{s[-1]}")
            words += len(s.split())
            if len(cur) >= 3:
                paras.append(" ".join(cur))
                cur = []
            if words >= target:
                break
        rounds += 1
    if cur:
        paras.append(" ".join(cur))
    return "\n\n".join(paras)


# --------------------------------------------------------------------------
# the server


class FakeOpenAIServer:
    def __init__(
        self,
        *,
        model: str = "fake-model",
        latency: float = 0.0,
        json_schema_supported: bool = True,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        stream_piece_chars: int = 24,
        answer: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.model = model
        self.latency = latency
        self.json_schema_supported = json_schema_supported
        self.api_key = api_key
        self.host = host
        self.stream_piece_chars = stream_piece_chars
        self.answer = answer or default_answer
        self.json_schema_status = 400
        self.response_format_supported = True
        self.slots: int | None = None
        self.notices_disconnect = True
        self.token_delay = 0.0
        self.interrupts_streams = False
        self._arrivals = 0
        self._slots: asyncio.Semaphore | None = None
        self.embeddings_status = 200
        self.queue: deque[Behaviour] = deque()
        self.requests: list[RecordedRequest] = []
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False

    # -- control

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def push(self, *behaviours: Behaviour) -> FakeOpenAIServer:
        with self._lock:
            self.queue.extend(behaviours)
        return self

    def reset(self) -> None:
        with self._lock:
            self.queue.clear()
            self.requests.clear()
        self.latency = 0.0
        self.json_schema_supported = True
        self.json_schema_status = 400
        self.response_format_supported = True
        self.slots = None
        self.notices_disconnect = True
        self.token_delay = 0.0
        self.interrupts_streams = False
        self._slots = None
        self.api_key = None
        self.answer = default_answer
        self.embeddings_status = 200

    def like_llama_cpp(self, token_delay: float = 0.0) -> FakeOpenAIServer:
        """Behave as llama-cpp-python's server: json_schema refused with HTTP 500,
        json_object with a schema taken, one slot that finishes abandoned requests, and a
        new request cutting off the answer being streamed."""
        self.interrupts_streams = True
        self.json_schema_supported = False
        self.json_schema_status = 500
        self.slots = 1
        self.notices_disconnect = False
        self.token_delay = token_delay
        return self

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in list(self.requests) if r.path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAIServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            interface="asgi3",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- ASGI

    async def _app(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            if msg["type"] == "http.request":
                body += msg.get("body", b"")
                if not msg.get("more_body"):
                    break
            elif msg["type"] == "http.disconnect":
                return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        try:
            data = json.loads(body) if body else None
        except json.JSONDecodeError:
            data = None
        path = scope.get("path", "")
        rec = RecordedRequest(scope.get("method", ""), path, headers, data, time.time())
        with self._lock:
            self.requests.append(rec)

        disconnected = asyncio.Event()

        async def watch_disconnect() -> None:
            while True:
                m = await receive()
                if m["type"] == "http.disconnect":
                    disconnected.set()
                    return

        watcher = asyncio.create_task(watch_disconnect())
        try:
            if (
                self.api_key is not None
                and headers.get("authorization") != f"Bearer {self.api_key}"
            ):
                await self._json(
                    send,
                    401,
                    {
                        "error": {
                            "message": "Incorrect API key provided",
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    },
                )
                return
            if scope["method"] == "GET" and path.rstrip("/").endswith("/models"):
                await self._json(
                    send,
                    200,
                    {
                        "object": "list",
                        "data": [
                            {"id": self.model, "object": "model", "created": 0, "owned_by": "fake"}
                        ],
                    },
                )
                return
            if scope["method"] == "POST" and path.rstrip("/").endswith("/embeddings"):
                await self._embeddings(send, data)
                return
            if scope["method"] == "POST" and path.rstrip("/").endswith("/chat/completions"):
                if not isinstance(data, dict):
                    await self._json(
                        send,
                        400,
                        {
                            "error": {
                                "message": "invalid JSON body",
                                "type": "invalid_request_error",
                            }
                        },
                    )
                    return
                with self._lock:
                    beh = self.queue.popleft() if self.queue else Behaviour("default")
                    self._arrivals += 1
                if self.slots and self._slots is None:
                    self._slots = asyncio.Semaphore(self.slots)
                slot = self._slots
                if slot is not None:
                    await slot.acquire()
                try:
                    if self.latency:
                        await asyncio.sleep(self.latency)
                    await self._chat(send, data, beh, disconnected)
                finally:
                    if slot is not None:
                        slot.release()
                    rec.answered_at = time.time()
                    rec.client_gone = disconnected.is_set()
                return
            await self._json(
                send, 404, {"error": {"message": f"no route {path}", "type": "not_found"}}
            )
        except (OSError, RuntimeError):
            pass  # client went away
        finally:
            watcher.cancel()

    async def _chat(
        self, send: Callable, data: dict[str, Any], beh: Behaviour, disconnected: asyncio.Event
    ) -> None:
        rf = data.get("response_format") or {}
        wants_schema = isinstance(rf, dict) and rf.get("type") == "json_schema"
        if rf and not self.response_format_supported:
            await self._json(
                send,
                400,
                {"error": {"message": "Unrecognized request argument: response_format"}},
            )
            return
        if wants_schema and (
            not self.json_schema_supported or beh.kind == "json_schema_unsupported"
        ):
            if self.json_schema_status >= 500:  # llama-cpp-python: pydantic's words, as a 500
                message = (
                    "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}]"
                )
                await self._json(
                    send,
                    self.json_schema_status,
                    {"error": {"message": message, "type": "internal_server_error"}},
                )
                return
            await self._json(
                send,
                self.json_schema_status,
                {
                    "error": {
                        "message": "response_format 'json_schema' is not supported by this server",
                        "type": "invalid_request_error",
                        "param": "response_format",
                    }
                },
            )
            return
        while beh.kind == "sleep":
            if not await self._work(beh.seconds, disconnected):
                return
            beh = beh.then or Behaviour("default")
        if beh.kind == "status":
            hdrs = dict(beh.headers)
            if beh.retry_after is not None:
                hdrs["retry-after"] = str(beh.retry_after)
            body = (
                beh.body
                if beh.body is not None
                else {
                    "error": {
                        "message": f"fake error {beh.code}",
                        "type": "server_error" if beh.code >= 500 else "invalid_request_error",
                    }
                }
            )
            await self._json(send, beh.code, body, hdrs)
            return
        streaming = bool(data.get("stream"))
        if beh.kind == "not_json":
            raw = (beh.content or "").encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": raw, "more_body": False})
            return
        if beh.kind == "stream_cut":
            await self._sse_start(send)
            for piece in beh.chunks or []:
                await self._sse(send, self._chunk({"content": piece}))
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if beh.kind == "stream_forever":
            await self._sse_start(send)
            await self._sse(send, self._chunk({"role": "assistant", "content": ""}))
            deadline = time.monotonic() + 300
            while not disconnected.is_set() and not self._stopping and time.monotonic() < deadline:
                await self._sse(send, self._chunk({"content": beh.content or "x "}))
                await asyncio.sleep(beh.delay)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if beh.kind == "stream":
            pieces = beh.chunks or []
            delay = beh.delay
        else:
            content = beh.content if beh.kind == "ok" else self.answer(data)
            if not streaming:
                if self.token_delay and not await self._work(
                    len(content) / 4 * self.token_delay, disconnected
                ):
                    return
                await self._json(send, 200, self._completion(content, data))
                return
            n = self.stream_piece_chars
            pieces = [content[i : i + n] for i in range(0, len(content), n)] or [""]
            delay = n / 4 * self.token_delay
        if not streaming:  # scripted stream pieces but the client did not stream: join them
            await self._json(send, 200, self._completion("".join(pieces), data))
            return
        await self._sse_start(send)
        await self._sse(send, self._chunk({"role": "assistant", "content": ""}))
        arrivals = self._arrivals
        for k, piece in enumerate(pieces):
            if self.interrupts_streams and self._arrivals != arrivals:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return  # cut off by the request that just arrived
            if disconnected.is_set():
                if not self.notices_disconnect:  # the abandoned answer is still generated
                    await asyncio.sleep(delay * (len(pieces) - k))
                return
            await self._sse(send, self._chunk({"content": piece}))
            if delay:
                await asyncio.sleep(delay)
        await self._sse(send, self._chunk({}, finish="stop"))
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})

    async def _work(self, seconds: float, disconnected: asyncio.Event) -> bool:
        """Generate for ``seconds``; False if the client went away (and the server noticed;
        one that does not notice works the full time anyway)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if disconnected.is_set() and self.notices_disconnect:
                return False
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
        return not disconnected.is_set()

    # -- wire helpers

    def _completion(self, content: str, data: dict[str, Any]) -> dict[str, Any]:
        prompt_chars = sum(len(str(m.get("content") or "")) for m in data.get("messages") or [])
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": data.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_chars // 4,
                "completion_tokens": len(content) // 4,
                "total_tokens": (prompt_chars + len(content)) // 4,
            },
        }

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    async def _embeddings(self, send: Callable, data: Any) -> None:
        inputs = data.get("input") if isinstance(data, dict) else None
        if isinstance(inputs, str):
            inputs = [inputs]
        if self.embeddings_status != 200 or not isinstance(inputs, list):
            code = self.embeddings_status if self.embeddings_status != 200 else 400
            await self._json(send, code, {"error": {"message": "no embeddings", "type": "error"}})
            return
        rows = [
            {"object": "embedding", "index": i, "embedding": toy_embedding(str(text))}
            for i, text in enumerate(inputs)
        ]
        usage = {"prompt_tokens": len(rows), "total_tokens": len(rows)}
        await self._json(
            send, 200, {"object": "list", "data": rows, "model": data.get("model"), "usage": usage}
        )

    async def _json(
        self, send: Callable, code: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps(payload).encode()
        hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
        hdrs += [(k.encode(), str(v).encode()) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": code, "headers": hdrs})
        await send({"type": "http.response.body", "body": raw, "more_body": False})

    async def _sse_start(self, send: Callable) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream"),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )

    async def _sse(self, send: Callable, payload: dict[str, Any]) -> None:
        await send(
            {
                "type": "http.response.body",
                "body": f"data: {json.dumps(payload)}\n\n".encode(),
                "more_body": True,
            }
        )
