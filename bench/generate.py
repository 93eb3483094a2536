"""Generation benchmark (run with `make bench`).

Prints, in one run:
- extractive generation time against the total words of the selected sources (10k → 1M);
- the LLM pipeline's wall time against its critical path on the same loopback server with
  a fixed per-call latency: each call replayed alone, then the outline + the slowest body
  section of each concurrent batch + the slower of introduction and conclusion + the
  polishing pass (target ≤ 1.15×), and the sequential time (every call one after another)
  that the concurrent writing replaces;
- the time from `POST /sessions/{id}/generate` to the first server-sent event (target < 300 ms).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]
CORPUS = Path(os.environ.get("DRAFTSMITH_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
TOPIC = "how text is extracted from PDF documents and what goes wrong"


def source_text() -> list[str]:
    """Paragraphs of real prose from the corpus (Markdown files and a few text PDFs)."""
    import pypdfium2 as pdfium

    paragraphs = []
    for path in sorted((CORPUS / "md").glob("*.md")):
        paragraphs += [p for p in path.read_text().split("\n\n") if len(p.split()) > 12]
    for name in (
        "pm_naacl06-shinyama.pdf",
        "un_multi-column.pdf",
        "un_fr_olap.pdf",
        "pm_i1040nr.pdf",
    ):
        document = pdfium.PdfDocument(CORPUS / "pdf" / name)
        for page in document:
            text = page.get_textpage().get_text_range().replace("\r\n", "\n")
            paragraphs += [p.replace("\n", " ") for p in text.split("\n\n") if len(p.split()) > 12]
        document.close()
    return paragraphs


def write_sources(directory: Path, paragraphs: list[str], words: int) -> list[Path]:
    """Markdown files totalling about `words` words (the corpus repeated, as separate documents)."""
    files, total, index = [], 0, 0
    while total < words:
        chunk, chunk_words = [], 0
        while chunk_words < min(50_000, words - total):
            paragraph = paragraphs[index % len(paragraphs)]
            index += 1
            chunk.append(paragraph)
            chunk_words += len(paragraph.split())
        path = directory / f"source-{len(files):03d}.md"
        path.write_text(f"# Source {len(files)}\n\n" + "\n\n".join(chunk))
        files.append(path)
        total += chunk_words
    return files


async def extractive_scaling(paragraphs: list[str]) -> None:
    from draftsmith.oneshot import (
        generate_from_files,
        local_context,
        local_user_id,
        scratch_settings,
    )

    print("Extractive generation (long draft) against the selected sources:")
    print(
        f"  {'source words':>12} {'documents':>9} {'ingest s':>9} {'generate s':>10} "
        f"{'draft words':>11} {'citations':>9}"
    )
    for words in (10_000, 100_000, 1_000_000):
        with tempfile.TemporaryDirectory() as directory:
            files = write_sources(Path(directory), paragraphs, words)
            async with (
                scratch_settings(max_upload_mb=100) as settings,
                local_context(settings) as ctx,
            ):
                user_id = await local_user_id(ctx, None)
                timings: dict[str, float] = {}
                started = time.perf_counter()

                def ingested(_result, started=started, timings=timings):
                    timings["ingest"] = time.perf_counter() - started

                blog = await generate_from_files(
                    ctx,
                    user_id,
                    files,
                    TOPIC,
                    engine="extractive",
                    length="long",
                    on_ingested=ingested,
                )
                total = time.perf_counter() - started
                assert blog.status == "ready", blog.error
                body = blog.markdown.split("## Sources")[0]
                print(
                    f"  {words:>12,} {len(files):>9} {timings['ingest']:>9.2f} "
                    f"{total - timings['ingest']:>10.2f} "
                    f"{len(body.split()):>11} {len(blog.citations):>9}"
                )


def llm_overhead(latency: float, concurrency: int = 3) -> None:
    """The fake server runs in its own process, as a real endpoint would: sharing this
    process's GIL would charge its streaming work to the pipeline."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_fake_server, args=(latency, theirs), daemon=True)
    server.start()
    try:
        base_url = ours.recv()

        def forget_requests() -> None:
            """Drop the warm-up's requests from the server's record (replay the measured run)."""
            ours.send("forget")
            ours.recv()

        wall = asyncio.run(_llm_generation(base_url, forget_requests, concurrency))
        ours.send("requests")
        calls = ours.recv()
        timed = [
            (kind, seconds)
            for (kind, _), seconds in zip(calls, replay(base_url, calls), strict=True)
        ]
    finally:
        ours.send("stop")
        server.join(timeout=20)
    sequential = sum(seconds for _, seconds in timed)
    path = critical_path(timed, concurrency)
    kinds = [kind for kind, _ in timed]
    print(
        f"\nLLM pipeline against a loopback server with {latency * 1000:.0f} ms per call "
        f"(concurrency {concurrency}): {len(timed)} calls "
        f"({kinds.count('section')} body sections), wall {wall:.2f} s vs critical path "
        f"{path:.2f} s -> {wall / path:.2f}x (target <= 1.15x: "
        f"{'met' if wall / path <= 1.15 else 'NOT MET'}); the same calls one after another "
        f"take {sequential:.2f} s ({sequential / wall:.1f}x the wall time)"
    )


def critical_path(timed: list[tuple[str, float]], concurrency: int) -> float:
    """The time of the calls that must follow each other: outlining, each batch's slowest
    body section, the slower of introduction and conclusion, polishing."""
    of = lambda kind: [s for k, s in timed if k == kind]  # noqa: E731
    sections = of("section")
    batches = [sections[i : i + concurrency] for i in range(0, len(sections), concurrency)]
    lead = of("introduction") + of("conclusion")
    return (
        sum(of("outline"))
        + sum(max(batch) for batch in batches)
        + (max(lead) if lead else 0.0)
        + sum(of("polish"))
    )


def _fake_server(latency: float, conn) -> None:
    from tests.fakes.openai_server import FakeOpenAIServer

    server = FakeOpenAIServer(latency=latency).start()
    conn.send(server.base_url)
    while conn.recv() == "forget":
        server.requests.clear()
        conn.send("ok")
    calls = sorted(server.chat_requests, key=lambda request: request.at)
    conn.send([(request.kind, request.body) for request in calls])
    conn.recv()
    server.stop()


async def _llm_generation(base_url: str, forget_requests, concurrency: int) -> float:
    from draftsmith.oneshot import ingest, local_context, local_user_id, scratch_settings

    async with (
        scratch_settings(
            llm_base_url=base_url, llm_api_key="bench", llm_concurrency=concurrency
        ) as settings,
        local_context(settings) as ctx,
    ):
        user_id = await local_user_id(ctx, None)
        files = [CORPUS / "md" / "pypdf_extract-text.md", CORPUS / "md" / "docling_faq.md"]
        results = await ingest(ctx, user_id, files)
        documents = [r.document_id for r in results]
        # A first generation warms the process (the SDK builds its response models on first
        # use), as a running server's first generation would; the second one is measured.
        await _generate_on(ctx, user_id, documents)
        forget_requests()
        started = time.perf_counter()
        blog = await _generate_on(ctx, user_id, documents)
        wall = time.perf_counter() - started
        assert blog.status == "ready", blog.error
        return wall


def replay(base_url: str, calls: list[tuple[str, dict]]) -> list[float]:
    """The same requests sent one by one, straight to the server: the raw cost of each call."""
    out = []
    with httpx.Client(timeout=60) as client:
        for _, body in calls:
            started = time.perf_counter()
            with client.stream(
                "POST",
                base_url + "/chat/completions",
                json=body,
                headers={"Authorization": "Bearer bench"},
            ) as response:
                for _ in response.iter_bytes():
                    pass
            out.append(time.perf_counter() - started)
    return out


async def _generate_on(ctx, user_id, document_ids):
    from draftsmith.blogs import service as blogs
    from draftsmith.blogs.models import Blog
    from draftsmith.jobs import runner
    from draftsmith.sessions.models import GenerationSession

    async with ctx.db() as db:
        session = GenerationSession(
            user_id=user_id, topic=TOPIC, document_ids=document_ids, length="medium", engine="llm"
        )
        db.add(session)
        await db.commit()
        blog = await blogs.start_generation(db, session)
    await asyncio.wait_for(runner.run(ctx, "blog", blog.id), timeout=600)
    async with ctx.db() as db:
        return await db.get(Blog, blog.id)


def first_event_latency(rounds: int = 5) -> None:
    from served import served

    with served() as server:
        client = server.client
        path = CORPUS / "md" / "docling_faq.md"
        doc = client.post(
            "/api/v1/documents/upload", files=[("files", (path.name, path.read_bytes()))]
        ).json()["documents"][0]
        while client.get(f"/api/v1/documents/{doc['id']}").json()["status"] != "ready":
            time.sleep(0.1)
        session = client.post(
            "/api/v1/sessions",
            json={"topic": "docling questions", "document_ids": [doc["id"]], "length": "short"},
        ).json()
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            blog_id = client.post(f"/api/v1/sessions/{session['id']}/generate").json()["blog_id"]
            with client.stream(
                "GET", f"/api/v1/sessions/{session['id']}/events", params={"blog_id": blog_id}
            ) as response:
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        samples.append(time.perf_counter() - started)
                        break
            while client.get(f"/api/v1/blogs/{blog_id}").json()["status"] in (
                "queued",
                "generating",
            ):
                time.sleep(0.05)
    samples.sort()
    median = samples[len(samples) // 2] * 1000
    print(
        f"\nGenerate → first event over HTTP: median {median:.0f} ms, "
        f"worst {samples[-1] * 1000:.0f} ms "
        f"(target < 300 ms: {'met' if samples[-1] * 1000 < 300 else 'NOT MET'})"
    )


def main() -> None:
    only_llm = "--llm" in sys.argv[1:]  # just the LLM pipeline's parallel writing
    if not only_llm:
        asyncio.run(extractive_scaling(source_text()))
    for latency in (0.25, 1.0):
        llm_overhead(latency)
    if not only_llm:
        first_event_latency()


if __name__ == "__main__":
    main()
