"""Liveness and readiness probes (public) and the Prometheus metrics (token-protected)."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from draftsmith import metrics
from draftsmith.auth.access import public, router
from draftsmith.errors import NotFound
from draftsmith.migrate import current_revision, head_revision

routes = router(tags=["health"])


@routes.get("/healthz")
@public
async def healthz() -> dict[str, str]:
    """Liveness: the process answers.

    Always `{"status": "ok"}`; it checks nothing else (see `/readyz`)."""
    return {"status": "ok"}


READINESS = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]},
        "components": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["status", "components"],
}


@routes.get(
    "/readyz",
    responses={
        200: {"content": {"application/json": {"schema": READINESS}}},
        503: {
            "description": "A component is not ready",
            "content": {"application/json": {"schema": READINESS}},
        },
    },
)
@public
async def readyz(request: Request) -> JSONResponse:
    """Readiness: can the app serve?

    Whether the database (migrated) and Redis (when configured) answer: 200 when every
    component is `ok`, else 503 naming the one that is not."""
    state = request.app.state
    components: dict[str, str] = {}
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        revision = await current_revision(state.engine)
        components["database"] = "ok" if revision == head_revision() else "not migrated"
    except Exception as exc:  # report, never raise: this is a probe
        components["database"] = f"unreachable: {type(exc).__name__}"
    if state.redis is not None:
        try:
            await state.redis.ping()
            components["redis"] = "ok"
        except Exception as exc:
            components["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(value == "ok" for value in components.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "components": components},
        status_code=200 if ready else 503,
    )


@routes.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        401: {"description": "`DRAFTSMITH_METRICS_TOKEN` is set and was not sent as the bearer"},
        404: {"description": "Metrics are off (`DRAFTSMITH_METRICS_TOKEN` is unset)"},
    },
)
@public
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus metrics, for the operator's scraper.

    Off (404) unless `DRAFTSMITH_METRICS_TOKEN` is set; then the request needs
    `Authorization: Bearer <that token>`. With `PROMETHEUS_MULTIPROC_DIR`, the sum over
    every process sharing that directory."""
    token = request.app.state.settings.metrics_token
    if token is None:
        raise NotFound("Page")
    expected = f"Bearer {token.get_secret_value()}".encode()
    given = request.headers.get("authorization", "").encode("latin-1", "replace")
    if not secrets.compare_digest(given, expected):
        # An HTTPException: answered 401 as for a program, not sent to the sign-in page.
        raise HTTPException(
            401, "Send the metrics token as a bearer token.", {"WWW-Authenticate": "Bearer"}
        )
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
