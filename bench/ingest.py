"""Ingestion benchmark over ../shared/corpus (run with `make bench`).

Prints, in one run:
- the whole pipeline (store, extract, chunk, index, commit) in pages/s and MB/s
  against raw pypdfium2 text extraction of the same PDFs (the baseline), and
  markitdown when it is installed;
- chunking alone, to show it is not the bottleneck;
- BM25 retrieval latency over 100k chunks (SQLite FTS5, and PostgreSQL when reachable);
- peak RSS, and the server's RSS growth while a 100 MB file is uploaded through the API.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]
CORPUS = Path(os.environ.get("DRAFTSMITH_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
TARGET_RATIO = 0.7
WORKERS = 2  # the default WORKER_CONCURRENCY of `draftsmith serve`


def corpus_files() -> list[Path]:
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix in {".pdf", ".docx", ".html", ".md"}
    )


def raw_pypdfium2(pdfs: list[Path]) -> tuple[int, float]:
    import pypdfium2 as pdfium

    pages = 0
    started = time.perf_counter()
    for path in pdfs:
        try:
            document = pdfium.PdfDocument(path)
        except Exception:
            continue
        try:
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                textpage.get_text_range()
                textpage.close()
                page.close()
                pages += 1
        finally:
            document.close()
    return pages, time.perf_counter() - started


def markitdown_reference(pdfs: list[Path]) -> tuple[int, float] | None:
    try:
        from markitdown import MarkItDown
    except ImportError:
        return None
    converter = MarkItDown()
    started = time.perf_counter()
    pages = 0
    for path in pdfs:
        try:
            converter.convert(str(path))
            import pypdfium2 as pdfium

            pages += len(pdfium.PdfDocument(path))
        except Exception:
            continue
    return pages, time.perf_counter() - started


async def pipeline(files: list[Path]):
    from draftsmith.documents.extract import warm_up
    from draftsmith.oneshot import ingest, local_context, local_user_id, scratch_settings

    warm_up()
    async with (
        scratch_settings(max_upload_mb=100, worker_concurrency=WORKERS) as settings,
        local_context(settings) as ctx,
    ):
        user_id = await local_user_id(ctx, None)
        started = time.perf_counter()
        results = await ingest(ctx, user_id, files)
        return results, time.perf_counter() - started


def chunking_alone(files: list[Path]) -> tuple[int, float]:
    from draftsmith.documents.chunking import chunk_extraction
    from draftsmith.documents.extract import ExtractionError, extract

    extractions = []
    for path in files:
        kind = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".md": "markdown"}[path.suffix]
        try:
            extractions.append(extract(path, kind))
        except ExtractionError:
            continue
    words = sum(e.word_count for e in extractions)
    started = time.perf_counter()
    for extraction in extractions:
        chunk_extraction(extraction)
    return words, time.perf_counter() - started


async def retrieval(url: str, label: str, chunks: int = 100_000) -> None:
    from sqlalchemy import insert, text

    from draftsmith.auth.models import User
    from draftsmith.db import create_engine, session_factory
    from draftsmith.documents import search
    from draftsmith.documents.models import ChunkRow, Document
    from draftsmith.migrate import upgrade

    upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(20_000)] + ["owl", "river", "harvest", "ledger", "quantum"]
    try:
        async with sessions() as db:
            user = User(email=f"bench{rng.random()}@example.com", password_hash="x")
            db.add(user)
            await db.flush()
            docs = [
                Document(
                    user_id=user.id,
                    filename=f"d{i}",
                    content_type="text/plain",
                    kind="text",
                    size_bytes=1,
                    sha256="0",
                    storage_key=f"k{i}",
                    status="ready",
                    attempts=0,
                    chunk_count=chunks // 100,
                    word_count=chunks // 100 * 200,
                )
                for i in range(100)
            ]
            db.add_all(docs)
            await db.flush()
            started = time.perf_counter()
            batch = []
            for n in range(chunks):
                words = rng.choices(vocabulary, k=200)
                batch.append(
                    {
                        "document_id": docs[n % 100].id,
                        "user_id": user.id,
                        "ordinal": n // 100,
                        "text": " ".join(words),
                        "page": None,
                        "heading": None,
                        "start": 0,
                        "end": 1,
                        "word_count": 200,
                    }
                )
                if len(batch) == 5000:
                    await db.execute(insert(ChunkRow), batch)
                    batch = []
            await db.commit()
            load_s = time.perf_counter() - started
            if not url.startswith("sqlite"):
                await db.execute(text("ANALYZE chunks"))
            selected = [d.id for d in docs[:20]]
            timings = []
            for query in [
                "owl river harvest",
                "quantum ledger",
                "w17 w250 owl",
                "w9 w10 w11 w12",
            ] * 3:
                started = time.perf_counter()
                hits = await search.retrieve(db, user.id, query, selected, k=8)
                timings.append(time.perf_counter() - started)
                assert hits, query
            timings.sort()
            print(
                f"  {label:<10} {chunks:,} chunks loaded in {load_s:.1f} s; "
                f"top-8 over 20 documents: median {timings[len(timings) // 2] * 1000:.0f} ms, "
                f"worst {timings[-1] * 1000:.0f} ms"
            )
    finally:
        await engine.dispose()


def upload_rss(size_mb: int = 100) -> tuple[float, float]:
    """RSS of a real server process before and at peak while `size_mb` are uploaded."""
    from served import served

    with served(max_upload_mb=str(size_mb * 2)) as server:
        process = psutil.Process(server.pid)
        before = process.memory_info().rss
        peak = before
        line = b"The quick brown fox jumps over the lazy dog; a ledger of harvests by the river.\n"
        boundary = "benchboundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        block = line * (1024 * 1024 // len(line))

        def body():
            nonlocal peak
            yield head
            sent = 0
            while sent < size_mb * 1024 * 1024:
                yield block
                sent += len(block)
                if sent % (8 * 1024 * 1024) < len(block):
                    peak = max(peak, process.memory_info().rss)
            yield tail

        response = server.client.post(
            "/api/v1/documents/upload",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        peak = max(peak, process.memory_info().rss)
        assert response.status_code == 202, response.text
    return before / 2**20, peak / 2**20


def main() -> None:
    files = corpus_files()
    if not files:
        raise SystemExit(f"No corpus at {CORPUS}")
    pdfs = [p for p in files if p.suffix == ".pdf"]
    print(
        f"Corpus: {len(files)} files ({len(pdfs)} PDFs, "
        f"{sum(p.stat().st_size for p in files) / 2**20:.1f} MB) in {CORPUS}"
    )

    raw_pages, raw_s = raw_pypdfium2(pdfs)
    raw_rate = raw_pages / raw_s
    print(
        f"\nBaseline, raw pypdfium2 text of the PDFs: {raw_pages} pages in {raw_s:.2f} s = "
        f"{raw_rate:.0f} pages/s"
    )

    pdf_results, pdf_s = asyncio.run(pipeline(pdfs))
    pdf_pages = sum(r.pages or 0 for r in pdf_results)
    pdf_mb = sum(r.path.stat().st_size for r in pdf_results) / 2**20
    ratio = (pdf_pages / pdf_s) / raw_rate
    results, total_s = asyncio.run(pipeline(files))
    all_mb = sum(r.path.stat().st_size for r in results) / 2**20
    print(
        "Pipeline, PDFs (store, extract, chunk, index, commit; "
        f"{WORKERS} at a time as in `serve`): "
        f"{pdf_pages} pages in {pdf_s:.2f} s = "
        f"{pdf_pages / pdf_s:.0f} pages/s, {pdf_mb / pdf_s:.1f} MB/s -> {ratio:.2f}x raw pypdfium2 "
        f"(target >= {TARGET_RATIO}x: {'met' if ratio >= TARGET_RATIO else 'NOT MET'})"
    )
    print(
        f"Pipeline, whole corpus: {len(results)} files, {all_mb:.1f} MB in {total_s:.2f} s = "
        f"{all_mb / total_s:.1f} MB/s; "
        f"{sum(r.status == 'ready' for r in results)} ready, "
        f"{sum(r.status == 'failed' for r in results)} failed"
    )
    for r in results:
        if r.status != "ready":
            print(f"  failed: {r.path.relative_to(CORPUS)}: {r.error}")

    reference = markitdown_reference(pdfs)
    if reference:
        print(f"markitdown reference: {reference[0] / reference[1]:.1f} pages/s")
    else:
        print("markitdown reference: not installed (skipped)")

    words, chunk_s = chunking_alone(files)
    print(
        f"\nChunking alone: {words:,} words in {chunk_s * 1000:.0f} ms "
        f"= {words / chunk_s / 1e6:.1f} M words/s "
        f"({chunk_s / total_s * 100:.1f}% of the pipeline time)"
    )

    print("\nRetrieval (BM25):")
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(retrieval(f"sqlite+aiosqlite:///{directory}/bench.db", "SQLite"))
    pg = os.environ.get("DRAFTSMITH_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    try:
        asyncio.run(_with_pg_database(pg))
    except OSError as exc:
        print(f"  PostgreSQL unreachable ({exc}); skipped")

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak RSS of this benchmark process: {peak_rss:.0f} MB")
    before, peak = upload_rss(100)
    growth = peak - before
    print(
        f"100 MB upload through the API: server RSS {before:.0f} MB -> peak {peak:.0f} MB, "
        f"growth {growth:.1f} MB "
        f"(target < 30 MB: {'met' if growth < 30 else 'NOT MET'})"
    )


async def _with_pg_database(admin_url: str) -> None:
    import asyncpg

    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"draftsmith_bench_{os.getpid()}"
    connection = await asyncpg.connect(plain, timeout=5)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    try:
        await retrieval(admin_url.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL")
    finally:
        connection = await asyncpg.connect(plain, timeout=5)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


if __name__ == "__main__":
    main()
