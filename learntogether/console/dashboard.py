"""The dashboard: the programme's goals and how far each has come."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from learntogether.console.web import ConsoleRoute, DbDep, StaffDep, render
from learntogether.services import goals

router = APIRouter(route_class=ConsoleRoute)
GOALS_SHOWN = 50


@router.get("/")
async def dashboard(request: Request, staff: StaffDep, session: DbDep) -> HTMLResponse:
    found, total = await goals.list_goals(session, limit=GOALS_SHOWN, offset=0, actor=staff.actor)
    return render(request, "dashboard.html", {"goals": found, "goals_total": total})
