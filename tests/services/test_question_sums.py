"""Item analysis's sums kept as attempts finish: the same rows as the answers give, every time."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.content.schema import LessonDocument
from learntogether.db import question_sums
from learntogether.db.models import (
    Cohort,
    Lesson,
    LessonVersion,
    QuestionSum,
    QuizAttempt,
    Role,
    User,
)
from learntogether.services import learners, lessons, player, quizzes
from learntogether.services.actors import Actor
from learntogether.services.player import StaleButton
from learntogether.services.reports import questions
from tests.conftest import TestDatabase
from tests.content.samples import every_kind_lesson
from tests.factories import mediating
from tests.report_builders import add_cohort, import_track

CHAIN = ["en"]
ADMIN = Actor.system("test")
SLUG = "kinds"
QUESTIONS = 5  # every_kind_lesson: one, many, tf, feel (likert), think (open)

Given = list[int] | str | None

# One answer to each question of every_kind_lesson, the multiple choice in the order tapped.
answer_sheets = st.tuples(
    st.sampled_from([[0], [1]]),
    st.permutations([0, 1, 2]).flatmap(
        lambda order: st.integers(1, 3).map(lambda size: order[:size])
    ),
    st.sampled_from([[0], [1]]),
    st.integers(1, 5).map(lambda point: [point]),
    st.sampled_from(["Mix the groups.", None]),
).map(list)


@dataclass
class Start:
    """The learner opens the lesson and starts a new attempt, answering ``answered`` questions."""

    learner: int
    answered: int
    sheet: list[Given]


@dataclass
class Resume:
    """The learner answers the rest of one of its unfinished attempts (``which``, wrapped)."""

    learner: int
    which: int
    sheet: list[Given]


class Publish:
    """A new version of the lesson, its right answers changed."""


actions = st.one_of(
    st.builds(Start, st.integers(0, 2), st.integers(0, QUESTIONS), answer_sheets),
    st.builds(Start, st.integers(0, 2), st.just(QUESTIONS), answer_sheets),
    st.builds(Resume, st.integers(0, 2), st.integers(0, 3), answer_sheets),
    st.just(Publish()),
)


def _changed(number: int) -> LessonDocument:
    """Version ``number`` + 1: another option right in the single-choice question."""
    document = copy.deepcopy(every_kind_lesson())
    options = document["quiz"]["questions"][0]["options"]
    options[0]["correct"], options[1]["correct"] = number % 2 == 1, number % 2 == 0
    document["title"] = {"en": f"Every kind {number}"}
    return LessonDocument.model_validate({**document, "slug": SLUG, "track": "demo"})


async def _answer(
    session: AsyncSession, learner: User, attempt_id: int, start: int, sheet: Sequence[Given]
) -> None:
    for index in range(start, len(sheet)):
        given = sheet[index]
        await quizzes.answer(
            session,
            learner=learner,
            attempt_id=attempt_id,
            index=index,
            chosen=given if isinstance(given, list) else [],
            text=given if isinstance(given, str) else None,
            chain=CHAIN,
        )


async def _play(session: AsyncSession, people: list[User], program: Sequence[Any]) -> None:
    """Run the program: attempts started, left, finished later (older ones after newer ones),
    new versions between them."""
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == SLUG))
    assert lesson_id is not None
    waiting: dict[int, list[int]] = {index: [] for index in range(len(people))}
    published = 0
    for action in program:
        if isinstance(action, Publish):
            published += 1
            await lessons.save_draft(session, document=_changed(published), actor=ADMIN)
            await lessons.publish_lesson(session, slug=SLUG, actor=ADMIN)
            continue
        learner = people[action.learner]
        if isinstance(action, Start):
            view = await player.open_lesson(
                session, learner=learner, lesson_id=lesson_id, chain=CHAIN
            )
            question = await quizzes.start_attempt(
                session,
                learner=learner,
                progress_id=view.progress_id,
                version_id=view.version_id,
                chain=CHAIN,
            )
            await _answer(session, learner, question.attempt_id, 0, action.sheet[: action.answered])
            if action.answered < QUESTIONS:
                waiting[action.learner].append(question.attempt_id)
            continue
        if not waiting[action.learner]:
            continue
        attempt_id = waiting[action.learner].pop(action.which % len(waiting[action.learner]))
        attempt = await session.get(QuizAttempt, attempt_id)
        assert attempt is not None
        # An attempt of a version the learner has left stays unfinished.
        with contextlib.suppress(StaleButton):
            await _answer(session, learner, attempt_id, attempt.question_index, action.sheet)


async def _sums(session: AsyncSession) -> list[tuple[Any, ...]]:
    rows = await session.execute(select(QuestionSum).order_by(*QuestionSum.__table__.primary_key))
    return [
        tuple(getattr(row, name) for name in (*question_sums.KEY, *question_sums.FIGURES))
        for row in rows.scalars()
    ]


async def _learners(session: AsyncSession, cohort: Cohort, count: int) -> list[User]:
    return [
        await learners.register(
            session,
            telegram_id=7_000 + number,
            first_name="L",
            locale="en",
            role=Role.TEACHER,
            cohort_code=cohort.code,
        )
        for number in range(count)
    ]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(actions, min_size=1, max_size=14))
async def test_sums_give_the_rows_the_answers_give(
    session: AsyncSession, program: list[Any]
) -> None:
    example = await session.begin_nested()
    try:
        cohort = await add_cohort(session, "ALL1", region="Sliven", municipality="Sliven")
        await import_track(session, [(SLUG, every_kind_lesson())])
        people = await _learners(session, cohort, 3)
        await _play(session, people, program)
        everyone = mediating(cohort.id)  # the same learners, read from the answers
        numbers = await session.scalars(
            select(LessonVersion.number)
            .join(Lesson, Lesson.id == LessonVersion.lesson_id)
            .where(Lesson.slug == SLUG)
        )
        for version in [None, *numbers]:
            summed = await questions(session, lesson=SLUG, version=version, actor=ADMIN)
            answered = await questions(session, lesson=SLUG, version=version, actor=everyone)
            assert summed.rows == answered.rows, version
        kept = await _sums(session)
        await question_sums.rebuild(session)
        assert await _sums(session) == kept
    finally:
        await example.rollback()


async def test_sums_are_built_when_missing_and_only_then(session: AsyncSession) -> None:
    """A database that just got the table (``db upgrade``) has its sums built from the answers."""
    cohort = await add_cohort(session, "ALL1", region="Sliven", municipality="Sliven")
    await import_track(session, [(SLUG, every_kind_lesson())])
    connection = await session.connection()
    assert await question_sums.rebuild_if_missing(connection) is False  # nothing finished yet
    (ana,) = await _learners(session, cohort, 1)
    await _play(session, [ana], [Start(0, QUESTIONS, [[1], [2, 0], [0], [4], "Mix."])])
    kept = await _sums(session)
    assert sorted(row[1:] for row in kept) == [
        (True, "feel", "4", 1, 0, 3, 0, 9),
        (True, "many", "0,2", 1, 1, 2, 2, 4),
        (True, "one", "1", 1, 1, 2, 2, 4),
        (True, "tf", "0", 1, 1, 2, 2, 4),
        (True, "think", "", 1, 0, 3, 0, 9),
    ]
    assert await question_sums.rebuild_if_missing(connection) is False
    await session.execute(delete(QuestionSum))
    assert await question_sums.rebuild_if_missing(connection) is True
    assert await _sums(session) == kept


async def test_a_finishing_answer_writes_the_sums_in_one_statement_and_others_none(
    session: AsyncSession, database: TestDatabase
) -> None:
    cohort = await add_cohort(session, "ALL1", region="Sliven", municipality="Sliven")
    await import_track(session, [(SLUG, every_kind_lesson())])
    (ana,) = await _learners(session, cohort, 1)
    sheet: list[Given] = [[1], [0, 2], [0], [4], None]
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    try:
        await _play(session, [ana], [Start(0, QUESTIONS - 1, sheet)])
        assert not [s for s in seen if "question_sums" in s]
        attempt_id = await session.scalar(
            select(QuizAttempt.id).where(QuizAttempt.user_id == ana.id)
        )
        assert attempt_id is not None
        await _answer(session, ana, attempt_id, QUESTIONS - 1, sheet)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", note)
    assert len([s for s in seen if "question_sums" in s]) == 1


async def test_two_attempts_finishing_at_once_count_once(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    """The learner's quiz recorded from paper while it answers its own last question: whichever
    commits first is the first attempt, and the other waits for it."""
    sheet: list[Given] = [[1], [0, 2], [0], [4], None]
    async with session_maker() as session:
        cohort = await add_cohort(session, "ALL1", region="Sliven", municipality="Sliven")
        await import_track(session, [(SLUG, every_kind_lesson())])
        (ana,) = await _learners(session, cohort, 1)
        await _play(session, [ana], [Start(0, QUESTIONS - 1, sheet)] * 2)
        attempts = list(
            await session.scalars(select(QuizAttempt.id).where(QuizAttempt.user_id == ana.id))
        )
        await session.commit()
    first_answered = asyncio.Event()

    async def finish(attempt_id: int, *, hold: bool) -> None:
        async with session_maker() as finishing:
            learner = await finishing.get(User, ana.id)
            assert learner is not None
            if not hold:
                await first_answered.wait()
            await _answer(finishing, learner, attempt_id, QUESTIONS - 1, sheet)
            if hold:
                first_answered.set()
                await asyncio.sleep(0.5)  # the other one's answer comes meanwhile
            await finishing.commit()

    await asyncio.gather(finish(attempts[0], hold=True), finish(attempts[1], hold=False))
    async with session_maker() as session:
        assert (
            await session.scalar(
                select(func.sum(QuestionSum.answers)).where(QuestionSum.question_key == "one")
            )
            == 1
        )
