"""The lesson funnel: started, each step, finished, passed; erasure, windows, scope, real play."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Cohort, Lesson, Role, User, Verb
from learntogether.services import learners, player
from learntogether.services.errors import InvalidInput
from learntogether.services.reports import funnel
from learntogether.services.reports.funnel import COLUMNS
from tests.content.samples import lesson
from tests.factories import mediating
from tests.report_builders import (
    add_cohort,
    add_learner,
    add_track,
    at,
    import_track,
    record,
    take_quiz,
)


def _stages(rows: Sequence[Mapping[str, object]], lesson_slug: str) -> list[tuple[object, ...]]:
    return [
        (row["stage"], row["step"], row["learners"], row["share"])
        for row in rows
        if row["lesson"] == lesson_slug
    ]


async def _read(
    session: AsyncSession,
    learner: User,
    lesson: Lesson,
    steps: int,
    *,
    cohort: Cohort | None = None,
    day: int = 5,
    finish: Verb | None = None,
) -> None:
    """Start ``lesson``, move through ``steps`` more steps, maybe finish and pass or fail."""
    await record(session, learner, Verb.STARTED, at(day, 9), lesson=lesson, cohort=cohort)
    for index in range(1, steps + 1):
        await record(
            session,
            learner,
            Verb.STEP,
            at(day, 9, index),
            lesson=lesson,
            cohort=cohort,
            data={"step": index},
        )
    if finish is not None:
        await record(session, learner, Verb.COMPLETED, at(day, 10), lesson=lesson, cohort=cohort)
        await record(session, learner, finish, at(day, 10, 1), lesson=lesson, cohort=cohort)


async def test_each_stage_counts_learners_who_started(session: AsyncSession) -> None:
    await add_track(session, "mixed", lessons=2, steps=3)
    quizzed = await session.scalar(select(Lesson).where(Lesson.slug == "mixed-1"))
    assert quizzed is not None
    plain_track, (plain,) = await add_track(
        session, "plain", lessons=1, steps=2, quiz=False, position=1
    )
    ana, boris, vera, dan = [await add_learner(session) for _ in range(4)]
    await _read(session, ana, quizzed, 2, finish=Verb.PASSED)
    await _read(session, boris, quizzed, 1)
    await _read(session, vera, quizzed, 2, finish=Verb.FAILED)
    # A step without a start (a start before any window, say) is not followed.
    await record(session, dan, Verb.STEP, at(6), lesson=quizzed, data={"step": 1})
    await _read(session, ana, plain, 1)
    await record(session, ana, Verb.COMPLETED, at(5, 11), lesson=plain)
    table = await funnel(session)
    assert table.columns == COLUMNS
    assert _stages(table.rows, "mixed-1") == [
        ("started", 1, 3, 1.0),
        ("step", 2, 3, 1.0),
        ("step", 3, 2, 0.667),
        ("finished", None, 2, 0.667),
        ("passed", None, 1, 0.333),
    ]
    assert _stages(table.rows, "mixed-2") == [
        ("started", 1, 0, None),
        ("step", 2, 0, None),
        ("step", 3, 0, None),
        ("finished", None, 0, None),
        ("passed", None, 0, None),
    ]
    # Without a quiz, finishing is passing.
    assert _stages(table.rows, "plain-1") == [
        ("started", 1, 1, 1.0),
        ("step", 2, 1, 1.0),
        ("finished", None, 1, 1.0),
        ("passed", None, 1, 1.0),
    ]
    assert [row["track"] for row in table.rows] == ["mixed"] * 10 + ["plain"] * 4
    only = await funnel(session, track=plain_track.slug)
    assert {row["lesson"] for row in only.rows} == {"plain-1"}


async def test_erased_learners_still_count_where_they_got(session: AsyncSession) -> None:
    """Erasure leaves the activity record alone: the funnel does not change."""
    _, (lesson_,) = await add_track(session, "mixed", lessons=1, steps=3)
    finisher, leaver = await add_learner(session), await add_learner(session)
    await _read(session, finisher, lesson_, 2, finish=Verb.PASSED)
    await _read(session, leaver, lesson_, 2)
    before = _stages((await funnel(session)).rows, "mixed-1")
    assert before == [
        ("started", 1, 2, 1.0),
        ("step", 2, 2, 1.0),
        ("step", 3, 2, 1.0),
        ("finished", None, 1, 0.5),
        ("passed", None, 1, 0.5),
    ]
    await learners.erase(session, learner=finisher)
    await learners.erase(session, learner=leaver)
    assert _stages((await funnel(session)).rows, "mixed-1") == before


async def test_window_and_mediator_scope(session: AsyncSession) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    sofia = await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
    _, (lesson_,) = await add_track(session, "mixed", lessons=1, steps=2)
    ours = await add_learner(session, cohort=sliven)
    theirs = await add_learner(session, cohort=sofia)
    await _read(session, ours, lesson_, 1, cohort=sliven, day=5, finish=Verb.PASSED)
    await _read(session, theirs, lesson_, 1, cohort=sofia, day=12)
    scoped = await funnel(session, actor=mediating(sliven.id))
    assert _stages(scoped.rows, "mixed-1") == [
        ("started", 1, 1, 1.0),
        ("step", 2, 1, 1.0),
        ("finished", None, 1, 1.0),
        ("passed", None, 1, 1.0),
    ]
    later = await funnel(session, start=date(2026, 1, 10))
    assert _stages(later.rows, "mixed-1") == [
        ("started", 1, 1, 1.0),
        ("step", 2, 1, 1.0),
        ("finished", None, 0, 0.0),
        ("passed", None, 0, 0.0),
    ]


async def test_unknown_track_is_named(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput) as error:
        await funnel(session, track="nope")
    assert [p.path for p in error.value.problems] == ["$.track"]


async def test_funnel_of_a_lesson_played_through_the_services(session: AsyncSession) -> None:
    await import_track(session, [("first", lesson())])
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == "first"))
    assert lesson_id is not None
    chain = ["en"]
    for telegram_id, answers in ((1, [[0], [0]]), (2, [[1], [1]])):
        learner = await learners.register(
            session, telegram_id=telegram_id, first_name="L", locale="en", role=Role.TEACHER
        )
        view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=chain)
        await player.go_to_step(
            session,
            learner=learner,
            progress_id=view.progress_id,
            version_id=view.version_id,
            index=1,
            chain=chain,
        )
        # Opening it again resumes the same reading; the quiz follows the last step.
        await take_quiz(session, learner, "first", answers)
    table = await funnel(session, track="demo")
    assert _stages(table.rows, "first") == [
        ("started", 1, 2, 1.0),
        ("step", 2, 2, 1.0),
        ("finished", None, 2, 1.0),
        ("passed", None, 1, 0.5),
    ]
