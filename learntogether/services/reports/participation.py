"""Participation: how many learners joined and took part, and what they finished, by group and period.

Every figure is counted by the snapshot each activity carries (cohort, municipality, region,
country, role, locale as they were when it was written), so erased learners keep counting and a
learner who moved is counted where they were. The figures are read from the participation counts
(``db/activity_log.py``: the activity record summed per learner and quarter hour as it is written):

- ``joined``: learners who joined (registered, or joined a cohort);
- ``active``: learners who did anything themselves (joined, started, read a step, answered,
  completed, passed or failed a quiz, attended a workshop, finished a review); reminders and nudges they only
  received do not count;
- ``lessons_started``: lessons started for the first time, each learner and lesson once, in the
  period of the first start (reading a lesson again is not a new start);
- ``lessons_completed``: lessons completed (recorded once per learner and lesson);
- ``tracks_completed``: learners who completed every lesson published in a track, once per
  learner and track, counted where and when the last of them was completed (against the lessons
  published at that moment);
- ``certificates``: certificates issued;
- ``attended``: workshop check-ins (one per learner and workshop);
- ``reviewed``: spaced reviews finished (``services/review.py``);
- ``listened``: lesson steps sent as their recording to learners who would rather listen
  (``services/listening.py``): beside ``lessons_completed``, whether voice reaches people text
  did not.

Records made with help (``assisted``: a mediator answered or checked in with a learner who could
not alone) are part of those figures and are also shown on their own: ``assisted_learners``
(learners with any assisted record), ``assisted_lessons_completed`` and ``assisted_attended``.

Learners are counted once per row: summing ``joined`` or ``active`` over groups counts a learner
who was in two groups twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypedDict, Unpack
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    distinct,
    func,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.activity_log import inside_period_sql
from learntogether.db.models import ParticipationCount, ParticipationTotal
from learntogether.db.models.activity import PARTICIPATION_FIGURES
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.errors import N_, FieldProblem, InvalidInput
from learntogether.services.reports.query import (
    CALENDARS,
    Cell,
    Criteria,
    Filters,
    GroupBy,
    Period,
    ReportTable,
    Window,
    dialect_name,
    group_column,
    group_labels,
    period_start,
    resolve,
    sort_key,
    split_periods,
    wrong,
)

NAME = "participation"
_P, _T = ParticipationCount, ParticipationTotal


class Figure(StrEnum):
    JOINED = "joined"
    ACTIVE = "active"
    LESSONS_STARTED = "lessons_started"
    LESSONS_COMPLETED = "lessons_completed"
    TRACKS_COMPLETED = "tracks_completed"
    CERTIFICATES = "certificates"
    ATTENDED = "attended"
    ASSISTED_LEARNERS = "assisted_learners"
    ASSISTED_LESSONS_COMPLETED = "assisted_lessons_completed"
    ASSISTED_ATTENDED = "assisted_attended"
    REVIEWED = "reviewed"
    LISTENED = "listened"


def figure_sql(source: Any) -> dict[Figure, ColumnElement[int]]:
    """Each figure as an aggregate over rows with the participation counts' columns (the counts,
    or a query with the same names)."""

    def learners(name: str) -> ColumnElement[int]:
        return func.count(distinct(source.user_id)).filter(getattr(source, name) > 0)

    def records(name: str) -> ColumnElement[int]:
        return func.coalesce(func.sum(getattr(source, name)), 0)

    return {
        figure: (learners if figure in _LEARNERS else records)(_COLUMNS.get(figure, figure.value))
        for figure in Figure
    }


_LEARNERS = (Figure.JOINED, Figure.ACTIVE, Figure.ASSISTED_LEARNERS)
"""Figures that count learners (with a record of the kind); the others sum records."""
_COLUMNS = {Figure.ASSISTED_LEARNERS: "assisted"}
"""Where a figure's column is named otherwise."""

Key = tuple[Any, Any]
Counts = dict[Key, dict[Figure, int]]


async def _counted(
    session: AsyncSession,
    criteria: Criteria,
    *,
    group_by: GroupBy | None,
    period: Period | None,
    zone: ZoneInfo,
) -> Subquery:
    """The rows a report aggregates: ``group`` and ``period`` (when asked for), ``user_id`` and
    the figures' columns.

    Reports of all time (no period, no window, no track) read each learner's totals. Reports
    by month or week read the period's roll-up for the periods whose inside (away from their
    ends, the same period on every clock) is in the window, and the participation counts for
    the rest: the hours near those periods' ends and the window's edges. Other reports, and
    those of one track, read the counts.
    """

    def rows(source: Any, when: ColumnElement[Any] | None) -> Select[Any]:
        keys: list[ColumnElement[Any]] = []
        if group_by is not None:
            keys.append(group_column(group_by, source).label("group"))
        if when is not None:
            keys.append(when.label("period"))
        columns = [getattr(source, name) for name in ("user_id", *PARTICIPATION_FIGURES)]
        return select(*keys, *columns).where(*criteria.conditions(source))

    when = (
        await period_start(session, period, zone, criteria.window, ParticipationCount)
        if period is not None
        else None
    )
    counts = rows(_P, when)
    if period is None and criteria.window == Window() and criteria.track_id is None:
        return rows(_T, None).subquery()
    if period is None or criteria.track_id is not None:
        # Without a period, the counts come grouped from an index in order; tracks have no
        # roll-up.
        return counts.subquery()
    calendar = CALENDARS[period]
    column = calendar.column
    span = (await session.execute(select(func.min(column), func.max(column)))).one()
    split = split_periods(criteria.window, calendar, span[0], span[1], zone=zone)
    if split.periods is None:
        return counts.subquery()
    first, last = split.periods
    # The roll-up and the counts are read in one statement, one snapshot, in which every count
    # inside its period is in the roll-up too. Where the window is open, the roll-up is read
    # without a bound and the counts beyond the periods read are those not inside their period:
    # a period whose first row is written after ``span`` was read is counted once. A bound on
    # the period, which comes after the group in the roll-up's indexes, would also have
    # PostgreSQL sort every row instead of merging the roll-up's, in their groups' order from
    # the index, with the counts, sorted apart.
    window = criteria.window
    rolled = rows(calendar.rollup, column).where(
        *([column >= first] if window.since is not None else []),
        *([column <= last] if window.until is not None else []),
    )
    dialect = dialect_name(session)
    unrolled = ~inside_period_sql(dialect, calendar.period.value)
    if dialect != "postgresql":
        # SQLite scans the counts however the stretches are written (it took no index range
        # for them): one test a count instead of one a stretch, as ``split.ranges`` are the
        # window's counts outside the insides of the periods read.
        beyond = [
            *([_P.occurred_at < calendar.interior(first)[0]] if window.since is not None else []),
            *([_P.occurred_at >= calendar.interior(last)[1]] if window.until is not None else []),
        ]
        outside = and_(true(), *window.conditions(_P.occurred_at), or_(unrolled, *beyond))
        return union_all(rolled, counts.where(outside)).subquery()
    opened = {0: window.since is None, len(split.ranges) - 1: window.until is None}
    outside = or_(
        *(
            and_(
                true(),
                *Window(since, until).conditions(_P.occurred_at),
                *([unrolled] if opened.get(number) else []),
            )
            for number, (since, until) in enumerate(split.ranges)
        )
    )
    return union_all(rolled, counts.where(outside)).subquery()


async def _count(
    session: AsyncSession,
    counted: Subquery,
    *,
    figures: Sequence[Figure],
    groups: Sequence[Any] | None = None,
) -> Counts:
    """The figures for each (group value, period start) found in ``counted`` (``_counted``),
    of the ``groups`` given (every group: None); (None, None) when ungrouped.

    One aggregate query. Only groups and periods with records appear.
    """
    keys = [counted.c[name] for name in ("group", "period") if name in counted.c]
    aggregates = figure_sql(counted.c)
    query = select(*keys, *(aggregates[figure].label(figure.value) for figure in figures))
    if groups is not None:
        query = query.where(_among(counted.c.group, groups))
    rows = await session.execute(query.group_by(*keys))
    # Rows by position: the report's hundreds of rows, each a dozen figures, without a mapping
    # looked up for each value.
    grouped, timed = "group" in counted.c, "period" in counted.c
    counts: Counts = {}
    for row in rows:
        group = row[0] if grouped else None
        period = row[int(grouped)] if timed else None
        counts[(group, period)] = dict(zip(figures, map(int, row[len(keys) :]), strict=True))
    return counts


def _among(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (None among them: or null)."""
    known = [value for value in values if value is not None]
    either = [column.in_(known)] if known else []
    if len(known) < len(values):
        either.append(column.is_(None))
    return or_(*either)


class Asked(TypedDict, total=False):
    """What a participation report is asked (``participation``'s keywords, each optional)."""

    group_by: GroupBy | None
    period: Period | None
    filters: Filters | None
    start: date | None
    end: date | None
    zone: ZoneInfo | None
    actor: Actor
    figures: Sequence[Figure]


@dataclass(frozen=True)
class _Report:
    """A report's question resolved: the rows to count (``_counted``), and what it shows."""

    counted: Subquery
    group_by: GroupBy | None
    period: Period | None
    figures: Sequence[Figure]


async def _report(session: AsyncSession, asked: Asked) -> _Report:
    zone = asked.get("zone") or ZoneInfo("UTC")
    criteria = await resolve(
        session,
        asked.get("filters") or Filters(),
        window=Window.of_dates(asked.get("start"), asked.get("end"), zone),
        actor=asked.get("actor", SYSTEM),
    )
    group_by, period = asked.get("group_by"), asked.get("period")
    counted = await _counted(session, criteria, group_by=group_by, period=period, zone=zone)
    return _Report(counted, group_by, period, asked.get("figures", tuple(Figure)))


async def participation(session: AsyncSession, **asked: Unpack[Asked]) -> ReportTable:
    """Participation figures, grouped by ``group_by`` and/or ``period``, or one row of totals.

    ``filters`` (default none) keep the records they name, of the ``figures`` (default every
    one). ``start`` and ``end`` are days (both included) in ``zone`` (default UTC), which also
    decides where weeks (Monday to Sunday) and months begin. Each row names its group under the
    group's own name (``region``, ``cohort`` as the cohort's code, …) and its period as the ISO
    date of the period's first day, then the figures. A mediator ``actor`` (default: the
    system, every record) keeps to its cohorts. Raises InvalidInput naming the field for a
    cohort or track in ``filters`` that does not exist, or an ``end`` before ``start``.
    """
    report = await _report(session, asked)
    counts = await _count(session, report.counted, figures=report.figures)
    return await _table(session, counts, report)


GROUPS_A_PAGE = 50
"""Groups on one page of a report (each with its rows for every period)."""
FEW_GROUPS = frozenset({GroupBy.REGION, GroupBy.COUNTRY, GroupBy.ROLE, GroupBy.LOCALE})
"""Groupings with a few dozen values at most (cohorts and municipalities run to thousands)."""


@dataclass(frozen=True)
class ParticipationPage:
    """One page of the participation report: some of its groups, each with all its rows."""

    table: ReportTable
    page: int
    """From 1."""
    pages: int
    groups: int
    """How many groups the whole report has (1 ungrouped)."""
    first: int
    """The page's first group's place among them, from 1 (0 on an empty report)."""
    last: int
    """The page's last group's place."""


class PastTheEnd(InvalidInput):
    """A page number after the report's last page."""

    def __init__(self, page: int, pages: int) -> None:
        message = N_(
            "there is no page {page}: the report has {pages} page(s)", page=page, pages=pages
        )
        super().__init__(message, [FieldProblem("$.page", message)])
        self.page = page
        self.pages = pages


async def participation_page(
    session: AsyncSession, *, page: int = 1, per_page: int = GROUPS_A_PAGE, **asked: Unpack[Asked]
) -> ParticipationPage:
    """Page ``page`` of ``participation(...)`` with the same arguments: ``per_page`` of its
    groups in the report's order, each with its rows for every period (ungrouped: one page).

    By period and cohort or municipality, the groups are found first (one query), then only the
    page's are counted, so a page of a report with thousands of groups and periods reads and
    returns a page's rows. Without a period (a row a group), or by a grouping of a few dozen
    values (``FEW_GROUPS``), every group is counted in one query, as the report is. Raises InvalidInput
    (``page``) for a page below 1 and PastTheEnd for one after the last (an empty report has
    one page, without rows), and what ``participation`` raises.
    """
    if page < 1:
        raise wrong("page", N_("pages are numbered from 1, not {page}", page=page))
    report = await _report(session, asked)
    counted, figures = report.counted, report.figures
    if report.group_by is None:
        if page > 1:
            raise PastTheEnd(page, 1)
        every = await _count(session, counted, figures=figures)
        return ParticipationPage(await _table(session, every, report), 1, 1, 1, 1, 1)
    counts: Counts | None = None
    if report.period is None or report.group_by in FEW_GROUPS:
        # A row a group, or a few dozen groups: all of them are counted at once, as the report
        # would (finding the groups first would read the rows twice).
        counts = await _count(session, counted, figures=figures)
        found = list(dict.fromkeys(group for group, _ in counts))
    else:
        found = list(await session.scalars(select(counted.c.group).distinct()))
    labels = await group_labels(session, report.group_by, found)
    ordered = sorted(found, key=lambda value: sort_key(labels[value]))
    pages = max(1, -(-len(ordered) // per_page))
    if page > pages:
        raise PastTheEnd(page, pages)
    shown = ordered[(page - 1) * per_page : page * per_page]
    if counts is not None:
        page_groups = set(shown)
        counts = {key: value for key, value in counts.items() if key[0] in page_groups}
    elif len(shown) < len(ordered):
        counts = await _count(session, counted, figures=figures, groups=shown)
    else:
        counts = await _count(session, counted, figures=figures)
    table = await _table(session, counts, report, labels=labels)
    before = (page - 1) * per_page
    first = before + 1 if shown else 0
    return ParticipationPage(table, page, pages, len(ordered), first, before + len(shown))


async def _table(
    session: AsyncSession, counts: Counts, report: _Report, labels: dict[Any, Cell] | None = None
) -> ReportTable:
    """The report's rows from the counts: groups by their label (``labels``, else looked up),
    periods as ISO dates, sorted."""
    group_by, period, figures = report.group_by, report.period, report.figures
    if labels is None:
        labels = await group_labels(session, group_by, (group for group, _ in counts))
    columns = [
        *([group_by.value] if group_by is not None else []),
        *(["period"] if period is not None else []),
        *(figure.value for figure in figures),
    ]
    rows: list[dict[str, Cell]] = []
    for (group, start_of_period), values in counts.items():
        row: dict[str, Cell] = {}
        if group_by is not None:
            row[group_by.value] = labels[group]
        if period is not None:
            row["period"] = start_of_period.isoformat() if start_of_period is not None else None
        row.update({figure.value: values[figure] for figure in figures})
        rows.append(row)
    rows.sort(
        key=lambda row: (
            sort_key(row.get(group_by.value) if group_by is not None else None),
            sort_key(row.get("period")),
        )
    )
    return ReportTable(NAME, columns, rows)


async def by_group_with_totals(
    session: AsyncSession,
    group_by: GroupBy,
    *,
    end: date | None = None,
    actor: Actor = SYSTEM,
    figures: Sequence[Figure] = tuple(Figure),
) -> tuple[ReportTable, dict[str, int]]:
    """``participation(group_by=group_by, end=end)`` and the one row of ``participation(end=end)``
    (UTC days; None: all time, from each learner's totals).

    PostgreSQL reads both in one pass (``GROUPING SETS``): counting the distinct learners of
    every group and of all of them sorts the counts once instead of twice. SQLite has no
    grouping sets and runs the two reports.
    """
    if dialect_name(session) != "postgresql":
        table = await participation(
            session, group_by=group_by, end=end, actor=actor, figures=figures
        )
        total = (await participation(session, end=end, actor=actor, figures=figures)).rows[0]
        return table, {figure.value: int(total[figure.value] or 0) for figure in figures}
    report = await _report(session, Asked(group_by=group_by, end=end, actor=actor, figures=figures))
    group = report.counted.c.group
    aggregates = figure_sql(report.counted.c)
    rows = await session.execute(
        select(
            group.label("group"),
            func.grouping(group).label("all_groups"),
            *(aggregates[figure].label(figure.value) for figure in figures),
        ).group_by(func.grouping_sets(tuple_(group), tuple_()))
    )
    counts: Counts = {}
    totals = dict.fromkeys((figure.value for figure in figures), 0)
    for row in rows:
        values = {figure: int(row._mapping[figure.value]) for figure in figures}
        if row.all_groups:
            totals = {figure.value: value for figure, value in values.items()}
        else:
            counts[(row.group, None)] = values
    return await _table(session, counts, report), totals
