"""create_app(): the FastAPI application with its API, web pages and static files."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import anyio
import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from redis.asyncio import Redis

from draftsmith import __version__
from draftsmith.auth.access import public, router
from draftsmith.auth.live import LiveSessions
from draftsmith.auth.ratelimit import LoginLimiter
from draftsmith.auth.routes import routes as auth_routes
from draftsmith.blogs.routes import generation_routes
from draftsmith.blogs.routes import routes as blog_routes
from draftsmith.config import Settings, get_settings, mask_url
from draftsmith.db import (
    POOL_SIZE,
    RECYCLE_S,
    create_engine,
    install_unavailable_handler,
    read_session_factory,
    session_factory,
)
from draftsmith.documents.extract import warm_up
from draftsmith.documents.routes import routes as document_routes
from draftsmith.documents.storage import remove_user_files
from draftsmith.errors import install_error_handlers
from draftsmith.health import routes as health_routes
from draftsmith.job_kinds import JOB_KINDS
from draftsmith.jobs.service import Jobs
from draftsmith.logs import setup_logging
from draftsmith.metrics import process_exited
from draftsmith.middleware import Gateway
from draftsmith.migrate import current_revision, head_revision
from draftsmith.openapi import install_openapi
from draftsmith.reads import Reads
from draftsmith.sessions.routes import coverage_routes
from draftsmith.sessions.routes import routes as session_routes
from draftsmith.signals import Signals
from draftsmith.web.pages import not_found_page, render
from draftsmith.web.routes import routes as web_routes

log = logging.getLogger("draftsmith")
#: objects allocated (net of those freed) between two collections of the youngest generation
GC_YOUNG_OBJECTS = 7000


class StartupError(RuntimeError):
    """A configured service is unusable; the message says which and why."""


async def connect_redis(url: str) -> Redis:
    client = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        raise StartupError(f"Redis at {mask_url(url)} is unreachable: {exc}") from exc
    return client


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database)
    try:
        revision = await current_revision(engine)
    except Exception as exc:
        await engine.dispose()
        raise StartupError(
            f"The database at {mask_url(settings.database)} is unreachable: {exc}"
        ) from exc
    if revision != head_revision():
        await engine.dispose()
        raise StartupError(
            f"The database is at revision {revision or 'none'}, not {head_revision()}: "
            "run `draftsmith migrate`."
        )
    app.state.engine = engine
    app.state.redis = await connect_redis(settings.redis_url) if settings.redis_url else None
    app.state.signals = Signals(settings.redis_url, settings.database)
    await app.state.signals.listen()
    app.state.sessions = LiveSessions.for_settings(settings, app.state.redis, app.state.signals)
    app.state.db = session_factory(
        engine, live_sessions=app.state.sessions, signals=app.state.signals
    )
    app.state.read_db = read_session_factory(
        engine, live_sessions=app.state.sessions, signals=app.state.signals
    )
    app.state.reads = Reads(engine, POOL_SIZE, RECYCLE_S)
    app.state.login_limiter = LoginLimiter(settings)
    app.state.jobs = Jobs(settings, app.state.db, JOB_KINDS)
    if app.state.jobs.in_process:
        await anyio.to_thread.run_sync(warm_up)  # the extraction worker, before the first upload
    await app.state.jobs.start()
    # What start-up built (modules, schemas, statements) lives as long as the app: out of the
    # collector's sight, a full collection no longer walks its ~200,000 objects (a pause of
    # ~100 ms in the middle of requests). Given back at shutdown (tests start many apps).
    gc.freeze()
    # A young generation of 700 objects (Python's default) filled several times a
    # millisecond under load, and each full collection it led to walked what requests had
    # promoted: 15-25 ms pauses, 7 in 8 s at 1,000 requests/s, most of the p99. With room
    # for what 16 requests in flight hold, it fills only as garbage cycles accumulate.
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_OBJECTS, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        await app.state.jobs.stop()
        await app.state.signals.close()
        if app.state.redis is not None:
            await app.state.redis.aclose()
        await app.state.reads.dispose()
        await engine.dispose()
        process_exited()


docs_routes = router(include_in_schema=False)


@docs_routes.get("/docs")
@public
async def docs(request: Request):
    return render(request, "docs.html")


def serve_app() -> FastAPI:
    """The app of one of several web processes (``serve --workers N``), from the environment."""
    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Draftsmith",
        version=__version__,
        summary="Turn your own documents into a grounded, cited blog post.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # auth deletes accounts; the documents layer (above it) knows where their files are
    app.state.remove_user_files = partial(remove_user_files, settings)
    install_error_handlers(app, not_found_page)
    install_openapi(app)
    install_unavailable_handler(app)
    for routes in (
        health_routes,
        auth_routes,
        document_routes,
        session_routes,
        coverage_routes,
        generation_routes,
        blog_routes,
        web_routes,
        docs_routes,
    ):
        # Into the app's own table, not through include_router: FastAPI (0.165) scans an
        # included router's routes twice per request, ~3 µs a route (~100 µs to reach the
        # blog routes); the app's table is scanned once, ~1.4 µs a route.
        app.router.routes.extend(routes.routes)
    static = Path(__file__).parent / "web" / "static"
    swagger = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI assets, served locally
    app.mount("/static/swagger", StaticFiles(directory=swagger), name="swagger")
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.add_middleware(
        Gateway,
        settings=settings,
        max_bytes=settings.max_json_kb * 1024,
        multipart_max_bytes=settings.max_upload_bytes * 20 + 1024 * 1024,
    )
    return app
