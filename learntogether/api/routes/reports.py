"""Reports as JSON (``{"columns", "rows"}``), as CSV on ``Accept: text/csv``, and as PNG charts.

Every report reads as admin, viewer or mediator; a mediator's rows keep to its own cohorts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from learntogether import charts
from learntogether.api.csvout import CSV, CSV_MEDIA_TYPE, attachment, csv_table, wants_csv
from learntogether.api.deps import ReaderDep, SessionDep, SettingsDep
from learntogether.db.models import Role
from learntogether.i18n import SOURCE_LOCALE
from learntogether.services import reports
from learntogether.services.errors import FieldProblem, InvalidInput
from learntogether.services.inputs import MAX_INTEGER, Day
from learntogether.services.reports import Filters, GroupBy, Period, ReportTable
from learntogether.services.reports.query import Cell, zone_named

router = APIRouter(prefix="/reports", tags=["reports"])

PNG = "image/png"


class ReportBody(BaseModel):
    """A report: its column names in order, and one object per row with those keys."""

    columns: list[str]
    rows: list[dict[str, Cell]]


TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}, "description": "The report"}
}
CHART_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {PNG: {"schema": {"type": "string", "format": "binary"}}}}
}


@contextmanager
def query_parameters() -> Iterator[None]:
    """Report services name a wrong input by its field (``$.track``); here it is a query
    parameter (``query.track``)."""
    try:
        yield
    except InvalidInput as error:
        problems = [
            FieldProblem("query." + problem.path.removeprefix("$."), problem.message)
            for problem in error.problems
        ]
        raise InvalidInput(error.detail, problems) from None


def respond(request: Request, table: ReportTable) -> Response:
    """JSON, or CSV when the caller's ``Accept`` prefers ``text/csv``."""
    if wants_csv(request.headers.get("accept")):
        rows = ([row[column] for column in table.columns] for row in table.rows)
        return Response(
            csv_table(table.columns, rows),
            media_type=CSV_MEDIA_TYPE,
            headers=attachment(f"{table.name}.csv"),
        )
    return JSONResponse({"columns": table.columns, "rows": table.rows})


async def chart(draw: Callable[[ReportTable], bytes], table: ReportTable) -> Response:
    # Drawing takes a tenth of a second or more: keep it off the event loop.
    return Response(await asyncio.to_thread(draw, table), media_type=PNG)


@dataclass(frozen=True)
class Span:
    start: date | None
    end: date | None
    zone: ZoneInfo


def span(
    start: Annotated[
        Day | None, Query(alias="from", description="First day counted (in `tz`)")
    ] = None,
    end: Annotated[Day | None, Query(alias="to", description="Last day counted (in `tz`)")] = None,
    tz: Annotated[
        str, Query(description="IANA time zone for days, weeks and months", max_length=64)
    ] = "UTC",
) -> Span:
    with query_parameters():
        return Span(start, end, zone_named(tz))


SpanDep = Annotated[Span, Depends(span)]


async def participation_table(
    session: SessionDep,
    actor: ReaderDep,
    when: SpanDep,
    group_by: Annotated[GroupBy | None, Query(description="One row per value of")] = None,
    period: Annotated[Period | None, Query(description="One row per week or month")] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    region: Annotated[str | None, Query(max_length=128)] = None,
    municipality: Annotated[str | None, Query(max_length=128)] = None,
    role: Role | None = None,
    cohort: Annotated[str | None, Query(description="A cohort's code", max_length=32)] = None,
    track: Annotated[str | None, Query(description="A track's slug", max_length=64)] = None,
) -> ReportTable:
    with query_parameters():
        return await reports.participation(
            session,
            group_by=group_by,
            period=period,
            filters=Filters(
                country=country,
                region=region,
                municipality=municipality,
                role=role,
                cohort=cohort,
                track=track,
            ),
            start=when.start,
            end=when.end,
            zone=when.zone,
            actor=actor,
        )


async def funnel_table(
    session: SessionDep,
    actor: ReaderDep,
    when: SpanDep,
    track: Annotated[
        str | None, Query(description="A track's slug (default: every track)", max_length=64)
    ] = None,
) -> ReportTable:
    with query_parameters():
        return await reports.funnel(
            session,
            track=track,
            start=when.start,
            end=when.end,
            zone=when.zone,
            actor=actor,
        )


async def questions_table(
    session: SessionDep,
    actor: ReaderDep,
    lesson: Annotated[str, Query(description="The lesson's slug", max_length=64)],
    version: Annotated[
        int | None,
        Query(ge=1, le=MAX_INTEGER, description="Only this version (default: every version)"),
    ] = None,
    locale: Annotated[
        str, Query(pattern=r"^[a-z]{2,3}$", description="Language of the texts")
    ] = SOURCE_LOCALE,
) -> ReportTable:
    with query_parameters():
        return await reports.questions(
            session, lesson=lesson, version=version, locale=locale, actor=actor
        )


async def awareness_table(
    session: SessionDep,
    actor: ReaderDep,
    settings: SettingsDep,
    track: Annotated[str, Query(description="The track's slug", max_length=64)],
    group_by: Annotated[GroupBy | None, Query(description="One set of rows per value of")] = None,
    min_group: Annotated[
        int | None,
        Query(
            description="Fewer learners than this and a row's figures are withheld; at least "
            "LT_AWARENESS_MIN_GROUP (5 unless the deployment raised it), which is the default"
        ),
    ] = None,
) -> ReportTable:
    with query_parameters():
        return await reports.awareness(
            session,
            track=track,
            group_by=group_by,
            min_group=min_group,
            floor=settings.awareness_min_group,
            actor=actor,
        )


ParticipationDep = Annotated[ReportTable, Depends(participation_table)]
FunnelDep = Annotated[ReportTable, Depends(funnel_table)]
QuestionsDep = Annotated[ReportTable, Depends(questions_table)]
AwarenessDep = Annotated[ReportTable, Depends(awareness_table)]


@router.get(
    "/participation",
    summary="Learners joined and active, lessons, tracks, certificates and check-ins",
    response_model=ReportBody,
    responses=TABLE_RESPONSES,
)
async def participation(request: Request, table: ParticipationDep) -> Response:
    return respond(request, table)


@router.get("/participation.png", summary="Participation as a chart", responses=CHART_RESPONSES)
async def participation_png(table: ParticipationDep) -> Response:
    return await chart(charts.participation_chart, table)


@router.get(
    "/funnel",
    summary="Per lesson: started, each step reached, finished, passed",
    response_model=ReportBody,
    responses=TABLE_RESPONSES,
)
async def funnel(request: Request, table: FunnelDep) -> Response:
    return respond(request, table)


@router.get("/funnel.png", summary="The lesson funnel as a chart", responses=CHART_RESPONSES)
async def funnel_png(table: FunnelDep) -> Response:
    return await chart(charts.funnel_chart, table)


@router.get(
    "/questions",
    summary="Item analysis of a lesson's quiz: facility, discrimination, options chosen",
    response_model=ReportBody,
    responses=TABLE_RESPONSES,
)
async def questions(request: Request, table: QuestionsDep) -> Response:
    return respond(request, table)


@router.get("/questions.png", summary="Item analysis as a chart", responses=CHART_RESPONSES)
async def questions_png(table: QuestionsDep) -> Response:
    return await chart(charts.questions_chart, table)


@router.get(
    "/awareness",
    summary="A track's likert pre-survey against its post-survey",
    response_model=ReportBody,
    responses=TABLE_RESPONSES,
)
async def awareness(request: Request, table: AwarenessDep) -> Response:
    return respond(request, table)


@router.get(
    "/awareness.png", summary="Awareness before and after as a chart", responses=CHART_RESPONSES
)
async def awareness_png(table: AwarenessDep) -> Response:
    return await chart(charts.awareness_chart, table)
