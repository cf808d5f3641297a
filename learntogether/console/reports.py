"""Reports: participation as a table with bars, grouped and filtered as the API's, and its CSV.

The page and its CSV read the same parameters and call ``reports.participation`` as
``GET /api/v1/reports/participation`` does, with the reader's reach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.console.web import (
    ConsoleRoute,
    DbDep,
    StaffDep,
    redirect,
    render,
    translator,
)
from learntogether.csvout import CSV_MEDIA_TYPE, attachment, csv_table
from learntogether.db.models import TokenRole
from learntogether.services import reports
from learntogether.services.actors import Actor
from learntogether.services.errors import InvalidInput
from learntogether.services.learners import COUNTRY_TIMEZONES
from learntogether.services.reports import Filters, GroupBy, Period, ReportTable

router = APIRouter(prefix="/reports", route_class=ConsoleRoute)
ZONES = ("UTC", *sorted(set(COUNTRY_TIMEZONES.values())))
Text = Annotated[str, Query(max_length=64)]
# The figure the bars show.
CHARTED = "active"
# The service's parameter names (its problems' paths) as the form's fields.
FIELDS = {"from": "start", "to": "end", "cohort": "cohort", "tz": "tz"}


@dataclass(frozen=True)
class Choice:
    """The report's parameters as the form sent them, kept as typed to show them back."""

    group_by: str = ""
    period: str = ""
    start: str = ""
    end: str = ""
    tz: str = "UTC"
    cohort: str = ""

    def query(self) -> str:
        return urlencode({name: value for name, value in asdict(self).items() if value})


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


async def participation_table(
    session: AsyncSession, actor: Actor, choice: Choice, gettext: Callable[[str], str]
) -> tuple[ReportTable | None, dict[str, list[str]]]:
    """The report, or the problems with its parameters by form field."""
    actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    errors: dict[str, list[str]] = {}
    days: dict[str, date | None] = {}
    for name in ("start", "end"):
        try:
            days[name] = _day(getattr(choice, name))
        except ValueError:
            errors[name] = [gettext("Give a day such as 2026-09-01.")]
    for name, allowed in (("group_by", set(GroupBy)), ("period", set(Period)), ("tz", ZONES)):
        value = getattr(choice, name)
        if value and value not in allowed:
            errors[name] = [gettext("Choose one of the list.")]
    if errors:
        return None, errors
    try:
        table = await reports.participation(
            session,
            group_by=GroupBy(choice.group_by) if choice.group_by else None,
            period=Period(choice.period) if choice.period else None,
            filters=Filters(cohort=choice.cohort or None),
            start=days["start"],
            end=days["end"],
            zone=ZoneInfo(choice.tz or "UTC"),
            actor=actor,
        )
    except InvalidInput as error:
        for problem in error.problems:
            head = problem.path.removeprefix("$.").split(".")[-1]
            errors.setdefault(FIELDS.get(head, ""), []).append(problem.message)
        return None, errors or {"": [error.detail]}
    return table, {}


def _choice(
    group_by: Text = "",
    period: Text = "",
    start: Annotated[str, Query(alias="from", max_length=32)] = "",
    end: Annotated[str, Query(alias="to", max_length=32)] = "",
    tz: Text = "UTC",
    cohort: Text = "",
) -> Choice:
    """The page's and the CSV's parameters, the API's names (``from``, ``to``, ``tz``)."""
    return Choice(group_by, period, start, end, tz or "UTC", cohort.strip())


ChoiceDep = Annotated[Choice, Depends(_choice)]


def _page(
    request: Request,
    choice: Choice,
    table: ReportTable | None,
    errors: dict[str, list[str]],
) -> HTMLResponse:
    most = max((int(row.get(CHARTED) or 0) for row in table.rows), default=0) if table else 0
    return render(
        request,
        "reports/participation.html",
        {
            "choice": choice,
            "table": table,
            "errors": errors,
            "most": max(most, 1),
            "charted": CHARTED,
            "groupings": [item.value for item in GroupBy],
            "periods": [item.value for item in Period],
            "zones": ZONES,
        },
        status=422 if errors else 200,
    )


@router.get("")
async def reports_home() -> Response:
    return redirect("/reports/participation")


@router.get("/participation")
async def participation_page(
    request: Request, staff: StaffDep, session: DbDep, choice: ChoiceDep
) -> HTMLResponse:
    table, errors = await participation_table(session, staff.actor, choice, translator(request))
    return _page(request, choice, table, errors)


@router.get("/participation.csv")
async def participation_csv(
    request: Request, staff: StaffDep, session: DbDep, choice: ChoiceDep
) -> Response:
    table, errors = await participation_table(session, staff.actor, choice, translator(request))
    if table is None:
        return _page(request, choice, table, errors)
    rows = ([row[column] for column in table.columns] for row in table.rows)
    return Response(
        csv_table(table.columns, rows),
        media_type=CSV_MEDIA_TYPE,
        headers={**attachment(f"{table.name}.csv"), "Cache-Control": "no-store"},
    )
