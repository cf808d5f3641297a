"""``/healthz``: what the platform depends on, each named, and 503 when it cannot work.

It cannot work without the database. Without Redis it works, degraded: each process keeps
conversations, update de-duplication and send rates to itself until Redis is back, so an
unreachable Redis is reported (``"status": "degraded"``), not a 503 that would take the
process out of a load balancer.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from learntogether.api.deps import SessionDep, SettingsDep
from learntogether.leadership import leader_exists
from learntogether.problems import problem, problem_response
from learntogether.redisfallback import REDIS_ERRORS, connect

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


async def _redis_answers(url: str) -> bool:
    redis = connect(url)
    try:
        return bool(await redis.ping())
    except REDIS_ERRORS:
        return False
    finally:
        await redis.aclose()


@router.get(
    "/healthz",
    summary="The database, Redis (when configured) and whether a scheduler leads",
    responses={503: problem_response("The database does not answer")},
)
async def healthz(request: Request, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    try:
        await session.execute(text("SELECT 1"))
    except Exception:
        return problem(503, "The database does not answer.", title="Unhealthy")
    report = {"status": "ok", "database": "ok"}
    if settings.redis_url:
        if await _redis_answers(settings.redis_url):
            report["redis"] = "ok"
        else:
            report.update(status="degraded", redis="unreachable")
    engine: AsyncEngine = request.app.state.session_maker.kw["bind"]
    try:
        leading = await leader_exists(engine)
    except (SQLAlchemyError, OSError) as error:
        log.warning("could not tell whether a scheduler leads: %s", error)
        leading = False
    # No leader is a warning, not a failure: `learntogether api` alone runs no scheduler.
    report["scheduler"] = "leading" if leading else "no leader"
    return JSONResponse(report)
