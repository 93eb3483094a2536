"""What both engines share: turning their sources into a retriever, and turning
their written parts into a finished, verified draft."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from .citations import SourceRegistry, Verification, assemble_markdown, finalize, verify
from .grounding import check
from .retrieval import InMemoryRetriever
from .types import Passage, Retrieve, Sources

# Indexing more passages than this is done off the event loop.
_INLINE_INDEX_LIMIT = 300


async def as_retriever(sources: Sources) -> tuple[Retrieve, list[Passage] | None]:
    """``(retrieve, passages)``: the caller's retriever as it is, or an in-memory
    BM25 index over a plain passage list (``passages`` is then that list)."""
    if callable(sources):
        return sources, None  # type: ignore[return-value]
    passages = list(sources)
    if len(passages) > _INLINE_INDEX_LIMIT:
        return await anyio.to_thread.run_sync(InMemoryRetriever, passages), passages
    return InMemoryRetriever(passages), passages


def join_parts(parts: Sequence[tuple[str | None, str]]) -> str:
    """The body Markdown of ``(heading, markdown)`` parts: a ``##`` line per heading."""
    chunks: list[str] = []
    for heading, md in parts:
        if heading:
            chunks.append(f"## {heading}")
        if md:
            chunks.append(md)
    return "\n\n".join(chunks)


def finish_draft(
    title: str, body: str, registry: SourceRegistry
) -> tuple[Verification, dict[int, str]]:
    """Number the citations of ``body``, add the title and Sources list, verify every
    marker and quote against the passages the registry handed out, and check the
    grounding of every sentence against the passages it cites. Also returns each
    citation's passage text (stored with the draft for later checks)."""
    body, citations = finalize(body, registry)
    markdown = assemble_markdown(title, body, citations)
    used = {p.chunk_id: p for p in registry.passages.values()}
    v = verify(markdown, citations, used)
    texts = {c.n: used[c.chunk_id].text for c in v.citations if c.chunk_id in used}
    v.grounding = check(v.markdown, texts)
    return v, texts
