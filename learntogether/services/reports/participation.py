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
from datetime import date
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, distinct, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from learntogether.db.models import ParticipationCount
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.reports.query import (
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
)

NAME = "participation"


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


def _learners(column: InstrumentedAttribute[int]) -> ColumnElement[int]:
    return func.count(distinct(ParticipationCount.user_id)).filter(column > 0)


def _records(column: InstrumentedAttribute[int]) -> ColumnElement[int]:
    return func.coalesce(func.sum(column), 0)


_P = ParticipationCount
FIGURES: dict[Figure, ColumnElement[int]] = {
    Figure.JOINED: _learners(_P.joined),
    Figure.ACTIVE: _learners(_P.active),
    Figure.LESSONS_STARTED: _records(_P.lessons_started),
    Figure.LESSONS_COMPLETED: _records(_P.lessons_completed),
    Figure.TRACKS_COMPLETED: _records(_P.tracks_completed),
    Figure.CERTIFICATES: _records(_P.certificates),
    Figure.ATTENDED: _records(_P.attended),
    Figure.ASSISTED_LEARNERS: _learners(_P.assisted),
    Figure.ASSISTED_LESSONS_COMPLETED: _records(_P.assisted_lessons_completed),
    Figure.ASSISTED_ATTENDED: _records(_P.assisted_attended),
    Figure.REVIEWED: _records(_P.reviewed),
    Figure.LISTENED: _records(_P.listened),
}
"""Each figure as an aggregate over the participation counts (see ``db/activity_log.py``)."""

Key = tuple[Any, Any]
Counts = dict[Key, dict[Figure, int]]


async def _count(
    session: AsyncSession,
    criteria: Criteria,
    *,
    figures: Sequence[Figure],
    group_by: GroupBy | None,
    period: Period | None,
    zone: ZoneInfo,
) -> Counts:
    """The figures for each (group value, period start) found; (None, None) when ungrouped.

    One aggregate query over the participation counts. Only groups and periods with records
    appear.
    """
    keys: list[ColumnElement[Any]] = []
    if group_by is not None:
        keys.append(group_column(group_by, ParticipationCount).label("group"))
    if period is not None:
        start = await period_start(session, period, zone, criteria.window, ParticipationCount)
        keys.append(start.label("period"))
    rows = await session.execute(
        select(*keys, *(FIGURES[figure].label(figure.value) for figure in figures))
        .where(*criteria.conditions(ParticipationCount))
        .group_by(*(key.element for key in keys))
    )
    return {
        (row._mapping.get("group"), row._mapping.get("period")): {
            figure: int(row._mapping[figure.value]) for figure in figures
        }
        for row in rows
    }


async def participation(
    session: AsyncSession,
    *,
    group_by: GroupBy | None = None,
    period: Period | None = None,
    filters: Filters | None = None,
    start: date | None = None,
    end: date | None = None,
    zone: ZoneInfo | None = None,
    actor: Actor = SYSTEM,
    figures: Sequence[Figure] = tuple(Figure),
) -> ReportTable:
    """Participation figures, grouped by ``group_by`` and/or ``period``, or one row of totals.

    ``start`` and ``end`` are days (both included) in ``zone`` (default UTC), which also decides
    where weeks (Monday to Sunday) and months begin. Each row names its group under the group's
    own name (``region``, ``cohort`` as the cohort's code, …) and its period as the ISO date of
    the period's first day, then the figures. A mediator ``actor`` keeps to its cohorts.
    Raises InvalidInput naming the field for a cohort or track in ``filters`` that does not
    exist, or an ``end`` before ``start``.
    """
    zone = zone or ZoneInfo("UTC")
    criteria = await resolve(
        session, filters or Filters(), window=Window.of_dates(start, end, zone), actor=actor
    )
    counts = await _count(
        session, criteria, figures=figures, group_by=group_by, period=period, zone=zone
    )
    return await _table(session, counts, group_by=group_by, period=period, figures=figures)


async def _table(
    session: AsyncSession,
    counts: Counts,
    *,
    group_by: GroupBy | None,
    period: Period | None,
    figures: Sequence[Figure],
) -> ReportTable:
    """The report's rows from the counts: groups by their label, periods as ISO dates, sorted."""
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
    (UTC days).

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
    criteria = await resolve(
        session, Filters(), window=Window.of_dates(None, end, ZoneInfo("UTC")), actor=actor
    )
    group = group_column(group_by, ParticipationCount)
    rows = await session.execute(
        select(
            group.label("group"),
            func.grouping(group).label("all_groups"),
            *(FIGURES[figure].label(figure.value) for figure in figures),
        )
        .where(*criteria.conditions(ParticipationCount))
        .group_by(func.grouping_sets(tuple_(group), tuple_()))
    )
    counts: Counts = {}
    totals = dict.fromkeys((figure.value for figure in figures), 0)
    for row in rows:
        values = {figure: int(row._mapping[figure.value]) for figure in figures}
        if row.all_groups:
            totals = {figure.value: value for figure, value in values.items()}
        else:
            counts[(row.group, None)] = values
    table = await _table(session, counts, group_by=group_by, period=None, figures=figures)
    return table, totals
