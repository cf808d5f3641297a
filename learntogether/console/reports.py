"""Reports: participation, the lesson funnel, item analysis and awareness before and after.

Each page shows its report as a table and a chart, with lessons, tracks and questions named by
their titles in the reader's language, and offers the same rows as CSV (``<page>.csv`` with the
same parameters). Each calls the same report service as its twin under
``/api/v1/reports/...``, with the reader's reach: admins and viewers read every row, a mediator
the rows of its own cohorts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.console.web import (
    ConsoleRoute,
    DbDep,
    StaffDep,
    form_errors,
    get_console,
    reader_locale,
    redirect,
    render,
    translator,
)
from learntogether.csvout import CSV_MEDIA_TYPE, attachment, csv_table
from learntogether.db.models import TokenRole
from learntogether.services import reports
from learntogether.services.actors import Actor
from learntogether.services.console_sessions import SignedIn
from learntogether.services.errors import InvalidInput
from learntogether.services.learners import COUNTRY_TIMEZONES
from learntogether.services.quizzes import LIKERT_POINTS
from learntogether.services.reports import Filters, GroupBy, Period, ReportTable
from learntogether.services.reports.participation import (
    GROUPS_A_PAGE,
    ParticipationPage,
    PastTheEnd,
    participation_page,
)
from learntogether.services.reports.query import Cell
from learntogether.services.reports.titles import CurriculumTitles, curriculum_titles

router = APIRouter(prefix="/reports", route_class=ConsoleRoute)
ZONES = ("UTC", *sorted(set(COUNTRY_TIMEZONES.values())))
Text = Annotated[str, Query(max_length=64)]
# The figure the bars show.
CHARTED = "active"
# The form's field names in the page's query string.
PARAMETERS = {"start": "from", "end": "to"}
# The service's parameter names (its problems' paths) as the form's fields.
FIELDS = {
    "from": "start",
    "to": "end",
    "cohort": "cohort",
    "tz": "tz",
    "track": "track",
    "lesson": "lesson",
}


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
        return _query(self)


def _query(choice: object) -> str:
    """The choice as the page's own query string (the API's names: ``from``, ``to``)."""
    values = asdict(choice)  # type: ignore[call-overload]
    return urlencode({PARAMETERS.get(name, name): value for name, value in values.items() if value})


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _days(
    choice: Choice | FunnelChoice, gettext: Callable[[str], str], errors: dict[str, list[str]]
) -> dict[str, date | None]:
    """The choice's first and last day; a day that is not one is noted in ``errors``."""
    days: dict[str, date | None] = {}
    for name in ("start", "end"):
        try:
            days[name] = _day(getattr(choice, name))
        except ValueError:
            errors[name] = [gettext("Give a day such as 2026-09-01.")]
    return days


def _participation_arguments(
    choice: Choice, gettext: Callable[[str], str], errors: dict[str, list[str]]
) -> dict[str, Any]:
    """The report service's arguments from the choice; problems are noted in ``errors``."""
    days = _days(choice, gettext, errors)
    for name, allowed in (("group_by", set(GroupBy)), ("period", set(Period)), ("tz", ZONES)):
        value = getattr(choice, name)
        if value and value not in allowed:
            errors[name] = [gettext("Choose one of the list.")]
    if errors:
        return {}
    return {
        "group_by": GroupBy(choice.group_by) if choice.group_by else None,
        "period": Period(choice.period) if choice.period else None,
        "filters": Filters(cohort=choice.cohort or None),
        "start": days["start"],
        "end": days["end"],
        "zone": ZoneInfo(choice.tz or "UTC"),
    }


async def participation_table(
    session: AsyncSession, actor: Actor, choice: Choice, gettext: Callable[[str], str]
) -> tuple[ReportTable | None, dict[str, list[str]]]:
    """The whole report (every group, for the CSV), or the problems with its parameters by form
    field."""
    actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    errors: dict[str, list[str]] = {}
    arguments = _participation_arguments(choice, gettext, errors)
    if errors:
        return None, errors
    try:
        table = await reports.participation(session, actor=actor, **arguments)
    except InvalidInput as error:
        return None, form_errors(error, FIELDS, gettext)
    return table, {}


async def participation_page_of(
    session: AsyncSession,
    actor: Actor,
    choice: Choice,
    page: str,
    gettext: Callable[[str], str],
) -> tuple[ParticipationPage | None, dict[str, list[str]]]:
    """Page ``page`` (as typed; empty: the first) of the report, or the problems by form
    field (the page number's under ``page``)."""
    actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    errors: dict[str, list[str]] = {}
    number = int(page) if page.isdigit() and page.isascii() else None
    if page and (number is None or number < 1):
        errors["page"] = [gettext("Give a page number: 1, 2, 3…")]
    arguments = _participation_arguments(choice, gettext, errors)
    if errors:
        return None, errors
    try:
        found = await participation_page(
            session, page=number or 1, per_page=GROUPS_A_PAGE, actor=actor, **arguments
        )
    except PastTheEnd as error:
        message = gettext("There is no page {page}: the last page is {pages}.")
        return None, {"page": [message.format(page=error.page, pages=error.pages)]}
    except InvalidInput as error:
        return None, form_errors(error, FIELDS, gettext)
    return found, {}


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
    found: ParticipationPage | None,
    errors: dict[str, list[str]],
) -> HTMLResponse:
    table = found.table if found else None
    most = max((int(row.get(CHARTED) or 0) for row in table.rows), default=0) if table else 0
    return render(
        request,
        "reports/participation.html",
        {
            "choice": choice,
            "found": found,
            "table": table,
            "figures": [
                column for column in table.columns if column not in (choice.group_by, "period")
            ]
            if table
            else [],
            "errors": errors,
            "most": max(most, 1),
            "charted": CHARTED,
            "groupings": [item.value for item in GroupBy],
            "periods": [item.value for item in Period],
            "zones": ZONES,
        },
        status=422 if errors else 200,
    )


PageText = Annotated[str, Query(max_length=12)]


@router.get("")
async def reports_home() -> Response:
    return redirect("/reports/participation")


@router.get("/participation")
async def participation_page_route(
    request: Request, staff: StaffDep, session: DbDep, choice: ChoiceDep, page: PageText = ""
) -> HTMLResponse:
    found, errors = await participation_page_of(
        session, staff.actor, choice, page.strip(), translator(request)
    )
    return _page(request, choice, found, errors)


@router.get("/participation.csv")
async def participation_csv(
    request: Request, staff: StaffDep, session: DbDep, choice: ChoiceDep
) -> Response:
    table, errors = await participation_table(session, staff.actor, choice, translator(request))
    if table is None:
        return _page(request, choice, None, errors)
    return _csv(table)


def _csv(table: ReportTable) -> Response:
    """The report's own rows and columns (as the API's CSV), to download."""
    rows = ([row[column] for column in table.columns] for row in table.rows)
    return Response(
        csv_table(table.columns, rows),
        media_type=CSV_MEDIA_TYPE,
        headers={**attachment(f"{table.name}.csv"), "Cache-Control": "no-store"},
    )


# Charts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar: its length as a share of the chart's scale (0 to 1) and the value it shows."""

    fraction: float
    value: float
    percent: bool = False


@dataclass(frozen=True)
class ChartRow:
    label: str
    bars: list[Bar] = field(default_factory=list)
    note: str = ""
    """Shown instead of bars (a row whose figures are withheld)."""


@dataclass(frozen=True)
class Chart:
    """Horizontal bars drawn on the server (SVG), one row per label and one bar per series."""

    series: list[str]
    rows: list[ChartRow]


def _number(value: Cell) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _fraction(value: float, most: float) -> float:
    return min(max(value / most, 0.0), 1.0) if most > 0 else 0.0


async def _titles(session: AsyncSession, request: Request) -> CurriculumTitles:
    return await curriculum_titles(session, locale=reader_locale(request))


def _picked(wanted: str, offered: Sequence[str]) -> str:
    """The slug the form asked for, else the first one offered (a page opens on something)."""
    return wanted or (offered[0] if offered else "")


# Funnel ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelChoice:
    track: str = ""
    start: str = ""
    end: str = ""
    tz: str = "UTC"

    def query(self) -> str:
        return _query(self)


def _funnel_choice(
    track: Text = "",
    start: Annotated[str, Query(alias="from", max_length=32)] = "",
    end: Annotated[str, Query(alias="to", max_length=32)] = "",
    tz: Text = "UTC",
) -> FunnelChoice:
    return FunnelChoice(track.strip(), start, end, tz or "UTC")


FunnelChoiceDep = Annotated[FunnelChoice, Depends(_funnel_choice)]


async def funnel_table(
    session: AsyncSession, actor: Actor, choice: FunnelChoice, gettext: Callable[[str], str]
) -> tuple[ReportTable | None, dict[str, list[str]]]:
    """The funnel of the chosen track, or the problems with the parameters by form field."""
    actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    errors: dict[str, list[str]] = {}
    days = _days(choice, gettext, errors)
    if choice.tz not in ZONES:
        errors["tz"] = [gettext("Choose one of the list.")]
    if errors:
        return None, errors
    try:
        table = await reports.funnel(
            session,
            track=choice.track or None,
            start=days["start"],
            end=days["end"],
            zone=ZoneInfo(choice.tz),
            actor=actor,
        )
    except InvalidInput as error:
        return None, form_errors(error, FIELDS, gettext)
    return table, {}


def funnel_chart(
    table: ReportTable, titles: CurriculumTitles, gettext: Callable[[str], str]
) -> Chart:
    """Per lesson, learners who started, finished and passed it, on one scale."""
    stages = [row for row in table.rows if row["stage"] in ("started", "finished", "passed")]
    most = max((_number(row["learners"]) for row in stages), default=0.0)
    rows: dict[str, list[Bar]] = {}
    for row in stages:
        learners = _number(row["learners"])
        rows.setdefault(str(row["lesson"]), []).append(Bar(_fraction(learners, most), learners))
    return Chart(
        series=[gettext("Started"), gettext("Finished"), gettext("Passed")],
        rows=[ChartRow(titles.lessons.get(slug, slug), bars) for slug, bars in rows.items()],
    )


def _funnel_page(
    request: Request,
    choice: FunnelChoice,
    titles: CurriculumTitles,
    table: ReportTable | None,
    errors: dict[str, list[str]],
) -> HTMLResponse:
    return render(
        request,
        "reports/funnel.html",
        {
            "choice": choice,
            "table": table,
            "errors": errors,
            "titles": titles,
            "chart": funnel_chart(table, titles, translator(request)) if table else None,
            "zones": ZONES,
        },
        status=422 if errors else 200,
    )


@router.get("/funnel")
async def funnel_page(
    request: Request, staff: StaffDep, session: DbDep, choice: FunnelChoiceDep
) -> HTMLResponse:
    titles = await _titles(session, request)
    choice = replace(choice, track=_picked(choice.track, list(titles.tracks)))
    table, errors = await funnel_table(session, staff.actor, choice, translator(request))
    return _funnel_page(request, choice, titles, table, errors)


@router.get("/funnel.csv")
async def funnel_csv(
    request: Request, staff: StaffDep, session: DbDep, choice: FunnelChoiceDep
) -> Response:
    titles = await _titles(session, request)
    choice = replace(choice, track=_picked(choice.track, list(titles.tracks)))
    table, errors = await funnel_table(session, staff.actor, choice, translator(request))
    if table is None:
        return _funnel_page(request, choice, titles, table, errors)
    return _csv(table)


# Item analysis ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonChoice:
    lesson: str = ""

    def query(self) -> str:
        return _query(self)


def _lesson_choice(lesson: Text = "") -> LessonChoice:
    return LessonChoice(lesson.strip())


LessonChoiceDep = Annotated[LessonChoice, Depends(_lesson_choice)]


async def questions_table(
    session: AsyncSession,
    actor: Actor,
    choice: LessonChoice,
    locale: str,
    gettext: Callable[[str], str],
) -> tuple[ReportTable | None, dict[str, list[str]]]:
    """Item analysis of the chosen lesson's quiz with texts in ``locale``, or the problems."""
    actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    try:
        table = await reports.questions(session, lesson=choice.lesson, locale=locale, actor=actor)
    except InvalidInput as error:
        return None, form_errors(error, FIELDS, gettext)
    return table, {}


def questions_chart(table: ReportTable, gettext: Callable[[str], str]) -> Chart:
    """Per question with a right answer, the share of learners who gave it."""
    rows: dict[str, ChartRow] = {}
    for row in table.rows:
        if row["facility"] is None or row["question"] in rows:
            continue
        facility = _number(row["facility"])
        rows[str(row["question"])] = ChartRow(
            str(row["question_text"]), [Bar(facility, facility, percent=True)]
        )
    return Chart(series=[gettext("Answered right")], rows=list(rows.values()))


def _questions_page(
    request: Request,
    choice: LessonChoice,
    titles: CurriculumTitles,
    table: ReportTable | None,
    errors: dict[str, list[str]],
) -> HTMLResponse:
    return render(
        request,
        "reports/questions.html",
        {
            "choice": choice,
            "table": table,
            "errors": errors,
            "titles": titles,
            "chart": questions_chart(table, translator(request)) if table else None,
        },
        status=422 if errors else 200,
    )


async def _questions(
    request: Request, staff: SignedIn, session: AsyncSession, choice: LessonChoice
) -> tuple[LessonChoice, CurriculumTitles, ReportTable | None, dict[str, list[str]]]:
    titles = await _titles(session, request)
    choice = replace(choice, lesson=_picked(choice.lesson, titles.quizzes))
    if not choice.lesson:
        return choice, titles, None, {}
    table, errors = await questions_table(
        session, staff.actor, choice, reader_locale(request), translator(request)
    )
    return choice, titles, table, errors


@router.get("/questions")
async def questions_page(
    request: Request, staff: StaffDep, session: DbDep, choice: LessonChoiceDep
) -> HTMLResponse:
    return _questions_page(request, *await _questions(request, staff, session, choice))


@router.get("/questions.csv")
async def questions_csv(
    request: Request, staff: StaffDep, session: DbDep, choice: LessonChoiceDep
) -> Response:
    choice, titles, table, errors = await _questions(request, staff, session, choice)
    if table is None:
        return _questions_page(request, choice, titles, table, errors)
    return _csv(table)


# Awareness -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwarenessChoice:
    track: str = ""
    group_by: str = ""

    def query(self) -> str:
        return _query(self)


def _awareness_choice(track: Text = "", group_by: Text = "") -> AwarenessChoice:
    return AwarenessChoice(track.strip(), group_by)


AwarenessChoiceDep = Annotated[AwarenessChoice, Depends(_awareness_choice)]


async def awareness_table(
    session: AsyncSession,
    actor: Actor,
    choice: AwarenessChoice,
    floor: int,
    gettext: Callable[[str], str],
) -> tuple[ReportTable | None, dict[str, list[str]]]:
    """Awareness before and after over the chosen track, or the problems by form field."""
    actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    if choice.group_by and choice.group_by not in set(GroupBy):
        return None, {"group_by": [gettext("Choose one of the list.")]}
    try:
        table = await reports.awareness(
            session,
            track=choice.track,
            group_by=GroupBy(choice.group_by) if choice.group_by else None,
            floor=floor,
            actor=actor,
        )
    except InvalidInput as error:
        return None, form_errors(error, FIELDS, gettext)
    return table, {}


def awareness_chart(
    table: ReportTable,
    choice: AwarenessChoice,
    items: dict[str, str],
    gettext: Callable[[str], str],
) -> Chart:
    """Mean points (1–5, higher: more aware) before and after, per statement, or per group
    (all statements together) when grouped; withheld rows say so."""
    rows: list[ChartRow] = []
    for row in table.rows:
        if choice.group_by:
            if row["item"] is not None:
                continue
            value = row[choice.group_by]
            label = str(value) if value is not None else "–"
        else:
            item = row["item"]
            label = gettext("All statements") if item is None else items.get(str(item), str(item))
        if row["suppressed"]:
            rows.append(ChartRow(label, note=gettext("Too few learners to show")))
            continue
        before, after = _number(row["pre_mean"]), _number(row["post_mean"])
        scale = float(LIKERT_POINTS)
        rows.append(ChartRow(label, [Bar(before / scale, before), Bar(after / scale, after)]))
    return Chart(series=[gettext("Before"), gettext("After")], rows=rows)


def _awareness_page(
    request: Request,
    choice: AwarenessChoice,
    titles: CurriculumTitles,
    table: ReportTable | None,
    errors: dict[str, list[str]],
) -> HTMLResponse:
    items = titles.survey_items.get(choice.track, {})
    return render(
        request,
        "reports/awareness.html",
        {
            "choice": choice,
            "table": table,
            "errors": errors,
            "titles": titles,
            "items": items,
            "groupings": [item.value for item in GroupBy],
            "chart": awareness_chart(table, choice, items, translator(request)) if table else None,
        },
        status=422 if errors else 200,
    )


async def _awareness(
    request: Request, staff: SignedIn, session: AsyncSession, choice: AwarenessChoice
) -> tuple[AwarenessChoice, CurriculumTitles, ReportTable | None, dict[str, list[str]]]:
    titles = await _titles(session, request)
    choice = replace(choice, track=_picked(choice.track, titles.surveyed))
    if not choice.track:
        return choice, titles, None, {}
    floor = get_console(request).settings.awareness_min_group
    table, errors = await awareness_table(session, staff.actor, choice, floor, translator(request))
    return choice, titles, table, errors


@router.get("/awareness")
async def awareness_page(
    request: Request, staff: StaffDep, session: DbDep, choice: AwarenessChoiceDep
) -> HTMLResponse:
    return _awareness_page(request, *await _awareness(request, staff, session, choice))


@router.get("/awareness.csv")
async def awareness_csv(
    request: Request, staff: StaffDep, session: DbDep, choice: AwarenessChoiceDep
) -> Response:
    choice, titles, table, errors = await _awareness(request, staff, session, choice)
    if table is None:
        return _awareness_page(request, choice, titles, table, errors)
    return _csv(table)
