"""Goals: validation, progress from the participation record, pace, scope, audit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import AuditLog, Cohort, GoalMeasure, Role, Verb
from learntogether.services import goals, learners
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.errors import InvalidInput, NotFound
from learntogether.services.goals import GoalSpec, pace
from tests.content.samples import lesson
from tests.factories import mediating
from tests.report_builders import add_cohort, add_learner, at, import_track, record, take_quiz

JAN_1, JAN_28 = date(2026, 1, 1), date(2026, 1, 28)


def _spec(**changes: Any) -> GoalSpec:
    data: dict[str, Any] = {
        "name": "Teachers of Sliven finish the track",
        "measure": "learners_joined",
        "target": 10,
        "starts_on": "2026-01-01",
        "deadline": "2026-06-30",
    }
    data.update(changes)
    return GoalSpec.model_validate(data)


@pytest.mark.parametrize(
    ("value", "as_of", "expected"),
    [
        # Two weeks of four gone: 7 a week done, 13 a week still needed.
        (14, date(2026, 1, 14), (0.35, 7.0, 13.0, False)),
        (20, date(2026, 1, 14), (0.5, 10.0, 10.0, True)),
        # Not started yet: nothing is late.
        (0, date(2025, 12, 31), (0.0, None, 40.0 * 7 / 28, True)),
        # Deadline passed short of the target; the pace achieved is over the whole span.
        (30, date(2026, 2, 10), (0.75, 7.5, None, False)),
        (40, date(2026, 1, 20), (1.0, 14.0, 0.0, True)),
        (44, date(2026, 2, 10), (1.1, 11.0, 0.0, True)),
    ],
)
def test_pace(value: int, as_of: date, expected: tuple[object, ...]) -> None:
    progress = pace(value=value, target=40, starts_on=JAN_1, deadline=JAN_28, as_of=as_of)
    assert progress.value == value
    assert progress.as_of == as_of
    assert (
        progress.share,
        progress.achieved_per_week,
        progress.required_per_week,
        progress.on_track,
    ) == expected


async def test_every_problem_of_a_goal_is_named(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput) as error:
        await goals.create_goal(
            session,
            spec=_spec(
                track="nope",
                filters={"cohort": "NOPE"},
                starts_on="2026-07-01",
                deadline="2026-06-30",
            ),
            actor=Actor.system("test"),
        )
    assert [(p.path, p.message) for p in error.value.problems] == [
        ("$.deadline", "2026-06-30 is before starts_on 2026-07-01"),
        ("$.track", "learners_joined is not counted per track"),
        ("$.track", "no track 'nope'"),
        ("$.filters.cohort", "no cohort 'NOPE'"),
    ]


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"measure": "happiness"}, ("measure",)),
        ({"target": 0}, ("target",)),
        ({"target": -3}, ("target",)),
        ({"filters": {"role": "astronaut"}}, ("filters", "role")),
        ({"filters": {"country": "Bulgaria"}}, ("filters", "country")),
        ({"filters": {"ethnicity": "x"}}, ("filters", "ethnicity")),
        ({"name": " "}, ("name",)),
    ],
)
def test_the_schema_refuses_what_it_can(changes: dict[str, Any], path: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="validation error") as error:
        _spec(**changes)
    assert [tuple(e["loc"]) for e in error.value.errors()] == [path]  # type: ignore[attr-defined]


async def test_progress_moves_when_a_learner_completes_the_track(session: AsyncSession) -> None:
    await import_track(session, [("only", lesson())])
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    today = utcnow().date()
    window = {
        "starts_on": str(today - timedelta(days=6)),
        "deadline": str(today + timedelta(days=7)),
    }
    tracks = await goals.create_goal(
        session,
        spec=_spec(measure="tracks_completed", track="demo", target=4, **window),
        actor=Actor.system("test"),
    )
    certified = await goals.create_goal(
        session,
        spec=_spec(
            measure="certificates", track="demo", target=1, filters={"region": "Sliven"}, **window
        ),
        actor=Actor.system("test"),
    )
    assert tracks.progress.value == 0
    learner = await learners.register(
        session,
        telegram_id=1,
        first_name="Ana",
        locale="bg",
        role=Role.TEACHER,
        cohort_code=sliven.code,
    )
    await take_quiz(session, learner, "only", [[0], [0]])
    moved = await goals.get_goal(session, goal_id=tracks.id, actor=SYSTEM, as_of=today)
    assert (moved.progress.value, moved.progress.share, moved.progress.as_of) == (1, 0.25, today)
    # One in the first week (seven days elapsed counting today): 1 a week; 3 more in one week.
    assert (moved.progress.achieved_per_week, moved.progress.required_per_week) == (1.0, 3.0)
    assert moved.progress.on_track is False
    done = await goals.get_goal(session, goal_id=certified.id, actor=SYSTEM, as_of=today)
    assert (done.progress.value, done.progress.share, done.progress.on_track) == (1, 1.0, True)


async def test_filters_and_dates_decide_who_counts(session: AsyncSession) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    sofia = await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
    teacher = await add_learner(session, cohort=sliven)
    parent = await add_learner(session, role=Role.PARENT, cohort=sofia)
    late = await add_learner(session, cohort=sliven)
    await record(session, teacher, Verb.JOINED, at(5), cohort=sliven)
    await record(session, parent, Verb.JOINED, at(6), cohort=sofia)
    await record(session, late, Verb.JOINED, at(2, month=2), cohort=sliven)
    await record(session, parent, Verb.ATTENDED, at(7), cohort=sofia, assisted=True)
    as_of = date(2026, 3, 1)
    january = {"starts_on": "2026-01-01", "deadline": "2026-01-31"}

    async def value(**changes: Any) -> int:
        goal = await goals.create_goal(
            session, spec=_spec(**changes), actor=Actor.system("t"), as_of=as_of
        )
        return goal.progress.value

    assert await value(**january) == 2
    assert await value(**january, filters={"cohort": "SLV1"}) == 1
    assert await value(**january, filters={"role": "parent", "country": "BG"}) == 1
    assert await value(**january, filters={"municipality": "Sofia", "region": "Sliven"}) == 0
    assert await value(starts_on=None, deadline="2026-12-31") == 3
    assert await value(measure="attended", **january) == 1


async def test_mediators_read_their_cohorts_goals_only(session: AsyncSession) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
    ours = await goals.create_goal(
        session, spec=_spec(name="Ours", filters={"cohort": "SLV1"}), actor=Actor.system("t")
    )
    theirs = await goals.create_goal(
        session,
        spec=_spec(name="Theirs", filters={"cohort": "SOF1"}, deadline="2026-05-01"),
        actor=Actor.system("t"),
    )
    national = await goals.create_goal(
        session, spec=_spec(name="National", deadline="2026-04-01"), actor=Actor.system("t")
    )
    everything, total = await goals.list_goals(session, limit=10, offset=0, actor=SYSTEM)
    assert ([goal.name for goal in everything], total) == (["National", "Theirs", "Ours"], 3)
    scope = mediating(sliven.id)
    mine, total = await goals.list_goals(session, limit=10, offset=0, actor=scope)
    assert ([goal.id for goal in mine], total) == ([ours.id], 1)
    assert (await goals.get_goal(session, goal_id=ours.id, actor=scope)).name == "Ours"
    for other in (theirs, national):
        with pytest.raises(NotFound):
            await goals.get_goal(session, goal_id=other.id, actor=scope)


async def test_update_and_delete_are_audited(session: AsyncSession) -> None:
    goal = await goals.create_goal(session, spec=_spec(), actor=Actor.system("token:office"))
    changed = await goals.update_goal(
        session,
        goal_id=goal.id,
        spec=_spec(name="Renamed", target=20),
        actor=Actor.system("token:office"),
    )
    assert (changed.name, changed.target, changed.progress.share) == ("Renamed", 20, 0.0)
    await goals.delete_goal(session, goal_id=goal.id, actor=Actor.system("token:office"))
    with pytest.raises(NotFound):
        await goals.get_goal(session, goal_id=goal.id, actor=SYSTEM)
    with pytest.raises(NotFound):
        await goals.delete_goal(session, goal_id=goal.id, actor=Actor.system("token:office"))
    entries = (
        await session.scalars(
            select(AuditLog).where(AuditLog.entity == "goal").order_by(AuditLog.id)
        )
    ).all()
    assert [(e.action, e.actor, e.entity_id) for e in entries] == [
        ("create", "token:office", str(goal.id)),
        ("update", "token:office", str(goal.id)),
        ("delete", "token:office", str(goal.id)),
    ]
    assert entries[1].before is not None and entries[1].after is not None
    assert (entries[1].before["name"], entries[1].after["target"]) == (
        "Teachers of Sliven finish the track",
        20,
    )
    assert GoalMeasure.LEARNERS_JOINED.value == entries[0].after["measure"]  # type: ignore[index]


async def test_a_deleted_cohort_counts_nobody(session: AsyncSession) -> None:
    cohort = await add_cohort(session, "GONE", region="Sliven", municipality="Sliven")
    goal = await goals.create_goal(
        session, spec=_spec(filters={"cohort": "GONE"}), actor=Actor.system("t")
    )
    await session.delete(await session.get(Cohort, cohort.id))
    await session.flush()
    assert (await goals.get_goal(session, goal_id=goal.id, actor=SYSTEM)).progress.value == 0
