"""The lesson funnel: of the learners who started a lesson, how many reached each step, finished it
and passed it.

One row per lesson and stage, in curriculum order: ``started`` (step 1 is shown on opening),
``step`` for steps 2 to the last, ``finished`` (completed) and ``passed``. ``learners`` counts
distinct learners and ``share`` is their share of those who started. Only learners who started the
lesson within the window are followed, so every stage is a subset of the one before.

A step is reached when the learner moved to it (a ``step`` record carries its index) or finished
the lesson, which takes reading every step. Erasing a learner leaves their records, and so the
funnel, as they were. A lesson without a quiz is passed by finishing it (as certificates count
it). The figures are read from ``lesson_reach``, which the activity writer keeps
(``db/activity_log.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import LessonReach
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.reports.query import (
    Cell,
    Criteria,
    ReportTable,
    Window,
    find_track_id,
    lessons_of_track,
    newest_documents,
    share,
)

NAME = "funnel"
COLUMNS = ["track", "lesson", "stage", "step", "learners", "share"]
# A lesson has at most twelve steps (content.schema.LessonDocument).
MAX_STEPS = 12


async def funnel(
    session: AsyncSession,
    *,
    track: str | None = None,
    start: date | None = None,
    end: date | None = None,
    zone: ZoneInfo | None = None,
    actor: Actor = SYSTEM,
) -> ReportTable:
    """The funnel of every lesson of ``track`` (of every track when None).

    ``start`` and ``end`` are days (both included) in ``zone`` (default UTC). Step counts come
    from each lesson's newest published version. Raises InvalidInput naming the field for an
    unknown track or an ``end`` before ``start``.
    """
    track_id = await find_track_id(session, track) if track is not None else None
    window = Window.of_dates(start, end, zone or ZoneInfo("UTC"))
    criteria = Criteria(window=window, actor=actor)
    lessons = (await session.execute(lessons_of_track(track_id))).all()
    ids = [lesson_id for lesson_id, _, _ in lessons]
    documents = await newest_documents(session, ids)
    figures = await _figures(session, criteria, ids)
    rows: list[dict[str, Cell]] = []
    for lesson_id, slug, track_slug in lessons:
        if lesson_id not in documents:
            continue
        document = documents[lesson_id][1]
        steps = min(len(document.get("steps", [])), MAX_STEPS)
        counts = figures.get(lesson_id, {})
        started = counts.get("started", 0)
        finished = counts.get("finished", 0)
        stages: list[tuple[str, int | None, int]] = [("started", 1, started)]
        stages += [("step", index + 1, counts.get(f"step_{index}", 0)) for index in range(1, steps)]
        passed = counts.get("passed", 0) if document.get("quiz") else finished
        stages += [("finished", None, finished), ("passed", None, passed)]
        rows += [
            {
                "track": track_slug,
                "lesson": slug,
                "stage": stage,
                "step": step,
                "learners": learners,
                "share": share(learners, started),
            }
            for stage, step, learners in stages
        ]
    return ReportTable(NAME, COLUMNS, rows)


async def _figures(
    session: AsyncSession, criteria: Criteria, lesson_ids: list[int]
) -> dict[int, dict[str, int]]:
    """Per lesson: learners who started, reached each step index, finished and passed.

    Read from ``lesson_reach`` (how far each learner got per quarter hour, kept by the activity
    writer): the same maxima as over the records themselves, from a third of the rows.
    """
    if not lesson_ids:
        return {}
    reach = LessonReach
    per_learner = (
        select(
            reach.lesson_id,
            reach.user_id,
            func.max(reach.started).label("started"),
            func.max(reach.furthest).label("furthest"),
            func.max(reach.finished).label("finished"),
            func.max(reach.passed).label("passed"),
        )
        .where(*criteria.conditions(reach), reach.lesson_id.in_(lesson_ids))
        .group_by(reach.lesson_id, reach.user_id)
        .subquery()
    )
    learner = per_learner.c

    def reached(index: int) -> ColumnElement[Any]:
        return func.sum(case(((learner.furthest >= index) | (learner.finished == 1), 1), else_=0))

    rows = await session.execute(
        select(
            learner.lesson_id,
            func.count().label("started"),
            *(reached(index).label(f"step_{index}") for index in range(1, MAX_STEPS)),
            func.sum(learner.finished).label("finished"),
            func.sum(learner.passed).label("passed"),
        )
        .where(learner.started == 1)
        .group_by(learner.lesson_id)
    )
    return {
        row.lesson_id: {name: int(value or 0) for name, value in row._mapping.items()}
        for row in rows
    }
