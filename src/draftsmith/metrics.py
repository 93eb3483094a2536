"""Prometheus metrics of every process (web and worker), and their exposition.

With ``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts), prometheus-client
keeps each process's values in files there and ``/metrics`` of any web process
reports the sum over all processes sharing that directory; see the README.
No metric has a user label.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter(
    "draftsmith_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "draftsmith_http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of the response)",
    ["method", "route"],
)
JOBS_QUEUED = Counter("draftsmith_jobs_queued", "Jobs handed to the queue", ["kind"])
JOBS_STARTED = Counter("draftsmith_jobs_started", "Jobs claimed by a runner", ["kind"])
JOBS_RUNNING = Gauge(
    "draftsmith_jobs_running", "Jobs running now", ["kind"], multiprocess_mode="livesum"
)
JOBS_FAILED = Counter("draftsmith_jobs_failed", "Jobs marked failed", ["kind"])
JOB_DURATION = Histogram(
    "draftsmith_job_duration_seconds",
    "Time a runner spent on one job",
    ["kind", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
LLM_DURATION = Histogram(
    "draftsmith_llm_request_duration_seconds",
    "Time of one LLM call (all its SDK retries)",
    ["outcome"],
    buckets=(0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120),
)
LLM_ERRORS = Counter("draftsmith_llm_errors", "LLM calls that failed", ["reason"])
EXTRACTED_PAGES = Counter("draftsmith_extracted_pages", "Pages of documents extracted")


def exposition() -> tuple[bytes, str]:
    """The text format over this process, or over all processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited() -> None:
    """Drop this process's live gauges from the shared directory (on a clean exit)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())
