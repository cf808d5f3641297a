"""The dashboard: goals, learners joined and active, completions, by region, quiet cohorts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from learntogether.console.web import ConsoleRoute, DbDep, StaffDep, render
from learntogether.db.base import utcnow
from learntogether.services import dashboard

router = APIRouter(route_class=ConsoleRoute)


@router.get("/")
async def dashboard_page(request: Request, staff: StaffDep, session: DbDep) -> HTMLResponse:
    found = await dashboard.overview(
        session,
        actor=staff.actor,
        today=utcnow().date(),
        readers=request.app.state.session_maker,
    )
    return render(request, "dashboard.html", {"overview": found})
