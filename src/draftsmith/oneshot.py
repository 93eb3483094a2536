"""The whole pipeline in one process, without a server (the CLI and the benchmarks):
ingest files, then write a draft from them."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from draftsmith.auth import service as accounts
from draftsmith.auth.models import User
from draftsmith.auth.passwords import hash_password
from draftsmith.blogs import sections
from draftsmith.blogs import service as blogs
from draftsmith.blogs.models import Blog, BlogEvent
from draftsmith.blogs.schemas import BlogOut, OutlineIn
from draftsmith.config import Settings
from draftsmith.db import create_engine, session_factory
from draftsmith.documents import service, storage
from draftsmith.documents.models import Document
from draftsmith.documents.upload import ReceivedFile
from draftsmith.errors import ApiError
from draftsmith.job_kinds import JOB_KINDS
from draftsmith.jobs import runner
from draftsmith.migrate import upgrade
from draftsmith.sessions.models import GenerationSession
from draftsmith.sessions.service import check_language, resolve_engine

LOCAL_EMAIL = "local@draftsmith.invalid"


@dataclass
class IngestResult:
    path: Path
    status: str
    error: str | None
    document_id: str | None
    pages: int | None
    words: int | None
    chunks: int | None
    seconds: float


@asynccontextmanager
async def local_context(settings: Settings):
    """A job context over the settings' database, migrated if it is SQLite."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.database)
    engine = create_engine(settings.database)
    ctx = runner.JobContext(settings, session_factory(engine))
    ctx.register(*JOB_KINDS)
    try:
        yield ctx
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_settings(**overrides):
    """Settings for a throw-away SQLite database and data directory."""
    directory = Path(tempfile.mkdtemp(prefix="draftsmith-"))
    try:
        yield Settings(
            _env_file=None, data_dir=directory, secret_key="local-" + "x" * 40, **overrides
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def local_user_id(ctx: runner.JobContext, email: str | None) -> str:
    async with ctx.db() as db:
        user = await accounts.user_by_email(db, email or LOCAL_EMAIL)
        if user is not None:
            return user.id
        if email:
            raise ApiError(404, "not_found", f"No user with email {email}.")
        user = User(
            email=LOCAL_EMAIL,
            display_name="Local",
            password_hash=await hash_password(secrets.token_urlsafe(24)),
        )
        db.add(user)
        await db.commit()
        return user.id


async def ingest(
    ctx: runner.JobContext,
    user_id: str,
    paths: list[Path],
    on_done: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Store and process the files, as many at once as the server's worker would
    (WORKER_CONCURRENCY); a bad file fails alone. Results keep the input order."""
    slots = asyncio.Semaphore(ctx.settings.worker_concurrency)

    async def one(path: Path) -> IngestResult:
        async with slots:
            result = await _ingest_one(ctx, user_id, path)
        if on_done:
            on_done(result)
        return result

    return list(await asyncio.gather(*(one(path) for path in paths)))


async def _ingest_one(ctx: runner.JobContext, user_id: str, path: Path) -> IngestResult:
    started = time.perf_counter()
    try:
        document = await _store(ctx, user_id, path)
    except ApiError as exc:
        return IngestResult(
            path, "failed", exc.detail, None, None, None, None, time.perf_counter() - started
        )
    await runner.run(ctx, "document", document.id)
    async with ctx.db() as db:
        document = await db.get(Document, document.id)
    return IngestResult(
        path,
        document.status,
        document.error,
        document.id,
        document.page_count,
        document.word_count,
        document.chunk_count,
        time.perf_counter() - started,
    )


async def _store(ctx: runner.JobContext, user_id: str, path: Path) -> Document:
    if not path.is_file():
        raise ApiError(404, "not_found", f"{path} does not exist.")
    if path.stat().st_size > ctx.settings.max_upload_bytes:
        raise ApiError(
            413, "file_too_large", f"{path.name} is larger than {ctx.settings.max_upload_mb} MB."
        )
    handle = tempfile.NamedTemporaryFile(
        dir=storage.tmp_dir(ctx.settings), prefix="ingest-", delete=False
    )
    received = ReceivedFile(Path(handle.name), path.name)
    digest = hashlib.sha256()
    with handle, path.open("rb") as source:  # copy and hash in one read
        for block in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(block)
            handle.write(block)
            received.size += len(block)
    received.sha256 = digest.hexdigest()
    async with ctx.db() as db:
        (stored,) = await service.store_uploads(db, ctx.settings, user_id, [received])
    return stored.document


async def generate_from_files(
    ctx: runner.JobContext,
    user_id: str,
    files: list[Path],
    topic: str,
    *,
    engine: str,
    length: str = "medium",
    allow_thin_sources: bool = False,
    on_ingested: Callable[[IngestResult], None] | None = None,
    on_event: Callable[[str, dict], None] | None = None,
    review_outline: Callable[[dict], OutlineIn | None] | None = None,
    **brief: str | None,
) -> Blog:
    """Ingest the files and write a draft from those that could be read; ``brief`` holds the
    session's optional fields (title, audience, tone, language, instructions). With
    ``review_outline``, the proposed outline goes through it first: it answers the outline
    to write (None: stop there, the blog stays ``outline_ready``)."""
    results = await ingest(ctx, user_id, files, on_ingested)
    ready = [r.document_id for r in results if r.status == "ready"]
    if not ready:
        raise ApiError(
            422, "no_ready_documents", "None of the files could be read; nothing to write from."
        )
    async with ctx.db() as db:
        session = GenerationSession(
            user_id=user_id,
            topic=topic,
            document_ids=ready,
            length=length,
            engine=resolve_engine(ctx.settings, engine),
            allow_thin_sources=allow_thin_sources,
            **brief,
        )
        await check_language(db, session)  # 422 as the API: the extractive engine cannot translate
        db.add(session)
        await db.commit()
        blog = await blogs.start_generation(db, session, review_outline=bool(review_outline))
    await _run_reporting_events(ctx, blog.id, on_event)
    async with ctx.db() as db:
        blog = await db.get(Blog, blog.id)
        if review_outline is None or blog.status != "outline_ready":
            return blog
        approved = review_outline(BlogOut.model_validate(blog).model_dump()["outline"])
        if approved is None:
            return blog
        await sections.replace_outline(db, blog, approved)
        await sections.start_writing(db, blog)
    await _run_reporting_events(ctx, blog.id, on_event, after_outline=True)
    async with ctx.db() as db:
        return await db.get(Blog, blog.id)


async def _run_reporting_events(
    ctx: runner.JobContext,
    blog_id: str,
    on_event: Callable[[str, dict], None] | None,
    after_outline: bool = False,
) -> None:
    """Run the generation here, passing its stored events to ``on_event`` as they appear
    (``after_outline``: only those after the planning run's)."""
    seen = 0
    if after_outline:
        async with ctx.db() as db:
            last = select(func.max(BlogEvent.id)).where(BlogEvent.blog_id == blog_id)
            seen = await db.scalar(last) or 0
    work = asyncio.create_task(runner.run(ctx, "blog", blog_id))
    while True:
        done = work.done()
        async with ctx.db() as db:
            query = select(BlogEvent).where(BlogEvent.blog_id == blog_id, BlogEvent.id > seen)
            fresh = (await db.scalars(query.order_by(BlogEvent.id))).all()
        for event in fresh:
            seen = event.id
            if on_event:
                on_event(event.type, event.data)
        if done:
            break
        await asyncio.sleep(0.1)
    await work
