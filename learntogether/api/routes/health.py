"""``/healthz``: what the platform depends on, each named, and 503 when it cannot work."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from learntogether.api.deps import SessionDep, SettingsDep
from learntogether.leadership import leader_exists
from learntogether.problems import problem, problem_response

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


async def _redis_answers(url: str) -> bool:
    redis: Redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(await redis.ping())
    except (RedisError, OSError):
        return False
    finally:
        await redis.aclose()


@router.get(
    "/healthz",
    summary="The database, Redis (when configured) and whether a scheduler leads",
    responses={503: problem_response("The database or Redis does not answer")},
)
async def healthz(request: Request, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    try:
        await session.execute(text("SELECT 1"))
    except Exception:
        return problem(503, "The database does not answer.", title="Unhealthy")
    report = {"status": "ok", "database": "ok"}
    if settings.redis_url:
        # Conversation state, shared limits and leadership live there: without it the bot stalls.
        if not await _redis_answers(settings.redis_url):
            return problem(503, "Redis does not answer (LT_REDIS_URL).", title="Unhealthy")
        report["redis"] = "ok"
    engine: AsyncEngine = request.app.state.session_maker.kw["bind"]
    try:
        leading = await leader_exists(engine, settings.redis_url)
    except (RedisError, SQLAlchemyError, OSError) as error:
        log.warning("could not tell whether a scheduler leads: %s", error)
        leading = False
    # No leader is a warning, not a failure: `learntogether api` alone runs no scheduler.
    report["scheduler"] = "leading" if leading else "no leader"
    return JSONResponse(report)
