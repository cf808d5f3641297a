from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from learntogether.api.deps import ReaderDep, SessionDep, SessionMakerDep, SettingsDep
from learntogether.services import exports
from learntogether.services.inputs import AwareMoment
from learntogether.xapi import VERSION_HEADER, XAPI_VERSION

router = APIRouter(prefix="/exports", tags=["exports"])
NDJSON = "application/x-ndjson"


@router.get(
    "/xapi",
    summary="Activities as xAPI 1.0.3 statements, one JSON statement a line",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {NDJSON: {}},
            "description": "Newline-delimited xAPI statements in activity order; "
            "mediators get their own cohorts' only.",
        }
    },
)
async def export_xapi(
    session: SessionDep,
    actor: ReaderDep,
    settings: SettingsDep,
    session_maker: SessionMakerDep,
    since: Annotated[
        AwareMoment | None, Query(description="Activities at or after this time (ISO 8601)")
    ] = None,
    until: Annotated[
        AwareMoment | None, Query(description="Activities before this time (ISO 8601)")
    ] = None,
) -> StreamingResponse:
    export = await exports.plan_xapi_export(
        session, actor=actor, settings=settings, since=since, until=until
    )
    # The stream reads in short transactions of its own; end the request's now, so a long
    # export holds no lock (SQLite) and no old snapshot (PostgreSQL) while it is sent.
    await session.commit()
    return StreamingResponse(
        exports.ndjson_pages(session_maker, export),
        media_type=NDJSON,
        headers={VERSION_HEADER: XAPI_VERSION},
    )
