"""Isolation: a runaway/hostile extraction fails alone; the caller carries on."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from draftsmith.documents.extract import Extraction, ExtractionError, extract, extract_isolated
from draftsmith.documents.extract._isolation import configure, pool, run_isolated
from tests.corpus import CORPUS
from tests.documents import worker_ops
from tests.documents.worker_ops import ALLOCATE, CRASH, PID, SLEEP
from tests.fixtures.make import LONG_PAGES, fixture_path


@pytest.fixture(autouse=True)
def _test_operations_allowed():
    """The pool runs this module's operations by reference; the app's pool allows none."""
    configure(allowed_ops=worker_ops.ALL)
    yield
    configure()


def _small_doc(tmp_path: Path) -> Path:
    p = tmp_path / "ok.md"
    p.write_text("# Still alive\n\nThe parent process carries on.\n")
    return p


def test_time_limit_kills_the_task_and_the_caller_continues(tmp_path: Path):
    t0 = time.monotonic()
    with pytest.raises(ExtractionError) as ei:
        run_isolated(SLEEP, (30,), timeout_s=1.0, memory_mb=256)
    assert time.monotonic() - t0 < 10
    assert "took too long" in str(ei.value)
    # the next task works (a fresh worker replaces the killed one)
    ex = extract_isolated(_small_doc(tmp_path), "markdown", "utf-8")
    assert ex.sections[0].heading == "Still alive"


@pytest.mark.parametrize(
    "big,small,pages",
    [
        pytest.param(fixture_path("long.pdf"), fixture_path("report.pdf"), 8, id="generated"),
        pytest.param(
            CORPUS / "pdf" / "un_DA-619p.pdf",
            CORPUS / "pdf" / "pm_dmca.pdf",
            18,
            marks=pytest.mark.corpus,
            id="corpus",
        ),
    ],
)
def test_real_document_over_its_time_limit(big: Path, small: Path, pages: int):
    with pytest.raises(ExtractionError) as ei:
        extract_isolated(big, "pdf", timeout_s=0.02)
    assert "took too long" in str(ei.value)
    ex = extract_isolated(small, "pdf")
    assert ex.page_count == pages


def test_memory_limit(tmp_path: Path):
    with pytest.raises(ExtractionError) as ei:
        run_isolated(ALLOCATE, (4096,), timeout_s=30, memory_mb=256)
    assert "too much memory" in str(ei.value)
    assert run_isolated(ALLOCATE, (16,), timeout_s=30, memory_mb=256) == 16 * 1024 * 1024
    assert isinstance(extract_isolated(_small_doc(tmp_path), "markdown", "utf-8"), Extraction)


def test_worker_crash_is_an_extraction_error(tmp_path: Path):
    with pytest.raises(ExtractionError) as ei:
        run_isolated(CRASH, (), timeout_s=30, memory_mb=256)
    assert "crashed" in str(ei.value)
    assert isinstance(extract_isolated(_small_doc(tmp_path), "markdown", "utf-8"), Extraction)


@pytest.mark.parametrize("op", [PID, "os:getpid", "_ping"])
def test_the_app_pool_runs_only_the_extraction_operations(tmp_path: Path, op: str):
    configure()  # as the app configures it
    with pytest.raises(ExtractionError) as ei:
        run_isolated(op, (), timeout_s=30, memory_mb=None)
    assert "unknown worker operation" in str(ei.value)
    assert isinstance(extract_isolated(_small_doc(tmp_path), "markdown", "utf-8"), Extraction)


def test_errors_cross_the_boundary_with_their_message(tmp_path: Path):
    p = tmp_path / "x.pdf"
    p.write_bytes(b"%PDF-1.4\n" + b"garbage " * 100)
    with pytest.raises(ExtractionError) as a:
        extract(p, "pdf")
    with pytest.raises(ExtractionError) as b:
        extract_isolated(p, "pdf")
    assert str(a.value) == str(b.value)


def test_workers_are_reused(tmp_path: Path):
    doc = _small_doc(tmp_path)
    extract_isolated(doc, "markdown", "utf-8")
    pid1 = run_isolated(PID, (), timeout_s=10, memory_mb=None)
    for _ in range(5):
        extract_isolated(doc, "markdown", "utf-8")
    assert run_isolated(PID, (), timeout_s=10, memory_mb=None) == pid1


def test_concurrent_callers(tmp_path: Path):
    doc = _small_doc(tmp_path)
    results: list = []
    errors: list = []

    def work(i: int):
        try:
            if i == 0:
                try:
                    run_isolated(SLEEP, (30,), timeout_s=0.5, memory_mb=None)
                except ExtractionError as exc:
                    results.append(str(exc))
            else:
                results.append(extract_isolated(doc, "markdown", "utf-8").word_count)
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(map(str, results)).count("7") == 5
    assert any("took too long" in str(r) for r in results)
    assert len(pool()._all) <= pool().max_workers


def test_worker_start_failure_is_a_distinct_extraction_error(tmp_path: Path, monkeypatch):
    from draftsmith.documents.extract import ExtractorUnavailable, _isolation

    def broken(self, *args, **kwargs):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(_isolation._Worker, "__init__", broken)
    fresh = _isolation.WorkerPool(max_workers=1, allowed_ops=[PID])
    with pytest.raises(ExtractorUnavailable) as ei:
        fresh.run(PID, (), timeout_s=5, memory_mb=None)
    assert isinstance(ei.value, ExtractionError)
    assert "try again later" in str(ei.value)
    # the semaphore was released: the pool is not wedged
    monkeypatch.undo()
    assert isinstance(fresh.run(PID, (), timeout_s=30, memory_mb=None), int)
    fresh.shutdown()


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(fixture_path("long.pdf"), id="generated"),
        pytest.param(
            CORPUS / "pdf" / "sf_GeoTopo-komprimiert.pdf", marks=pytest.mark.corpus, id="corpus"
        ),  # 117 pages
    ],
)
def test_configure_workers_sets_the_pool_size(path: Path):
    from draftsmith.documents.extract import configure_workers

    try:
        configure_workers(max_workers=1)
        assert pool().max_workers == 1
        isolated = extract_isolated(path, "pdf")
    finally:
        configure_workers()
    assert pool().max_workers == (os.cpu_count() or 1)
    assert isolated == extract(path, "pdf")


@pytest.mark.parametrize(
    ("name", "min_bytes", "ops"),
    [
        ("long.pdf", 0, ["pdf_half", "pdf_half"]),  # LONG_PAGES: two workers
        ("report.pdf", 0, ["pdf_half", "pdf_half", "extract"]),  # too few pages to split
        ("long.pdf", 1 << 40, ["extract"]),  # below the size worth trying
    ],
)
def test_long_pdfs_are_read_in_halves_by_two_workers(monkeypatch, name, min_bytes, ops):
    import draftsmith.documents.extract as extract_package
    from draftsmith.documents.extract import _isolation
    from draftsmith.documents.extract.pdf import SPLIT_MIN_PAGES

    assert LONG_PAGES >= SPLIT_MIN_PAGES
    sent, run = [], _isolation.run_isolated

    def spy(op, args, **limits):
        sent.append(op)
        return run(op, args, **limits)

    monkeypatch.setattr(extract_package, "SPLIT_MIN_BYTES", min_bytes)
    monkeypatch.setattr(_isolation, "run_isolated", spy)
    path = fixture_path(name)
    assert extract_isolated(path, "pdf") == extract(path, "pdf")
    assert sorted(sent) == sorted(ops)
