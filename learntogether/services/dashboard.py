"""The console's dashboard: the programme at a glance, from the participation roll-ups.

Every figure comes from ``reports.participation`` (the per-learner quarter-hour counts, not the
activity record) and ``goals``, read with the reader's reach: a mediator sees their cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import TokenRole
from learntogether.services import cohorts, goals, reports
from learntogether.services.actors import Actor
from learntogether.services.cohorts import CohortInfo
from learntogether.services.goals import GoalInfo
from learntogether.services.reports import Figure, GroupBy, Period
from learntogether.services.reports.participation import by_group_with_totals
from learntogether.services.reports.query import Cell

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


async def overview(session: AsyncSession, *, actor: Actor, today: date) -> Overview:
    """What the dashboard shows ``actor`` on ``today`` (UTC days)."""
    found_goals, _total = await goals.list_goals(session, limit=GOALS_SHOWN, offset=0, actor=actor)
    weeks = await reports.participation(
        session,
        period=Period.WEEK,
        start=today - timedelta(weeks=WEEKS_CHARTED - 1, days=today.weekday()),
        end=today,
        actor=actor,
        figures=(Figure.JOINED, Figure.ACTIVE),
    )
    # The regions and the all-time totals: one pass over each learner's totals on PostgreSQL.
    regions, all_time = await by_group_with_totals(
        session, GroupBy.REGION, actor=actor, figures=_TOTALS
    )
    quiet: list[tuple[CohortInfo, int]] = []
    if actor.role is not TokenRole.VIEWER:
        quiet = await cohorts.most_quiet(session, actor=actor, limit=QUIET_COHORTS_SHOWN)
    return Overview(
        goals=found_goals,
        all_time=all_time,
        last_7_days=await _totals(session, actor, today - timedelta(days=6), today),
        last_30_days=await _totals(session, actor, today - timedelta(days=29), today),
        weeks=weeks.rows,
        regions=regions.rows,
        quiet_cohorts=quiet,
    )
