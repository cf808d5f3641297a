"""Scoring, pass rules, attempts and version pinning, on a real database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import RenderedOption, RenderedQuestion
from learntogether.content.schema import LessonDocument, TrackDocument
from learntogether.db.models import (
    Activity,
    Answer,
    Lesson,
    LessonProgress,
    ProgressStatus,
    Role,
    User,
    Verb,
)
from learntogether.services import learners, lessons, player, published, quizzes
from learntogether.services.actors import Actor
from learntogether.services.curriculum import import_curriculum
from learntogether.services.errors import NotFound
from learntogether.services.player import StaleButton
from learntogether.services.tracks import find_track
from tests.content.samples import TRACK, lesson

CHAIN = ["en"]


def _question(kind: str, correct: list[bool]) -> RenderedQuestion:
    options = [
        RenderedOption(text=str(i), correct=flag, feedback=None) for i, flag in enumerate(correct)
    ]
    return RenderedQuestion(
        key="q", kind=kind, text="?", options=options, explanation=None, poll=False
    )


@pytest.mark.parametrize(
    ("kind", "correct", "chosen", "expected"),
    [
        ("single", [False, True], [1], True),
        ("single", [False, True], [0], False),
        ("true_false", [True, False], [0], True),
        ("multiple", [True, False, True], [0, 2], True),
        ("multiple", [True, False, True], [0], False),
        ("multiple", [True, False, True], [0, 1, 2], False),
        ("likert", [], [4], None),
        ("open", [], [], None),
    ],
)
def test_is_correct(
    kind: str, correct: list[bool], chosen: list[int], expected: bool | None
) -> None:
    assert player.is_correct(_question(kind, correct), chosen) is expected


@pytest.mark.parametrize(
    ("correct", "scored", "pass_score", "passed", "percent"),
    [
        (3, 4, 70, True, 75),
        (2, 3, 70, False, 67),
        (7, 10, 70, True, 70),
        (0, 0, None, True, None),
        (0, 2, 0, True, 0),
    ],
)
def test_decide_pass_at_the_threshold(
    correct: int, scored: int, pass_score: int | None, passed: bool, percent: int | None
) -> None:
    result = quizzes.decide(correct, scored, pass_score)
    assert (result.passed, result.percent) == (passed, percent)


async def _setup(session: AsyncSession) -> tuple[User, int]:
    await import_curriculum(
        session,
        track_documents=[TrackDocument.model_validate({**TRACK, "slug": "demo"})],
        lesson_documents=[
            LessonDocument.model_validate(
                lesson(slug="what-segregation-is", track="demo", position=1)
            )
        ],
        actor=Actor.system("test"),
    )
    learner = await learners.register(
        session, telegram_id=77, first_name="T", locale="en", role=Role.TEACHER
    )
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == "what-segregation-is"))
    assert lesson_id is not None
    return learner, lesson_id


async def test_whole_lesson_passed_then_retried_keeps_the_best_score(session: AsyncSession) -> None:
    learner, lesson_id = await _setup(session)
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    assert (view.step_index, view.step_count, view.has_quiz) == (0, 2, True)
    view = await player.go_to_step(
        session,
        learner=learner,
        progress_id=view.progress_id,
        version_id=view.version_id,
        index=1,
        chain=CHAIN,
    )
    question = await quizzes.start_attempt(
        session,
        learner=learner,
        progress_id=view.progress_id,
        version_id=view.version_id,
        chain=CHAIN,
    )
    first = await quizzes.answer(
        session, learner=learner, attempt_id=question.attempt_id, index=0, chosen=[0], chain=CHAIN
    )
    assert (first.correct, first.result) == (True, None)
    done = await quizzes.answer(
        session, learner=learner, attempt_id=question.attempt_id, index=1, chosen=[1], chain=CHAIN
    )
    assert done.correct is False
    assert done.feedback == "No."
    assert done.result is not None
    assert (done.result.correct, done.result.scored, done.result.percent, done.result.passed) == (
        1,
        2,
        50,
        True,
    )
    retry = await quizzes.start_attempt(
        session,
        learner=learner,
        progress_id=view.progress_id,
        version_id=view.version_id,
        chain=CHAIN,
    )
    await quizzes.answer(
        session, learner=learner, attempt_id=retry.attempt_id, index=0, chosen=[1], chain=CHAIN
    )
    worse = await quizzes.answer(
        session, learner=learner, attempt_id=retry.attempt_id, index=1, chosen=[1], chain=CHAIN
    )
    assert worse.result is not None
    assert worse.result.passed is False
    progress = await session.get(LessonProgress, view.progress_id)
    assert progress is not None
    assert (progress.status, progress.best_score, progress.passed) == (
        ProgressStatus.COMPLETED,
        50.0,
        True,
    )
    verbs = [
        row.verb
        for row in await session.scalars(
            select(Activity).where(Activity.user_id == learner.id).order_by(Activity.id)
        )
    ]
    assert verbs == [
        Verb.JOINED,
        Verb.STARTED,
        Verb.STEP,
        Verb.ANSWERED,
        Verb.ANSWERED,
        Verb.COMPLETED,
        Verb.PASSED,
        Verb.CERTIFIED,  # the sample track has this one lesson
        Verb.ANSWERED,
        Verb.ANSWERED,
        Verb.FAILED,
    ]
    assert len(list(await session.scalars(select(Answer)))) == 4


async def test_answering_the_same_question_twice_is_stale(session: AsyncSession) -> None:
    learner, lesson_id = await _setup(session)
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    question = await quizzes.start_attempt(
        session,
        learner=learner,
        progress_id=view.progress_id,
        version_id=view.version_id,
        chain=CHAIN,
    )
    await quizzes.answer(
        session, learner=learner, attempt_id=question.attempt_id, index=0, chosen=[0], chain=CHAIN
    )
    with pytest.raises(StaleButton, match="already answered"):
        await quizzes.answer(
            session,
            learner=learner,
            attempt_id=question.attempt_id,
            index=0,
            chosen=[1],
            chain=CHAIN,
        )


async def test_a_lesson_republished_midway_keeps_the_learner_on_their_version(
    session: AsyncSession,
) -> None:
    learner, lesson_id = await _setup(session)
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    changed = lesson(slug="what-segregation-is", track="demo", position=1, minutes=9)
    changed["steps"][0]["text"]["en"] = "A rewritten first step."
    await lessons.store_published(
        session,
        document=LessonDocument.model_validate(changed),
        track=await find_track(session, "demo"),
        actor=Actor.system("t"),
    )
    resumed = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    assert resumed.version_id == view.version_id
    assert resumed.lesson.steps[0].text == "<b>Segregation</b> separates children."


async def test_a_button_of_another_version_is_stale(session: AsyncSession) -> None:
    learner, lesson_id = await _setup(session)
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    with pytest.raises(StaleButton, match="older version"):
        await player.go_to_step(
            session,
            learner=learner,
            progress_id=view.progress_id,
            version_id=view.version_id + 99,
            index=1,
            chain=CHAIN,
        )


async def _another_learner(session: AsyncSession) -> User:
    return await learners.register(
        session, telegram_id=78, first_name="O", locale="en", role=Role.TEACHER
    )


async def _quiz_begun(
    session: AsyncSession,
) -> tuple[User, int, player.PlayerView, quizzes.QuestionView]:
    """A learner who opened the sample lesson and started its quiz."""
    learner, lesson_id = await _setup(session)
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    question = await quizzes.start_attempt(
        session, learner=learner, progress_id=view.progress_id, version_id=view.version_id,
        chain=CHAIN,
    )  # fmt: skip
    return learner, lesson_id, view, question


async def _publish(session: AsyncSession, document: dict[str, Any]) -> None:
    await lessons.store_published(
        session,
        document=LessonDocument.model_validate(document),
        track=await find_track(session, "demo"),
        actor=Actor.system("t"),
    )


async def test_a_button_of_another_learners_lesson_is_stale(session: AsyncSession) -> None:
    learner, lesson_id = await _setup(session)
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    other = await _another_learner(session)
    for who, progress_id in ((other, view.progress_id), (learner, view.progress_id + 99)):
        with pytest.raises(StaleButton, match="no longer have open"):
            await player.go_to_step(
                session, learner=who, progress_id=progress_id, version_id=view.version_id,
                index=1, chain=CHAIN,
            )  # fmt: skip


async def test_another_learners_quiz_and_a_quiz_that_never_was_are_not_open(
    session: AsyncSession,
) -> None:
    learner, _, _, question = await _quiz_begun(session)
    other = await _another_learner(session)
    for who, attempt_id in ((other, question.attempt_id), (learner, question.attempt_id + 99)):
        with pytest.raises(StaleButton, match="not open any more"):
            await quizzes.answer(
                session, learner=who, attempt_id=attempt_id, index=0, chosen=[0], chain=CHAIN
            )


async def test_a_quiz_begun_on_a_version_the_learner_left_is_stale_and_names_its_lesson(
    session: AsyncSession,
) -> None:
    learner, lesson_id, view, question = await _quiz_begun(session)
    await _publish(session, lesson(slug="what-segregation-is", track="demo", position=1, minutes=9))
    newest = (await published.newest_published(session, [lesson_id]))[lesson_id]
    progress = await session.get(LessonProgress, view.progress_id)
    assert progress is not None and newest.id != view.version_id
    progress.lesson_version_id = newest.id  # the learner reads the lesson again, newer now
    with pytest.raises(StaleButton, match="older version") as stale:
        await quizzes.current_question(
            session, learner=learner, attempt_id=question.attempt_id, index=0, chain=CHAIN
        )
    assert stale.value.lesson_id == lesson_id


async def test_the_question_a_button_names_comes_with_its_lesson_and_track(
    session: AsyncSession,
) -> None:
    learner, lesson_id, view, question = await _quiz_begun(session)
    again = await quizzes.current_question(
        session, learner=learner, attempt_id=question.attempt_id, index=0, chain=CHAIN
    )
    track_id = await session.scalar(select(Lesson.track_id).where(Lesson.id == lesson_id))
    assert (again.player.lesson_id, again.player.track_id) == (lesson_id, track_id)
    assert again.player.version_id == view.version_id
    assert again.question.text == question.question.text


async def test_a_lesson_not_offered_cannot_be_opened(session: AsyncSession) -> None:
    learner, lesson_id = await _setup(session)
    with pytest.raises(NotFound):
        await player.open_lesson(session, learner=learner, lesson_id=lesson_id + 99, chain=CHAIN)


async def test_a_lesson_without_a_quiz_is_completed_in_its_track_once(
    session: AsyncSession,
) -> None:
    learner, _ = await _setup(session)
    without_quiz = lesson(slug="no-quiz", track="demo", position=2)
    del without_quiz["quiz"]
    await _publish(session, without_quiz)
    found = await session.execute(
        select(Lesson.id, Lesson.track_id).where(Lesson.slug == "no-quiz")
    )
    lesson_id, track_id = found.one()
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    for _ in range(2):  # a second tap on Finish completes nothing again
        await quizzes.complete_without_quiz(
            session, learner=learner, progress_id=view.progress_id, version_id=view.version_id,
            chain=CHAIN,
        )  # fmt: skip
    completed = await session.scalars(
        select(Activity.track_id).where(
            Activity.user_id == learner.id, Activity.verb == Verb.COMPLETED
        )
    )
    assert list(completed) == [track_id]
    with pytest.raises(StaleButton, match="older version"):
        await quizzes.complete_without_quiz(
            session, learner=learner, progress_id=view.progress_id,
            version_id=view.version_id + 99, chain=CHAIN,
        )  # fmt: skip


async def test_a_finished_lesson_opened_again_starts_the_newest_version_and_keeps_the_result(
    session: AsyncSession,
) -> None:
    learner, lesson_id = await _setup(session)
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    question = await quizzes.start_attempt(
        session, learner=learner, progress_id=view.progress_id, version_id=view.version_id,
        chain=CHAIN,
    )  # fmt: skip
    for index in (0, 1):
        await quizzes.answer(
            session, learner=learner, attempt_id=question.attempt_id, index=index, chosen=[0],
            chain=CHAIN,
        )  # fmt: skip
    changed = lesson(slug="what-segregation-is", track="demo", position=1, minutes=9)
    changed["steps"][0]["text"]["en"] = "A rewritten first step."
    await lessons.store_published(
        session,
        document=LessonDocument.model_validate(changed),
        track=await find_track(session, "demo"),
        actor=Actor.system("t"),
    )
    again = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    assert (again.progress_id, again.step_index, again.restarted, again.completed) == (
        view.progress_id,
        0,
        True,
        True,
    )
    assert again.version_id != view.version_id
    assert again.lesson.steps[0].text == "A rewritten first step."
    progress = await session.scalar(
        select(LessonProgress).where(LessonProgress.id == view.progress_id)
    )
    assert progress is not None
    assert (progress.lesson_version_id, progress.step_index, progress.status) == (
        again.version_id,
        0,
        ProgressStatus.COMPLETED,
    )
    assert progress.best_score is not None and progress.passed is not None
    started = await session.scalars(
        select(Activity.lesson_version_id)
        .where(Activity.user_id == learner.id, Activity.verb == Verb.STARTED)
        .order_by(Activity.id)
    )
    assert list(started) == [view.version_id, again.version_id]
