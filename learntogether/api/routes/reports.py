"""Reports as JSON (``{"columns", "rows"}``), as CSV on ``Accept: text/csv``, and as PNG charts.

Every report reads as admin, viewer or mediator; a mediator's rows keep to its own cohorts. The
participation report also comes a page of groups at a time (``page``, ``per_page``), with
``Link`` headers to the other pages, for scripts that walk a report of thousands of groups.
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
from pydantic import BaseModel, Field

from learntogether import charts
from learntogether.api.csvout import CSV, CSV_MEDIA_TYPE, attachment, csv_table, wants_csv
from learntogether.api.deps import ReaderDep, SessionDep, SettingsDep
from learntogether.db.models import Role
from learntogether.i18n import SOURCE_LOCALE
from learntogether.services import reports
from learntogether.services.errors import FieldProblem, InvalidInput
from learntogether.services.inputs import MAX_INTEGER, Day
from learntogether.services.reports import Filters, GroupBy, Period, ReportTable
from learntogether.services.reports.participation import (
    GROUPS_A_PAGE,
    ParticipationPage,
    participation_page,
)
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


def respond(
    request: Request,
    table: ReportTable,
    *,
    place: dict[str, int] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """JSON (with ``place``'s keys beside ``columns`` and ``rows``), or CSV when the caller's
    ``Accept`` prefers ``text/csv``; ``headers`` on either."""
    if wants_csv(request.headers.get("accept")):
        rows = ([row[column] for column in table.columns] for row in table.rows)
        return Response(
            csv_table(table.columns, rows),
            media_type=CSV_MEDIA_TYPE,
            headers={**attachment(f"{table.name}.csv"), **(headers or {})},
        )
    return JSONResponse(
        {"columns": table.columns, "rows": table.rows, **(place or {})}, headers=headers
    )


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


@dataclass(frozen=True)
class ParticipationQuery:
    """The participation report's parameters as the service takes them."""

    group_by: GroupBy | None
    period: Period | None
    filters: Filters
    when: Span

    def arguments(self) -> dict[str, Any]:
        """As the participation services' keyword arguments."""
        return {
            "group_by": self.group_by,
            "period": self.period,
            "filters": self.filters,
            "start": self.when.start,
            "end": self.when.end,
            "zone": self.when.zone,
        }


def participation_query(
    when: SpanDep,
    group_by: Annotated[GroupBy | None, Query(description="One row per value of")] = None,
    period: Annotated[Period | None, Query(description="One row per week or month")] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    region: Annotated[str | None, Query(max_length=128)] = None,
    municipality: Annotated[str | None, Query(max_length=128)] = None,
    role: Role | None = None,
    cohort: Annotated[str | None, Query(description="A cohort's code", max_length=32)] = None,
    track: Annotated[str | None, Query(description="A track's slug", max_length=64)] = None,
) -> ParticipationQuery:
    filters = Filters(
        country=country,
        region=region,
        municipality=municipality,
        role=role,
        cohort=cohort,
        track=track,
    )
    return ParticipationQuery(group_by, period, filters, when)


ParticipationQueryDep = Annotated[ParticipationQuery, Depends(participation_query)]


async def participation_table(
    session: SessionDep, actor: ReaderDep, asked: ParticipationQueryDep
) -> ReportTable:
    with query_parameters():
        return await reports.participation(session, actor=actor, **asked.arguments())


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


MAX_GROUPS_A_PAGE = 500
"""The most groups a page of the participation report may ask for (``per_page``)."""


class ParticipationPageBody(ReportBody):
    """A page of the participation report (asked for with ``page`` or ``per_page``): the rows of
    ``per_page`` of its groups in the report's order, each group with all its rows (one a
    period), and where the page is."""

    page: int = Field(description="This page's number, from 1")
    per_page: int = Field(description="Groups a page")
    pages: int = Field(description="How many pages the report has (at least 1)")
    groups: int = Field(description="How many groups the whole report has (1 ungrouped)")
    first: int = Field(
        description="The page's first group's place among them, from 1 (0 when none)"
    )
    last: int = Field(description="The page's last group's place (0 when none)")


PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        **TABLE_RESPONSES[200],
        "headers": {
            "Link": {
                "description": "With `page` or `per_page`, the report's other pages (RFC 8288): "
                '`</api/v1/reports/participation?…&page=1&per_page=50>; rel="first"`, then '
                '`rel="prev"` (not on the first page), `rel="next"` (not on the last) and '
                '`rel="last"`, each keeping the request\'s parameters',
                "schema": {"type": "string"},
            }
        },
    }
}


def page_links(request: Request, found: ParticipationPage, per_page: int) -> str:
    """The ``Link`` header's value: the first, previous, next and last pages of the request."""

    def link(number: int, relation: str) -> str:
        url = request.url.include_query_params(page=number, per_page=per_page)
        return f'<{url.path}?{url.query}>; rel="{relation}"'

    links = [link(1, "first")]
    if found.page > 1:
        links.append(link(found.page - 1, "prev"))
    if found.page < found.pages:
        links.append(link(found.page + 1, "next"))
    links.append(link(found.pages, "last"))
    return ", ".join(links)


@router.get(
    "/participation",
    summary="Learners joined and active, lessons, tracks, certificates and check-ins",
    description="Every row, or with `page` (and `per_page`) a page of the report's groups, "
    "each group with all its rows, and `Link` headers to the other pages.",
    response_model=ReportBody | ParticipationPageBody,
    responses=PAGE_RESPONSES,
)
async def participation(
    request: Request,
    session: SessionDep,
    actor: ReaderDep,
    asked: ParticipationQueryDep,
    page: Annotated[
        int | None,
        Query(ge=1, le=MAX_INTEGER, description="A page of the report's groups, from 1"),
    ] = None,
    per_page: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_GROUPS_A_PAGE,
            description=f"Groups a page (default {GROUPS_A_PAGE}); alone, asks for page 1",
        ),
    ] = None,
) -> Response:
    if page is None and per_page is None:
        return respond(request, await participation_table(session, actor, asked))
    per_page = per_page or GROUPS_A_PAGE
    with query_parameters():
        found = await participation_page(
            session, page=page or 1, per_page=per_page, actor=actor, **asked.arguments()
        )
    place = {"page": found.page, "per_page": per_page, "pages": found.pages, "groups": found.groups}
    place |= {"first": found.first, "last": found.last}
    return respond(
        request,
        found.table,
        place=place,
        headers={"Link": page_links(request, found, per_page)},
    )


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
