from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from learntogether.api.deps import SessionDep
from learntogether.problems import problem

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and database check")
async def healthz(session: SessionDep) -> JSONResponse:
    try:
        await session.execute(text("SELECT 1"))
    except Exception:
        return problem(503, "The database does not answer.", title="Unhealthy")
    return JSONResponse({"status": "ok", "database": "ok"})
