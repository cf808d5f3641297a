"""The console's dashboard: the programme at a glance, from the participation roll-ups.

Every figure comes from ``reports.participation`` (the per-learner quarter-hour counts, not the
activity record) and ``goals``, read with the reader's reach: a mediator sees their cohorts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole
from learntogether.services import cohorts, goals, reports
from learntogether.services.actors import Actor
from learntogether.services.cohorts import CohortInfo
from learntogether.services.goals import GoalInfo
from learntogether.services.reports import Figure, GroupBy, Period, ReportTable
from learntogether.services.reports.participation import by_group_with_totals
from learntogether.services.reports.query import Cell

T = TypeVar("T")
WEEKS_CHARTED = 12
QUIET_COHORTS_SHOWN = 5
GOALS_SHOWN = 50
_TOTALS = (
    Figure.JOINED,
    Figure.ACTIVE,
    Figure.LESSONS_COMPLETED,
    Figure.TRACKS_COMPLETED,
    Figure.CERTIFICATES,
)


@dataclass(frozen=True)
class Overview:
    goals: list[GoalInfo]
    all_time: dict[str, int]
    last_7_days: dict[str, int]
    last_30_days: dict[str, int]
    weeks: list[dict[str, Cell]]
    """One row a week, oldest first: ``period`` (its Monday), ``joined``, ``active``."""
    regions: list[dict[str, Cell]]
    quiet_cohorts: list[tuple[CohortInfo, int]]
    """The cohorts with the most members gone quiet, most first (none for viewers)."""


async def _totals(
    session: AsyncSession, actor: Actor, start: date | None, end: date
) -> dict[str, int]:
    table = await reports.participation(session, start=start, end=end, actor=actor, figures=_TOTALS)
    row = table.rows[0] if table.rows else {}
    return {figure.value: int(row.get(figure.value) or 0) for figure in _TOTALS}


async def overview(
    session: AsyncSession,
    *,
    actor: Actor,
    today: date,
    readers: async_sessionmaker[AsyncSession] | None = None,
) -> Overview:
    """What the dashboard shows ``actor`` on ``today`` (UTC days).

    Given ``readers``, the three parts that read the most rows (the weeks, the regions with
    the all-time totals, the quiet cohorts; 50-100 ms each on 100,000 learners) are read at
    the same time, each in a session of its own that only reads, and the rest meanwhile on
    ``session``; else one after the other on ``session``.
    """

    async def weeks(reader: AsyncSession) -> list[dict[str, Cell]]:
        table = await reports.participation(
            reader,
            period=Period.WEEK,
            start=today - timedelta(weeks=WEEKS_CHARTED - 1, days=today.weekday()),
            end=today,
            actor=actor,
            figures=(Figure.JOINED, Figure.ACTIVE),
        )
        return table.rows

    async def regions(reader: AsyncSession) -> tuple[ReportTable, dict[str, int]]:
        # The regions and the all-time totals: one pass over each learner's totals on
        # PostgreSQL.
        return await by_group_with_totals(reader, GroupBy.REGION, actor=actor, figures=_TOTALS)

    async def quiet(reader: AsyncSession) -> list[tuple[CohortInfo, int]]:
        if actor.role is TokenRole.VIEWER:
            return []
        return await cohorts.most_quiet(reader, actor=actor, limit=QUIET_COHORTS_SHOWN)

    async def the_rest(
        reader: AsyncSession,
    ) -> tuple[list[GoalInfo], dict[str, int], dict[str, int]]:
        found, _total = await goals.list_goals(reader, limit=GOALS_SHOWN, offset=0, actor=actor)
        last_7_days = await _totals(reader, actor, today - timedelta(days=6), today)
        last_30_days = await _totals(reader, actor, today - timedelta(days=29), today)
        return found, last_7_days, last_30_days

    if readers is None:
        found_weeks, (by_region, all_time), found_quiet, rest = (
            await weeks(session),
            await regions(session),
            await quiet(session),
            await the_rest(session),
        )
    else:
        # The small rest meanwhile on the caller's session.
        found_weeks, (by_region, all_time), found_quiet, rest = await asyncio.gather(
            _apart(readers, weeks),
            _apart(readers, regions),
            _apart(readers, quiet),
            the_rest(session),
        )
    found_goals, last_7_days, last_30_days = rest
    return Overview(
        goals=found_goals,
        all_time=all_time,
        last_7_days=last_7_days,
        last_30_days=last_30_days,
        weeks=found_weeks,
        regions=by_region.rows,
        quiet_cohorts=found_quiet,
    )


async def _apart(
    readers: async_sessionmaker[AsyncSession], read: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """``read`` in a session of its own, which writes nothing and is closed after."""
    async with readers() as reader:
        return await read(reader)
