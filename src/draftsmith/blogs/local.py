"""The whole pipeline in one process: ingest files and write a draft (no server)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from draftsmith.blogs.models import Blog, BlogEvent
from draftsmith.documents.local import IngestResult, ingest
from draftsmith.errors import ApiError
from draftsmith.jobs import runner
from draftsmith.sessions import service as sessions
from draftsmith.sessions.models import GenerationSession


async def generate_from_files(
    ctx: runner.JobContext,
    user_id: str,
    files: list[Path],
    topic: str,
    *,
    engine: str,
    length: str = "medium",
    on_ingested: Callable[[IngestResult], None] | None = None,
    on_event: Callable[[str, dict], None] | None = None,
) -> Blog:
    results = await ingest(ctx, user_id, files, on_ingested)
    ready = [r.document_id for r in results if r.status == "ready"]
    if not ready:
        raise ApiError(422, "no_ready_documents", "None of the files could be read; nothing to write from.")
    async with ctx.sessions() as db:
        session = GenerationSession(
            user_id=user_id, topic=topic, document_ids=ready, length=length,
            engine=sessions.resolve_engine(ctx.settings, engine),
        )
        db.add(session)
        await db.commit()
        blog = await sessions.start_generation(db, session)
    work = asyncio.create_task(runner.run(ctx, "blog", blog.id))
    seen = 0
    while True:
        done = work.done()
        async with ctx.sessions() as db:
            fresh = (await db.scalars(
                select(BlogEvent).where(BlogEvent.blog_id == blog.id, BlogEvent.id > seen).order_by(BlogEvent.id)
            )).all()
        for event in fresh:
            seen = event.id
            if on_event:
                on_event(event.type, event.data)
        if done:
            break
        await asyncio.sleep(0.1)
    await work
    async with ctx.sessions() as db:
        return await db.get(Blog, blog.id)
