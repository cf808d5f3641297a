"""Access (admins): staff sessions of the console, and ending one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from learntogether.console.web import ConsoleRoute, DbDep, FormStaffDep, StaffDep, redirect, render
from learntogether.services import console_sessions
from learntogether.services.inputs import MAX_ROW_ID

router = APIRouter(prefix="/access", route_class=ConsoleRoute)
PAGE = 50
SessionId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.get("")
async def access(request: Request, staff: StaffDep) -> Response:
    staff.actor.check_role()
    return redirect("/access/sessions")


@router.get("/sessions")
async def sessions(
    request: Request,
    staff: StaffDep,
    session: DbDep,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    ended: bool = False,
) -> HTMLResponse:
    found, total = await console_sessions.list_sessions(
        session, actor=staff.actor, limit=PAGE, offset=offset
    )
    return render(
        request,
        "access/sessions.html",
        {"sessions": found, "total": total, "offset": offset, "limit": PAGE, "ended": ended},
    )


@router.post("/sessions/{session_id}/end")
async def end_session(session_id: SessionId, staff: FormStaffDep, session: DbDep) -> Response:
    await console_sessions.end_session(session, session_id=session_id, actor=staff.actor)
    return redirect("/access/sessions?ended=1")
