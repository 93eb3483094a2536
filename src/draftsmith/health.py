"""Liveness and readiness probes (public)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from draftsmith.auth.access import public, router
from draftsmith.migrate import current_revision, head_revision

routes = router(tags=["health"])


@routes.get("/healthz")
@public
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@routes.get("/readyz", responses={503: {"description": "A component is not ready"}})
@public
async def readyz(request: Request) -> JSONResponse:
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
