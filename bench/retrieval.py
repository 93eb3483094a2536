"""Retrieval over the labelled questions (issue 9): recall@5 and MRR, overall and for lexical
vs paraphrased questions, on tests/data/retrieval_questions.jsonl (the set the retrieval was
tuned on) and tests/data/retrieval_heldout.jsonl (written afterwards, other documents), for
  (a) the in-memory BM25 (`InMemoryRetriever`) over the project's content chunks of the
      extractions (boilerplate chunks left out, as the application does),
  (b) the database search (`documents.search.retrieve`) after ingesting the documents through
      the one-process path (`draftsmith.oneshot`): SQLite FTS5, and PostgreSQL when reachable,
  (c) hybrid (BM25 + embeddings fused by reciprocal rank, `documents.embeddings`) on SQLite
      and PostgreSQL, only when DRAFTSMITH_EMBEDDINGS_BASE_URL (and _MODEL, _API_KEY) name a
      real endpoint (`make bench-embeddings` serves a local model for it).
Every question is searched over the chunks of ALL its set's documents (the others are
distractors). A hit answers when it contains the answer span (offsets, or the whitespace-
normalised text). Needs the corpus (DRAFTSMITH_CORPUS_DIR, default ../shared/corpus).
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests import corpus  # noqa: E402
from tests.labelled import (  # noqa: E402
    answer_spans,
    corpus_path,
    extraction,
    normalize,
    retrieval_heldout,
    retrieval_questions,
)

K = 5
PG_ADMIN = os.environ.get(
    "DRAFTSMITH_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def answers(hit_document: str, start: int, end: int, text: str, question: dict) -> bool:
    if hit_document != question["document"]:
        return False
    spans = answer_spans(extraction(question["document"]).markdown, question["answer"])
    return any(start <= s and e <= end for s, e in spans) or (
        normalize(question["answer"]) in normalize(text)
    )


def rank_of_answer(hits: list[tuple[str, int, int, str]], question: dict) -> int | None:
    for rank, hit in enumerate(hits, 1):
        if answers(*hit, question):
            return rank
    return None


def summary(questions: list[dict], ranks: list[int | None]) -> dict[str, tuple[float, float]]:
    """``{kind: (recall@K, MRR)}`` for "all", "lexical" and "paraphrase"."""
    out = {}
    for kind in ("all", "lexical", "paraphrase"):
        chosen = [r for q, r in zip(questions, ranks, strict=True) if kind in ("all", q["kind"])]
        recall = sum(r is not None and r <= K for r in chosen) / len(chosen)
        mrr = sum(1 / r for r in chosen if r is not None and r <= K) / len(chosen)
        out[kind] = (recall, mrr)
    return out


def report(label: str, questions: list[dict], ranks: list[int | None]) -> None:
    for kind, (recall, mrr) in summary(questions, ranks).items():
        n = sum(kind in ("all", q["kind"]) for q in questions)
        print(f"  {label:<26} {kind:<11} {n:>4} {recall:>10.2f} {mrr:>6.2f}")


def in_memory(names: list[str], questions: list[dict]) -> list[int | None]:
    from draftsmith.documents.chunking import chunk_extraction
    from draftsmith.generation.retrieval import InMemoryRetriever
    from draftsmith.generation.types import Passage

    passages = [
        Passage(f"{name}#{c.ordinal}", name, name, c.page, c.start, c.end, c.text, c.heading)
        for name in names
        for c in chunk_extraction(extraction(name))
        if not c.boilerplate
    ]
    retriever = InMemoryRetriever(passages)
    ranks = []
    for q in questions:
        found = retriever.search(q["question"], K)
        ranks.append(rank_of_answer([(p.document_id, p.start, p.end, p.text) for p in found], q))
    return ranks


async def in_database(names: list[str], questions: list[dict], **settings) -> list[int | None]:
    """Ranks from the database search; hybrid (with embeddings) when the settings name an
    embeddings endpoint, else BM25 alone."""
    from sqlalchemy import select

    from draftsmith.documents import embeddings
    from draftsmith.documents.models import Document
    from draftsmith.migrate import upgrade
    from draftsmith.oneshot import ingest, local_context, local_user_id, scratch_settings

    settings.setdefault("embeddings_base_url", None)
    # a slow local model on a busy machine: a timed-out batch would leave its document
    # searched by words only (this measures quality, not speed)
    settings.setdefault("llm_timeout_s", 600)
    async with scratch_settings(**settings) as config:
        if not config.is_sqlite:
            upgrade(config.database)
        async with local_context(config) as ctx:
            user_id = await local_user_id(ctx, None)
            results = await ingest(ctx, user_id, [corpus_path(n) for n in names])
            name_of = {r.document_id: r.path.name for r in results if r.status == "ready"}
            if embeddings.configured(config):
                async with ctx.db() as db:
                    documents = await db.scalars(
                        select(Document).where(Document.user_id == user_id)
                    )
                    words_only = [
                        d.filename
                        for d in documents
                        if embeddings.UNAVAILABLE in (d.warnings or [])
                    ]
                if words_only:  # the numbers would not measure the hybrid search
                    raise SystemExit(f"embeddings failed at ingest for {', '.join(words_only)}")
            ranks = []
            async with ctx.db() as db:
                for q in questions:
                    hits = await embeddings.hybrid_retrieve(
                        db, config, user_id, q["question"], list(name_of), K
                    )
                    found = [(name_of[h.document_id], h.start, h.end, h.text) for h in hits]
                    ranks.append(rank_of_answer(found, q))
            return ranks


async def postgres_ranks(names: list[str], questions: list[dict], **settings) -> list[int | None]:
    import asyncpg

    plain = PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://")
    name = f"draftsmith_retrieval_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(plain, timeout=5)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    try:
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        return await in_database(names, questions, database_url=url, **settings)
    finally:
        connection = await asyncpg.connect(plain, timeout=5)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


def run_set(title: str, questions: list[dict]) -> None:
    names = sorted({q["document"] for q in questions})
    print(f"{title}: {len(questions)} questions over {len(names)} documents")
    print(f"  {'retriever':<26} {'questions':<11} {'n':>4} {'recall@' + str(K):>10} {'MRR':>6}")
    report("in-memory BM25", questions, in_memory(names, questions))
    report("SQLite FTS5", questions, asyncio.run(in_database(names, questions)))
    try:
        report("PostgreSQL tsvector", questions, asyncio.run(postgres_ranks(names, questions)))
        postgres = True
    except OSError as exc:
        print(f"  PostgreSQL unreachable ({exc}); skipped")
        postgres = False
    endpoint = os.environ.get("DRAFTSMITH_EMBEDDINGS_BASE_URL")
    if not endpoint:
        print("  hybrid: not measured (set DRAFTSMITH_EMBEDDINGS_BASE_URL to a real endpoint)")
        return
    hybrid = asyncio.run(in_database(names, questions, embeddings_base_url=endpoint))
    report("SQLite hybrid (embeddings)", questions, hybrid)
    if postgres:
        hybrid = asyncio.run(postgres_ranks(names, questions, embeddings_base_url=endpoint))
        report("PostgreSQL hybrid", questions, hybrid)


def main() -> None:
    if not corpus.AVAILABLE:
        print(f"bench/retrieval.py: no corpus at {corpus.CORPUS} (set {corpus.ENV}); skipped.")
        return
    run_set("Retrieval, labelled set", retrieval_questions())
    run_set("Retrieval, held-out set", retrieval_heldout())


if __name__ == "__main__":
    main()
