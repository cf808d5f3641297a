"""Training goals (such as 300 teachers of a region completing a track by June) and their progress.

A goal counts one participation figure (``GoalMeasure``) over the learners its filters describe,
from ``starts_on`` (or the beginning) through ``deadline``, both whole UTC days. It is counted by
``reports.participation`` with the same filters as the report, so a goal and the report never
disagree.

Progress says where the goal stands on a day (``as_of``, default today):

- ``value`` and ``share`` of the target reached;
- ``achieved_per_week``: the value over the weeks elapsed since the goal started (null before);
- ``required_per_week``: what is still missing over the weeks left until the deadline (0 when
  reached; null after a missed deadline);
- ``on_track``: reached, or not yet started, or going at least as fast as still required.

A goal without ``starts_on`` counts everything before its deadline; its pace is measured from the
day it was created. Admins write goals; mediators read the goals set for one of their cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import Cohort, Goal, GoalMeasure, Role, Track
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.audit import record_change
from learntogether.services.errors import FieldProblem, InvalidInput, NotFound
from learntogether.services.inputs import MAX_INTEGER, Day
from learntogether.services.reports.participation import Figure, participation
from learntogether.services.reports.query import Filters

FIGURE_OF: dict[GoalMeasure, Figure] = {
    GoalMeasure.LEARNERS_JOINED: Figure.JOINED,
    GoalMeasure.LESSONS_COMPLETED: Figure.LESSONS_COMPLETED,
    GoalMeasure.TRACKS_COMPLETED: Figure.TRACKS_COMPLETED,
    GoalMeasure.CERTIFICATES: Figure.CERTIFICATES,
    GoalMeasure.ATTENDED: Figure.ATTENDED,
}
# Joining and workshops belong to no track.
WITHOUT_TRACK = (GoalMeasure.LEARNERS_JOINED, GoalMeasure.ATTENDED)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class GoalFilters(BaseModel):
    """Which learners count, by where and who they were when they did it."""

    model_config = ConfigDict(extra="forbid")

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    region: Text | None = None
    municipality: Text | None = None
    role: Role | None = None
    cohort: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    """A cohort's code."""


class GoalSpec(BaseModel):
    """A goal as an admin writes it (POST and PUT)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    measure: GoalMeasure
    track: str | None = None
    """A track's slug: only that track's lessons, completions or certificates count."""
    filters: GoalFilters = GoalFilters()
    target: Annotated[int, Field(gt=0, le=MAX_INTEGER)]
    starts_on: Day | None = None
    deadline: Day


@dataclass(frozen=True)
class GoalProgress:
    as_of: date
    value: int
    share: float
    """value / target, 1.0 and above once reached."""
    achieved_per_week: float | None
    required_per_week: float | None
    on_track: bool


@dataclass(frozen=True)
class GoalInfo:
    id: int
    name: str
    measure: GoalMeasure
    track: str | None
    filters: dict[str, Any]
    target: int
    starts_on: date | None
    deadline: date
    created_at: datetime
    updated_at: datetime
    progress: GoalProgress


async def _check(session: AsyncSession, spec: GoalSpec) -> int | None:
    """Every problem of the spec the schema cannot see; returns the track's id."""
    problems: list[FieldProblem] = []
    if spec.starts_on is not None and spec.deadline < spec.starts_on:
        problems.append(
            FieldProblem("$.deadline", f"{spec.deadline} is before starts_on {spec.starts_on}")
        )
    track_id = None
    if spec.track is not None:
        if spec.measure in WITHOUT_TRACK:
            problems.append(
                FieldProblem("$.track", f"{spec.measure.value} is not counted per track")
            )
        track_id = await session.scalar(select(Track.id).where(Track.slug == spec.track))
        if track_id is None:
            problems.append(FieldProblem("$.track", f"no track '{spec.track}'"))
    if spec.filters.cohort is not None:
        known = await session.scalar(select(Cohort.id).where(Cohort.code == spec.filters.cohort))
        if known is None:
            problems.append(FieldProblem("$.filters.cohort", f"no cohort '{spec.filters.cohort}'"))
    if problems:
        raise InvalidInput(f"The goal has {len(problems)} problem(s).", problems)
    return track_id


def pace(
    *,
    value: int,
    target: int,
    starts_on: date,
    deadline: date,
    as_of: date,
) -> GoalProgress:
    """Where a goal stands on ``as_of``; days are counted whole, ``as_of`` as elapsed."""
    elapsed_days = max(0, (min(as_of, deadline) - starts_on).days + 1)
    days_left = max(0, (deadline - as_of).days)
    missing = max(0, target - value)
    achieved = round(value * 7 / elapsed_days, 2) if elapsed_days else None
    if missing == 0:
        required: float | None = 0.0
    else:
        required = round(missing * 7 / days_left, 2) if days_left else None
    on_track = (
        missing == 0
        or elapsed_days == 0
        or (required is not None and achieved is not None and achieved >= required)
    )
    return GoalProgress(
        as_of=as_of,
        value=value,
        share=round(value / target, 4),
        achieved_per_week=achieved,
        required_per_week=required,
        on_track=on_track,
    )


async def _progress(
    session: AsyncSession, goal: Goal, track: str | None, as_of: date
) -> GoalProgress:
    figure = FIGURE_OF[goal.measure]
    stored = GoalFilters.model_validate(goal.filters)
    filters = Filters(
        country=stored.country,
        region=stored.region,
        municipality=stored.municipality,
        role=stored.role,
        cohort=stored.cohort,
        track=track,
    )
    try:
        table = await participation(
            session, filters=filters, start=goal.starts_on, end=goal.deadline, figures=[figure]
        )
        value = int(table.rows[0][figure.value] or 0)
    except InvalidInput:
        # The goal's cohort or track is gone: nobody counts for it any more.
        value = 0
    return pace(
        value=value,
        target=goal.target,
        starts_on=goal.starts_on or goal.created_at.date(),
        deadline=goal.deadline,
        as_of=as_of,
    )


async def _info(session: AsyncSession, goal: Goal, as_of: date | None) -> GoalInfo:
    track = (
        await session.scalar(select(Track.slug).where(Track.id == goal.track_id))
        if goal.track_id is not None
        else None
    )
    return GoalInfo(
        id=goal.id,
        name=goal.name,
        measure=goal.measure,
        track=track,
        filters=dict(goal.filters),
        target=goal.target,
        starts_on=goal.starts_on,
        deadline=goal.deadline,
        created_at=goal.created_at,
        updated_at=goal.updated_at,
        progress=await _progress(session, goal, track, as_of or utcnow().date()),
    )


async def _visible(session: AsyncSession, actor: Actor) -> Any:
    """The condition on goals an actor may read: a mediator's, the goals of its cohorts."""
    if actor.cohort_ids is None:
        return None
    codes = list(
        await session.scalars(select(Cohort.code).where(Cohort.id.in_(sorted(actor.cohort_ids))))
    )
    return Goal.filters["cohort"].as_string().in_(codes)


async def _find(session: AsyncSession, goal_id: int, actor: Actor = SYSTEM) -> Goal:
    goal = await session.get(Goal, goal_id)
    if goal is None:
        raise NotFound(f"No goal {goal_id}.")
    visible = await _visible(session, actor)
    if visible is not None:
        allowed = await session.scalar(select(Goal.id).where(Goal.id == goal_id, visible))
        if allowed is None:
            raise NotFound(f"No goal {goal_id} among your cohorts' goals.")
    return goal


def _stored(spec: GoalSpec, track_id: int | None) -> dict[str, Any]:
    return {
        "name": spec.name,
        "measure": spec.measure,
        "track_id": track_id,
        "filters": spec.filters.model_dump(mode="json", exclude_none=True),
        "target": spec.target,
        "starts_on": spec.starts_on,
        "deadline": spec.deadline,
    }


def _audited(goal: Goal) -> dict[str, Any]:
    return {
        "name": goal.name,
        "measure": goal.measure.value,
        "track_id": goal.track_id,
        "filters": goal.filters,
        "target": goal.target,
        "starts_on": goal.starts_on.isoformat() if goal.starts_on else None,
        "deadline": goal.deadline.isoformat(),
    }


async def create_goal(
    session: AsyncSession, *, spec: GoalSpec, actor: Actor, as_of: date | None = None
) -> GoalInfo:
    """A new goal with its progress so far; InvalidInput names each wrong field."""
    track_id = await _check(session, spec)
    goal = Goal(**_stored(spec, track_id))
    session.add(goal)
    await session.flush()
    await record_change(
        session,
        actor=actor,
        action="create",
        entity="goal",
        entity_id=str(goal.id),
        after=_audited(goal),
    )
    return await _info(session, goal, as_of)


async def update_goal(
    session: AsyncSession, *, goal_id: int, spec: GoalSpec, actor: Actor, as_of: date | None = None
) -> GoalInfo:
    """Replace a goal's definition; NotFound for an unknown goal."""
    goal = await _find(session, goal_id)
    track_id = await _check(session, spec)
    before = _audited(goal)
    for name, value in _stored(spec, track_id).items():
        setattr(goal, name, value)
    await session.flush()
    await record_change(
        session,
        actor=actor,
        action="update",
        entity="goal",
        entity_id=str(goal.id),
        before=before,
        after=_audited(goal),
    )
    return await _info(session, goal, as_of)


async def delete_goal(session: AsyncSession, *, goal_id: int, actor: Actor) -> None:
    """Remove a goal (its definition is kept in the audit log); NotFound for an unknown goal."""
    goal = await _find(session, goal_id)
    before = _audited(goal)
    await session.delete(goal)
    await session.flush()
    await record_change(
        session, actor=actor, action="delete", entity="goal", entity_id=str(goal_id), before=before
    )


async def get_goal(
    session: AsyncSession, *, goal_id: int, actor: Actor, as_of: date | None = None
) -> GoalInfo:
    """One goal with its progress; NotFound for an unknown goal or one out of the actor's reach."""
    return await _info(session, await _find(session, goal_id, actor), as_of)


async def list_goals(
    session: AsyncSession,
    *,
    limit: int,
    offset: int,
    actor: Actor,
    as_of: date | None = None,
) -> tuple[list[GoalInfo], int]:
    """Goals by deadline, each with its progress, and how many the actor may read."""
    query = select(Goal)
    visible = await _visible(session, actor)
    if visible is not None:
        query = query.where(visible)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    goals = list(
        await session.scalars(query.order_by(Goal.deadline, Goal.id).limit(limit).offset(offset))
    )
    return [await _info(session, goal, as_of) for goal in goals], total
