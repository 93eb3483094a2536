"""The `draftsmith` command."""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from draftsmith.config import ConfigError, Settings, describe, load_settings, mask_url

Length = Literal["short", "medium", "long"]
EngineChoice = Literal["extractive", "llm"]

app = typer.Typer(
    help="Draftsmith: grounded, cited blog posts from your own documents.", no_args_is_help=True
)
user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
# soft_wrap: a message is one line however narrow the terminal (or 80 columns when piped)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"[red]Configuration error:[/] {exc}")
        raise typer.Exit(2) from exc


def _setup_logging(settings: Settings) -> None:
    from draftsmith.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)


def _report_env_file() -> None:
    env_file, _ = describe(load_settings())
    logging.getLogger("draftsmith").info(
        "settings: env file %s",
        env_file if env_file else "(none: no .env in the working directory)",
    )


@app.command(
    help="Run the web app (migrates the embedded database; "
    "runs jobs in-process unless REDIS_URL is set)."
)
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Web processes (more than 1 needs REDIS_URL)")
    ] = 1,
) -> None:
    import uvicorn

    from draftsmith.app import create_app
    from draftsmith.migrate import upgrade

    settings = _settings()
    if workers > 1 and not settings.redis_url:
        err.print(
            f"Cannot start {workers} web processes without DRAFTSMITH_REDIS_URL: login limits, "
            "the token denylist and jobs must be shared between them."
        )
        raise typer.Exit(2)
    _setup_logging(settings)
    _report_env_file()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.database)
    _require_services(settings)
    logging.getLogger("draftsmith").info(
        "Draftsmith on http://%s:%s (database %s)", host, port, mask_url(settings.database)
    )
    # Logging is ours (request ids, LOG_FORMAT); the access log is the app's, with routes.
    options = dict(
        host=host, port=port, log_level=settings.log_level, proxy_headers=False, log_config=None
    )
    if workers > 1:  # each process builds its own app from the environment
        uvicorn.run(
            "draftsmith.app:serve_app", factory=True, workers=workers, access_log=False, **options
        )
    else:
        uvicorn.run(create_app(settings), access_log=False, **options)


def _require_services(settings: Settings) -> None:
    """A configured service that is unreachable stops the process, naming it."""
    from draftsmith.doctor import check_database, check_llm, check_redis

    async def run():
        return [await check(settings) for check in (check_database, check_redis, check_llm)]

    failures = [c for c in asyncio.run(run()) if c is not None and not c.ok]
    for check in failures:
        err.print(f"[red]Cannot start:[/] {check.component}: {check.message}")
    if failures:
        raise typer.Exit(1)


@app.command(
    help="Run queued work from Redis "
    "(start any number, on any machine sharing the database and data directory)."
)
def worker(
    burst: Annotated[bool, typer.Option(help="Exit once the queue is empty")] = False,
) -> None:
    from draftsmith.job_kinds import JOB_KINDS
    from draftsmith.jobs.worker import build_worker

    settings = _settings()
    _setup_logging(settings)
    _report_env_file()
    if not settings.redis_url:
        err.print(
            "[red]DRAFTSMITH_REDIS_URL is not set.[/] "
            "Without Redis, `draftsmith serve` runs jobs itself."
        )
        raise typer.Exit(2)
    _require_services(settings)
    from draftsmith.metrics import process_exited

    logging.getLogger("draftsmith").info(
        "worker ready: %d job slots, services reachable", settings.worker_concurrency
    )
    build_worker(settings, JOB_KINDS, burst=burst).run()
    process_exited()


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to ingest", exists=False)],
    user: Annotated[
        str | None, typer.Option(help="Store into the configured database for this user's email")
    ] = None,
) -> None:
    """Run the document pipeline (extract, chunk, index) in this process and report each file."""
    from draftsmith.oneshot import ingest as run_ingest
    from draftsmith.oneshot import local_context, local_user_id, scratch_settings

    async def main():
        if user:
            settings = _settings()
            async with local_context(settings) as ctx:
                return await _ingest_with_progress(
                    ctx, await local_user_id(ctx, user), files, run_ingest
                )
        async with scratch_settings() as settings, local_context(settings) as ctx:
            return await _ingest_with_progress(
                ctx, await local_user_id(ctx, None), files, run_ingest
            )

    from draftsmith.errors import ApiError

    started = time.perf_counter()
    try:
        results = asyncio.run(main())
    except ApiError as exc:  # e.g. --user names no account
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    wall = time.perf_counter() - started
    table = Table("file", "status", "pages", "words", "chunks", "pages/s", "detail")
    for r in results:
        rate = f"{r.pages / r.seconds:.0f}" if r.pages and r.seconds > 0 else "-"
        colour = "green" if r.status == "ready" else "red"
        table.add_row(
            r.path.name,
            f"[{colour}]{r.status}[/]",
            str(r.pages or "-"),
            str(r.words or "-"),
            str(r.chunks or "-"),
            rate,
            r.error or "",
        )
    console.print(table)
    total_pages = sum(r.pages or 0 for r in results)
    console.print(
        f"{sum(r.status == 'ready' for r in results)}/{len(results)} ready, {total_pages} pages "
        f"in {wall:.1f} s ({total_pages / wall:.0f} pages/s, including start-up)"
    )
    if any(r.status != "ready" for r in results):
        raise typer.Exit(1)


async def _ingest_with_progress(ctx, user_id, files, run_ingest):
    from draftsmith.reporting import Reporter

    with Reporter(err, len(files), "Ingesting") as report:
        return await run_ingest(ctx, user_id, list(files), report.ingested)


GENERATE_HELP = """Ingest the files and write a cited draft, all in this process (no server).

Progress goes to stderr: bars on a terminal, plain lines otherwise.

Example:

    draftsmith generate notes.pdf survey.docx \\
      --topic "Tide pool animals" --audience students \\
      --tone friendly --length short -o post.md
"""


@app.command(help=GENERATE_HELP)
def generate(
    files: Annotated[
        list[Path], typer.Argument(help="Source documents (PDF, DOCX, Markdown, HTML, text)")
    ],
    topic: Annotated[str, typer.Option(help="What the post is about")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the Markdown here (default: stdout)"),
    ] = None,
    title: Annotated[str | None, typer.Option(help="The post's title (default: suggested)")] = None,
    audience: Annotated[str | None, typer.Option(help="Who reads it, e.g. engineers")] = None,
    tone: Annotated[str | None, typer.Option(help="e.g. friendly, professional")] = None,
    length: Annotated[Length, typer.Option(help="About 500, 1,000 or 1,800 words")] = "medium",
    language: Annotated[
        str | None,
        typer.Option(help="Write in this language (the extractive engine cannot translate)"),
    ] = None,
    instructions: Annotated[
        str | None, typer.Option(help="Anything else: points to cover, things to avoid")
    ] = None,
    engine: Annotated[
        EngineChoice | None,
        typer.Option(help="extractive (offline) or llm (needs DRAFTSMITH_LLM_BASE_URL)"),
    ] = None,
    allow_thin_sources: Annotated[
        bool,
        typer.Option(
            "--allow-thin-sources", help="Write even when the files don't cover the topic (warned)"
        ),
    ] = False,
    review_outline: Annotated[
        bool,
        typer.Option(
            help="Show the outline before writing. On a terminal it opens in $EDITOR to edit "
            "(rename, reorder, add or delete sections and points); otherwise it is printed and "
            "written as proposed."
        ),
    ] = False,
) -> None:
    from draftsmith.errors import ApiError

    configured = _settings()
    llm = {k: getattr(configured, k) for k in Settings.model_fields if k.startswith("llm_")}
    brief = {
        "title": title,
        "audience": audience,
        "tone": tone,
        "length": length,
        "language": language,
        "instructions": instructions,
        "allow_thin_sources": allow_thin_sources,
    }
    try:
        blog = asyncio.run(
            _generate_locally(
                list(files),
                topic,
                engine,
                llm,
                brief,
                review=_review_outline if review_outline else None,
            )
        )
    except ApiError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    if blog.status == "outline_ready":
        err.print("Stopped before writing: the outline has no sections.")
        raise typer.Exit(1)
    if blog.status != "ready":
        err.print(f"[red]Generation {blog.status}:[/] {blog.error}")
        raise typer.Exit(1)
    _write_draft(blog, output)


def _review_outline(outline: dict):
    """`--review-outline`: the proposed outline shown on stderr; on a terminal, edited in
    $EDITOR (again until it reads well); elsewhere written as proposed."""
    import click
    from pydantic import ValidationError

    from draftsmith.blogs.outline import OUTLINE_TEXT_HELP, outline_text, parse_outline_text
    from draftsmith.blogs.schemas import OutlineIn

    text = outline_text(outline)
    err.print(text[len(OUTLINE_TEXT_HELP) :], markup=False, highlight=False)  # without the help
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        err.print("(not a terminal: writing this outline as proposed)")
        return OutlineIn.model_validate(outline)
    while True:
        edited = click.edit(text, extension=".md", require_save=False)
        if edited is None:
            edited = text
        try:
            title, sections = parse_outline_text(edited)
            if not sections:
                return None
            return OutlineIn(
                title=title, sections=[{"heading": h, "points": p} for h, p in sections]
            )
        except (ValueError, ValidationError) as exc:
            err.print(f"[red]The outline cannot be used:[/] {exc}")
            if not typer.confirm("Edit it again?", default=True, err=True):
                return None
            text = edited


async def _generate_locally(files, topic, engine, llm, brief, review=None):
    """Ingest ``files`` into a scratch database and generate, showing progress on stderr."""
    from draftsmith.oneshot import (
        generate_from_files,
        local_context,
        local_user_id,
        scratch_settings,
    )
    from draftsmith.reporting import Reporter

    async with scratch_settings(**llm) as settings, local_context(settings) as ctx:
        user_id = await local_user_id(ctx, None)
        with Reporter(err, len(files)) as report:
            return await generate_from_files(
                ctx,
                user_id,
                files,
                topic,
                engine=engine or settings.default_engine,
                on_ingested=report.ingested,
                on_event=report.event,
                review_outline=_paused(report, review) if review else None,
                **brief,
            )


def _paused(report, review):
    """``review`` with the progress display stopped meanwhile (an editor takes the terminal)."""

    def run(outline):
        if report.progress is not None:
            report.progress.stop()
        try:
            return review(outline)
        finally:
            if report.progress is not None:
                report.progress.start()

    return run


def _write_draft(blog, output: Path | None) -> None:
    """The draft to ``output`` (with a one-line summary on stderr) or to stdout."""
    from draftsmith.generation.citations import draft_word_count

    if output:
        output.write_text(blog.markdown, encoding="utf-8")
        err.print(
            f"Wrote {output} ({draft_word_count(blog.markdown)} words, "
            f"{len(blog.citations)} citations, "
            f"grounding {(blog.grounding or {}).get('score', 0):.2f})."
        )
    else:
        console.print(blog.markdown, markup=False, highlight=False)


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from draftsmith.migrate import head_revision, upgrade

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.database)
    except Exception as exc:
        err.print(f"[red]Migration failed[/] on {mask_url(settings.database)}: {exc}")
        raise typer.Exit(1) from exc
    console.print(f"Database {mask_url(settings.database)} is at revision {head_revision()}.")


@app.command("config")
def show_config() -> None:
    """Print every effective setting, its value (secrets masked) and where it came from."""
    settings = _settings()
    env_file, rows = describe(settings)
    console.print(f"Env file: {env_file if env_file else '(none)'}", markup=False, highlight=False)
    if not sys.stdout.isatty():  # piped: whole names and values, one tab-separated line each
        for row in rows:
            print(f"{row.name}\t{row.value}\t{row.source}")
        return
    table = Table("setting", "value", "source")
    for row in rows:
        table.add_row(row.name, row.value, row.source)
    console.print(table)


@app.command()
def doctor() -> None:
    """Check the database, Redis, data directory and LLM endpoint; exit 1 naming what is wrong."""
    from draftsmith.doctor import run_checks

    settings = _settings()
    checks = asyncio.run(run_checks(settings))
    for check in checks:
        mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
        console.print(f"{mark} {check.component}: {check.message}")
    failed = [c.component for c in checks if not c.ok]
    if failed:
        err.print(f"[red]Problems with: {', '.join(failed)}[/]")
        raise typer.Exit(1)


def _read_password(password: str | None) -> str:
    if password is not None:
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        err.print("[red]The passwords do not match.[/]")
        raise typer.Exit(1)
    return first


async def _with_db(settings: Settings, work):
    """Run ``await work(db)``; revocations it commits reach the running server(s)."""
    from redis.asyncio import Redis

    from draftsmith.auth.live import LiveSessions
    from draftsmith.db import create_engine, session_factory
    from draftsmith.signals import Signals

    engine = create_engine(settings.database)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    # without Redis, a PostgreSQL revocation is told to the web processes through NOTIFY
    signals = Signals(None, settings.database) if redis is None else None
    try:
        sessions = LiveSessions.for_settings(settings, redis, signals)
        async with session_factory(engine, live_sessions=sessions)() as db:
            return await work(db)
    finally:
        await engine.dispose()
        if signals is not None:
            await signals.close()
        if redis is not None:
            await redis.aclose()


PasswordOption = Annotated[
    str | None, typer.Option(help="Read from a prompt or stdin when omitted")
]


@user_app.command("create")
def user_create(
    email: str,
    display_name: Annotated[str | None, typer.Option("--name", help="Display name")] = None,
    password: PasswordOption = None,
) -> None:
    """Create an account."""
    from draftsmith.auth import service
    from draftsmith.errors import ApiError

    settings = _settings()
    secret = _read_password(password)
    try:
        user = asyncio.run(
            _with_db(settings, lambda db: service.create_user(db, email, secret, display_name))
        )
    except ApiError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    console.print(f"Created {user.email} ({user.id}).")


def _on_user(email: str, work) -> object:
    """Run ``await work(db, user)`` on the account with this email; one line, exit 1, if none."""
    from draftsmith.auth import service

    settings = _settings()

    async def run(db):
        user = await service.user_by_email(db, email)
        if user is not None:
            await work(db, user)
        return user

    user = asyncio.run(_with_db(settings, run))
    if user is None:
        err.print(f"[red]No user with email {email}.[/]")
        raise typer.Exit(1)
    return user


@user_app.command("set-password")
def user_set_password(
    email: str,
    password: PasswordOption = None,
) -> None:
    """Set a user's password and sign out all of their sessions."""
    from draftsmith.auth import passwords, service

    secret = _read_password(password)
    try:
        passwords.check_policy(secret, email)
    except passwords.WeakPassword as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc

    async def work(db, user):
        await service.set_password(db, user, secret)
        await service.revoke_other_families(db, user.id, None, "password_reset")

    _on_user(email, work)
    console.print(f"Password changed for {email}; their sessions were signed out.")


@user_app.command("list")
def user_list() -> None:
    """Every account: email, name, created, status, live sessions, id (tab-separated when piped)."""
    from draftsmith.auth import service

    users = asyncio.run(_with_db(_settings(), service.list_users))
    rows = [
        (
            user.email,
            user.display_name or "",
            user.created_at.strftime("%Y-%m-%d %H:%M"),
            "disabled" if user.disabled_at else "active",
            str(sessions),
            user.id,
        )
        for user, sessions in users
    ]
    if not sys.stdout.isatty():
        for row in rows:
            print("\t".join(row))
        return
    table = Table("email", "name", "created", "status", "sessions", "id")
    for row in rows:
        table.add_row(*row, style="dim" if row[3] == "disabled" else None)
    console.print(table)
    console.print(f"{len(rows)} account(s).")


@user_app.command("disable")
def user_disable(email: str) -> None:
    """Disable an account: it cannot sign in, and its tokens stop working at once."""
    from draftsmith.auth import service

    _on_user(email, lambda db, user: service.set_disabled(db, user, True))
    console.print(f"Disabled {email}; their sessions were signed out.")


@user_app.command("enable")
def user_enable(email: str) -> None:
    """Enable a disabled account again (the user signs in anew)."""
    from draftsmith.auth import service

    _on_user(email, lambda db, user: service.set_disabled(db, user, False))
    console.print(f"Enabled {email}.")


@user_app.command("delete")
def user_delete(
    email: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete an account and everything it owns (documents, files, sessions, blogs)."""
    from draftsmith.auth import service
    from draftsmith.documents.storage import remove_user_files

    if not yes and not typer.confirm(f"Delete {email} and everything they own?"):
        err.print("Nothing deleted.")
        raise typer.Exit(1)
    settings = _settings()

    async def work(db, user):
        await service.delete_user(db, user.id)
        remove_user_files(settings, user.id)

    _on_user(email, work)
    console.print(f"Deleted {email} and everything they owned.")


if __name__ == "__main__":
    app()
