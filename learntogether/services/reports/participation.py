"""Participation: how many learners joined and took part, and what they finished, by group and period.

Every figure is counted from the ``activities`` record, by the snapshot each row carries (cohort,
municipality, region, country, role, locale as they were when it was written), so erased learners
keep counting and a learner who moved is counted where they were:

- ``joined``: learners who joined (registered, or joined a cohort);
- ``active``: learners who did anything themselves (joined, started, read a step, answered,
  completed, passed or failed a quiz, attended a workshop); reminders and nudges they only
  received do not count;
- ``lessons_started``: lessons started, each learner and lesson once (reading a finished lesson
  again is not a new start);
- ``lessons_completed``: lessons completed (recorded once per learner and lesson);
- ``tracks_completed``: tracks whose every published lesson the learner completed, counted where
  and when the last of them was completed;
- ``certificates``: certificates issued;
- ``attended``: workshop check-ins (one per learner and workshop).

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

from sqlalchemy import BigInteger, ColumnElement, cast, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Activity, Lesson, LessonStatus, Verb
from learntogether.services.cohorts import Scope
from learntogether.services.reports.query import (
    EVERYTHING,
    GROUP_COLUMNS,
    Cell,
    Criteria,
    Filters,
    GroupBy,
    Period,
    ReportTable,
    Window,
    group_labels,
    period_start,
    resolve,
    sort_key,
)

NAME = "participation"
PAIR_BASE = 2**31


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


# What a learner does themselves; reminded, nudged (received) and certified (a consequence of a
# completion) are not activity of their own.
ACTIVE_VERBS = (
    Verb.JOINED,
    Verb.STARTED,
    Verb.STEP,
    Verb.ANSWERED,
    Verb.COMPLETED,
    Verb.PASSED,
    Verb.FAILED,
    Verb.ATTENDED,
)


def _learners(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(distinct(Activity.user_id)).filter(condition)


def _records(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def _expression(figure: Figure) -> tuple[ColumnElement[int], tuple[Verb, ...]]:
    """The aggregate counting ``figure`` over ``activities``, and the verbs it reads."""
    verb, assisted = Activity.verb, Activity.assisted.is_(True)
    active = verb.in_(ACTIVE_VERBS)
    match figure:
        case Figure.JOINED:
            return _learners(verb == Verb.JOINED), (Verb.JOINED,)
        case Figure.ACTIVE:
            return _learners(active), ACTIVE_VERBS
        case Figure.LESSONS_STARTED:
            # One per learner and lesson. COUNT(DISTINCT a, b) is not portable; both ids are 32-bit
            # integers, so one 64-bit number names the pair exactly (and cheaper than text).
            pair = cast(Activity.user_id, BigInteger) * PAIR_BASE + Activity.lesson_id
            return func.count(distinct(pair)).filter(verb == Verb.STARTED), (Verb.STARTED,)
        case Figure.LESSONS_COMPLETED:
            return _records(verb == Verb.COMPLETED), (Verb.COMPLETED,)
        case Figure.CERTIFICATES:
            return _records(verb == Verb.CERTIFIED), (Verb.CERTIFIED,)
        case Figure.ATTENDED:
            return _records(verb == Verb.ATTENDED), (Verb.ATTENDED,)
        case Figure.ASSISTED_LEARNERS:
            return _learners(active & assisted), ACTIVE_VERBS
        case Figure.ASSISTED_LESSONS_COMPLETED:
            return _records((verb == Verb.COMPLETED) & assisted), (Verb.COMPLETED,)
        case Figure.ASSISTED_ATTENDED:
            return _records((verb == Verb.ATTENDED) & assisted), (Verb.ATTENDED,)
    raise ValueError(f"{figure} is not counted from single activities")


Key = tuple[Any, Any]
Counts = dict[Key, dict[Figure, int]]


Keys = list[tuple[str, ColumnElement[Any]]]
"""What rows are grouped by: (label, expression) pairs."""


async def _keys(
    session: AsyncSession,
    criteria: Criteria,
    group_by: GroupBy | None,
    period: Period | None,
    zone: ZoneInfo,
) -> Keys:
    keys: Keys = []
    if group_by is not None:
        keys.append(("group", GROUP_COLUMNS[group_by]))
    if period is not None:
        keys.append(("period", await period_start(session, period, zone, criteria.window)))
    return keys


def _labelled(keys: Keys) -> list[ColumnElement[Any]]:
    return [expression.label(label) for label, expression in keys]


def _expressions(keys: Keys) -> list[ColumnElement[Any]]:
    return [expression for _, expression in keys]


def _key(row: Any) -> Key:
    """The (group value, period start) a result row is about; None for what is not grouped."""
    return (row._mapping.get("group"), row._mapping.get("period"))


async def _count_activities(
    session: AsyncSession,
    criteria: Criteria,
    figures: Sequence[Figure],
    keys: Keys,
) -> Counts:
    expressions = {figure: _expression(figure) for figure in figures}
    verbs = sorted({verb for _, needed in expressions.values() for verb in needed})
    rows = await session.execute(
        select(
            *_labelled(keys),
            *(aggregate.label(figure.value) for figure, (aggregate, _) in expressions.items()),
        )
        .where(*criteria.conditions(), Activity.verb.in_(verbs))
        .group_by(*_expressions(keys))
    )
    return {
        _key(row): {figure: int(getattr(row, figure.value)) for figure in figures} for row in rows
    }


async def _count_tracks_completed(session: AsyncSession, criteria: Criteria, keys: Keys) -> Counts:
    """Learners who completed every published lesson of a track, by their last completion."""
    published = (
        select(Lesson.track_id, func.count().label("lessons"))
        .where(Lesson.status == LessonStatus.PUBLISHED, Lesson.track_id.is_not(None))
        .group_by(Lesson.track_id)
        .subquery()
    )
    # Each lesson's completion once (hash-friendly, no COUNT(DISTINCT)), then the tracks whose
    # every published lesson is among them.
    per_lesson = (
        select(Activity.user_id, Activity.lesson_id, func.max(Activity.id).label("id"))
        .where(Activity.verb == Verb.COMPLETED)
        .group_by(Activity.user_id, Activity.lesson_id)
        .subquery()
    )
    completions = (
        select(func.max(per_lesson.c.id).label("id"))
        .join(Lesson, Lesson.id == per_lesson.c.lesson_id)
        .join(published, published.c.track_id == Lesson.track_id)
        .where(Lesson.status == LessonStatus.PUBLISHED)
        .group_by(per_lesson.c.user_id, Lesson.track_id, published.c.lessons)
        .having(func.count() == published.c.lessons)
    )
    if criteria.track_id is not None:
        completions = completions.where(Lesson.track_id == criteria.track_id)
    last = completions.subquery()
    rows = await session.execute(
        select(*_labelled(keys), func.count().label(Figure.TRACKS_COMPLETED.value))
        .select_from(Activity)
        .join(last, last.c.id == Activity.id)
        .where(*criteria.conditions(by_track=False))
        .group_by(*_expressions(keys))
    )
    return {_key(row): {Figure.TRACKS_COMPLETED: int(row.tracks_completed)} for row in rows}


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

    Two aggregate queries at most: one over the verbs the figures need, and one for tracks
    completed. Only groups and periods with records appear.
    """
    keys = await _keys(session, criteria, group_by, period, zone)
    found: Counts = {}
    single = [figure for figure in figures if figure is not Figure.TRACKS_COMPLETED]
    parts = []
    if single:
        parts.append(await _count_activities(session, criteria, single, keys))
    if Figure.TRACKS_COMPLETED in figures:
        parts.append(await _count_tracks_completed(session, criteria, keys))
    for part in parts:
        for key, values in part.items():
            found.setdefault(key, dict.fromkeys(figures, 0)).update(values)
    if not keys and not found:
        found[(None, None)] = dict.fromkeys(figures, 0)
    return found


async def participation(
    session: AsyncSession,
    *,
    group_by: GroupBy | None = None,
    period: Period | None = None,
    filters: Filters | None = None,
    start: date | None = None,
    end: date | None = None,
    zone: ZoneInfo | None = None,
    scope: Scope = EVERYTHING,
    figures: Sequence[Figure] = tuple(Figure),
) -> ReportTable:
    """Participation figures, grouped by ``group_by`` and/or ``period``, or one row of totals.

    ``start`` and ``end`` are days (both included) in ``zone`` (default UTC), which also decides
    where weeks (Monday to Sunday) and months begin. Each row names its group under the group's
    own name (``region``, ``cohort`` as the cohort's code, …) and its period as the ISO date of
    the period's first day, then the figures. A mediator's ``scope`` keeps to its cohorts.
    Raises InvalidInput naming the field for a cohort or track in ``filters`` that does not
    exist, or an ``end`` before ``start``.
    """
    zone = zone or ZoneInfo("UTC")
    criteria = await resolve(
        session, filters or Filters(), window=Window.of_dates(start, end, zone), scope=scope
    )
    counts = await _count(
        session, criteria, figures=figures, group_by=group_by, period=period, zone=zone
    )
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
