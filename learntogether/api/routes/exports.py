from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from learntogether.api.deps import ReaderDep, SessionDep, SessionMakerDep, SettingsDep
from learntogether.services import exports
from learntogether.services.inputs import AwareMoment
from learntogether.xapi import VERSION_HEADER, XAPI_VERSION

router = APIRouter(prefix="/exports", tags=["exports"])
NDJSON = "application/x-ndjson"
MAX_CURSOR_LENGTH = 512


@router.get(
    "/xapi",
    summary="Activities as xAPI 1.0.3 statements, one JSON statement a line, a page at a time",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {NDJSON: {"schema": {"type": "string"}}},
            "description": "Newline-delimited xAPI statements in activity order; mediators get "
            "their own cohorts' only. A page may be short, even empty: follow the `next` link "
            "until there is none.",
            "headers": {
                "Link": {
                    "description": 'The next page, `</api/v1/exports/xapi?cursor=…&limit=…>; rel="next"`; '
                    "absent on the last page",
                    "schema": {"type": "string"},
                },
                VERSION_HEADER: {"schema": {"type": "string", "enum": [XAPI_VERSION]}},
            },
        }
    },
)
async def export_xapi(
    request: Request,
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
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="Where the page starts: from the previous page's `next` link, alone "
            "(it carries since and until)",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=exports.MAX_LIMIT, description="How many statements at most")
    ] = exports.DEFAULT_LIMIT,
) -> StreamingResponse:
    page = await exports.plan_xapi_page(
        session,
        actor=actor,
        settings=settings,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    # The stream reads in short transactions of its own; end the request's now, so a long
    # export holds no lock (SQLite) and no old snapshot (PostgreSQL) while it is sent.
    await session.commit()
    headers = {VERSION_HEADER: XAPI_VERSION}
    if page.next_cursor is not None:
        following = request.url.remove_query_params(["since", "until"]).include_query_params(
            cursor=page.next_cursor, limit=limit
        )
        headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return StreamingResponse(
        exports.ndjson_pages(session_maker, page.export), media_type=NDJSON, headers=headers
    )
