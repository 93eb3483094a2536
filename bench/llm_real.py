"""The whole LLM flow against any OpenAI-compatible endpoint, once, outside `make test`.

    .venv/bin/python bench/llm_real.py --base-url http://127.0.0.1:8765/v1 --model gemma3-270m

Ingests real documents of the corpus into a scratch database, runs the blog job as the
server would (coverage check, retrieval, outline, sections, introduction and conclusion,
polishing, verification, grounding), and prints the time of each stage and section, the
structured-output mode the endpoint took, how the job ended (the blog's error code and
message if it failed) and the draft's grounding flags. `draftsmith doctor`'s probe runs
first. Nothing here is tuned for a model: it shows what a user would get.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
CORPUS = Path(os.environ.get("DRAFTSMITH_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the endpoint, e.g. http://host/v1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-key", default=os.environ.get("DRAFTSMITH_LLM_API_KEY"))
    parser.add_argument("--topic", default="how pypdf extracts text from PDF pages")
    parser.add_argument(
        "--doc", action="append", default=None, help="a document (repeatable); default: corpus"
    )
    parser.add_argument("--length", default="short", choices=("short", "medium", "long"))
    parser.add_argument("--timeout", type=float, default=180.0, help="LLM read timeout, s")
    parser.add_argument("--budget", type=int, default=3000, help="context budget, tokens")
    parser.add_argument("--concurrency", type=int, default=1)
    return parser.parse_args()


async def run(args: argparse.Namespace) -> None:
    from draftsmith.blogs import events
    from draftsmith.blogs import service as blogs
    from draftsmith.blogs.models import Blog
    from draftsmith.doctor import check_llm
    from draftsmith.generation.llm import structured
    from draftsmith.jobs import runner
    from draftsmith.oneshot import ingest, local_context, local_user_id, scratch_settings
    from draftsmith.sessions.models import GenerationSession

    docs = [Path(d) for d in args.doc] if args.doc else [CORPUS / "md" / "pypdf_extract-text.md"]
    overrides = dict(
        llm_base_url=args.base_url,
        llm_model=args.model,
        llm_api_key=args.api_key,
        llm_timeout_s=args.timeout,
        llm_context_budget_tokens=args.budget,
        llm_concurrency=args.concurrency,
        llm_max_attempts=2,
    )
    seen: list[tuple[float, str, dict]] = []
    publish = events.publish

    async def recording(db, blog_id, session_id, type_, data):
        seen.append((time.perf_counter(), type_, data))
        await publish(db, blog_id, session_id, type_, data)

    events.publish = recording  # the job imports the module, so it publishes through this
    async with scratch_settings(**overrides) as settings, local_context(settings) as ctx:
        print(f"endpoint {args.base_url}, model {args.model}")
        print(
            f"settings: timeout {args.timeout:g} s, context budget {args.budget} tokens, "
            f"concurrency {args.concurrency}, length {args.length}"
        )
        started = time.perf_counter()
        check = await check_llm(settings, probe=True)
        print(
            f"doctor ({time.perf_counter() - started:.1f} s): "
            f"{'ok' if check.ok else 'FAIL'} {check.message}"
        )
        user_id = await local_user_id(ctx, None)
        results = await ingest(ctx, user_id, docs)
        print("documents: " + ", ".join(f"{r.path.name} ({r.status})" for r in results))
        structured.forget_all()  # the job negotiates the mode itself, as a fresh server would
        async with ctx.db() as db:
            session = GenerationSession(
                user_id=user_id,
                topic=args.topic,
                document_ids=[r.document_id for r in results],
                length=args.length,
                engine="llm",
                allow_thin_sources=True,
            )
            db.add(session)
            await db.commit()
            blog = await blogs.start_generation(db, session)
        print(f"topic: {args.topic}")
        started = time.perf_counter()
        await runner.run(ctx, "blog", blog.id)
        total = time.perf_counter() - started
        async with ctx.db() as db:
            blog = await db.get(Blog, blog.id)
    print_stages(seen, started, total)
    print(f"structured-output mode used: {structured.known_mode(args.base_url, args.model)}")
    print(f"result: {blog.status} in {total:.1f} s (attempts {blog.attempts})")
    if blog.status != "ready":
        print(f"error_code: {blog.error_code}\nerror: {blog.error}")
        return
    grounding = blog.grounding or {}
    print(f"title: {blog.title}")
    print(
        f"citations: {len(blog.citations or [])}, grounding score {grounding.get('score')} "
        f"({grounding.get('checked')} sentences checked)"
    )
    for flag in grounding.get("flagged", []):
        print(
            f"  flagged {flag['reason']} {flag['citations']}: {flag['sentence'][:110]!r}"
            + (f" ({flag['detail'][:90]})" if flag.get("detail") else "")
        )
    print("\n--- draft ---\n" + (blog.markdown or ""))


def print_stages(seen: list[tuple[float, str, dict]], started: float, total: float) -> None:
    """When each stage began (from the job's own status events) and each section's time."""
    print("stages (seconds from the job's start):")
    for at, type_, data in seen:
        if type_ == "status":
            print(f"  {at - started:7.1f}  {data.get('stage')}: {data.get('message', '')}")
    first: dict[tuple, float] = {}
    for at, type_, data in seen:
        if type_ != "section":
            continue
        key = (data["index"], data["kind"])
        first.setdefault(key, at)
        if data["final"]:
            print(
                f"  {at - started:7.1f}  {data['kind']} {data['index']} "
                f"({data.get('heading') or ''}) done, streamed for {at - first[key]:.1f} s"
            )
    print(f"  {total:7.1f}  end")


if __name__ == "__main__":
    asyncio.run(run(arguments()))
