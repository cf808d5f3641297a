"""Spaced review: the questions a learner got wrong come back one, three and seven days later.

When a quiz attempt is finished with wrong answers, three rounds are planned (``plan``); a newer
attempt at the same lesson replaces the rounds still waiting. The scheduler's sweep
(``send_due_reviews``) invites each learner whose round fell due through the outbox, as a
personal message like the daily reminder: only learners who have reminders on, never during
their quiet hours, at most once (an unsure send is not repeated), and at most one invitation a
sweep per learner (older rounds due at the same time are dropped). The invitation offers a
two-minute review (at most ``MAX_QUESTIONS`` questions) with one tap, or Skip. Answers in a
review change no score, pass or certificate; a finished review is the learner's activity
``reviewed``, which the participation report counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import RenderedLesson, RenderedQuestion, render_lesson
from learntogether.content.schema import LessonDocument
from learntogether.db import activity_log as activity
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Answer,
    BroadcastKind,
    Delivery,
    Lesson,
    LessonVersion,
    QuestionKind,
    QuizAttempt,
    Review,
    ReviewStatus,
    User,
    Verb,
)
from learntogether.services import broadcasts
from learntogether.services.actors import Actor
from learntogether.services.errors import InvalidInput
from learntogether.services.player import SCORED, StaleButton, is_correct

ROUNDS = (1, 3, 7)
"""Days after the quiz each round of review falls due."""
MAX_QUESTIONS = 5
"""A review takes about two minutes: at most this many questions."""
REVIEWS = Actor.system("scheduler:review")
START_PREFIX = "rvs"
"""Callback prefix of the invitation's Start button (``<prefix>:<review id>``)."""
SKIP_PREFIX = "rvk"
"""Callback prefix of the invitation's Skip button."""
WAITING = (ReviewStatus.SCHEDULED, ReviewStatus.QUEUED)


@dataclass(frozen=True)
class Invitation:
    """What the outbox's message says: how many questions, from which lesson."""

    review_id: int
    lesson_title: str
    questions: int


@dataclass(frozen=True)
class ReviewQuestion:
    review_id: int
    index: int
    count: int
    question: RenderedQuestion


@dataclass(frozen=True)
class ReviewAnswer:
    correct: bool
    feedback: str | None
    explanation: str | None
    right: tuple[str, ...]
    """The texts of the right options."""
    next_question: ReviewQuestion | None
    finished: ReviewDone | None


@dataclass(frozen=True)
class ReviewDone:
    correct: int
    total: int


async def plan(
    session: AsyncSession, *, user_id: int, attempt_id: int, lesson_id: int, finished_at: datetime
) -> int:
    """Plan the rounds of review for ``user_id``'s attempt ``attempt_id`` at ``lesson_id``,
    finished at ``finished_at``; returns how many were planned.

    Rounds still waiting from earlier attempts at the lesson are dropped: the newest attempt
    says what the learner still gets wrong. An attempt with nothing wrong plans none.
    """
    await session.execute(
        update(Review)
        .where(
            Review.user_id == user_id,
            Review.lesson_id == lesson_id,
            Review.status == ReviewStatus.SCHEDULED,
        )
        .values(status=ReviewStatus.DROPPED)
    )
    wrong = list(
        await session.scalars(
            select(Answer.question_key)
            .where(Answer.attempt_id == attempt_id, Answer.correct.is_(False))
            .order_by(Answer.id)
        )
    )
    if not wrong:
        return 0
    keys = list(dict.fromkeys(wrong))[:MAX_QUESTIONS]
    session.add_all(
        Review(
            user_id=user_id,
            lesson_id=lesson_id,
            attempt_id=attempt_id,
            after_days=days,
            question_keys=keys,
            due_at=finished_at + timedelta(days=days),
        )
        for days in ROUNDS
    )
    await session.flush()
    return len(ROUNDS)


async def send_due_reviews(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Invite the learners whose round of review fell due; returns how many were invited.

    One invitation per learner a sweep (their most recent round; older ones due too are
    dropped). Learners the outbox would not write to on its own (reminders off, blocked, erased)
    get none, and their due rounds are dropped.
    """
    moment = now or utcnow()
    due = list(
        await session.scalars(
            select(Review)
            .where(Review.status == ReviewStatus.SCHEDULED, Review.due_at <= moment)
            .order_by(Review.user_id, Review.due_at.desc(), Review.id.desc())
        )
    )
    if not due:
        return 0
    newest: dict[int, Review] = {}
    for review in due:
        if review.user_id in newest:
            review.status = ReviewStatus.DROPPED
        else:
            newest[review.user_id] = review
    invited = await broadcasts.create_for_learners(
        session, kind=BroadcastKind.REVIEW, user_ids=set(newest), actor=REVIEWS
    )
    rows = await session.execute(
        select(Delivery.user_id, Delivery.id).where(Delivery.broadcast_id == invited.id)
    )
    deliveries = {user_id: delivery_id for user_id, delivery_id in rows}
    for user_id, review in newest.items():
        if user_id in deliveries:
            review.status, review.delivery_id = ReviewStatus.QUEUED, deliveries[user_id]
        else:
            review.status = ReviewStatus.DROPPED
    await session.flush()
    return len(deliveries)


async def invitation(
    session: AsyncSession, *, delivery_id: int, chain: Sequence[str]
) -> Invitation | None:
    """The review an outbox row invites to, with the lesson's title in ``chain``; None when the
    review is gone or no longer waiting (nothing to send)."""
    review = await session.scalar(select(Review).where(Review.delivery_id == delivery_id))
    if review is None or review.status not in WAITING:
        return None
    lesson = await _lesson_of(session, review, chain)
    count = len(_questions(review, lesson.questions))
    return Invitation(review.id, lesson.title, count) if count else None


async def _own(session: AsyncSession, *, learner: User, review_id: int) -> Review:
    review = await session.get(Review, review_id)
    if review is None or review.user_id != learner.id:
        raise StaleButton("This review is not yours.")
    return review


async def _lesson_of(session: AsyncSession, review: Review, chain: Sequence[str]) -> RenderedLesson:
    """The lesson as the learner took it in the reviewed attempt (its version), in ``chain``."""
    version = await session.scalar(
        select(LessonVersion)
        .join(QuizAttempt, QuizAttempt.lesson_version_id == LessonVersion.id)
        .where(QuizAttempt.id == review.attempt_id)
    )
    assert version is not None
    return render_lesson(LessonDocument.model_validate(version.document), chain)


def _questions(review: Review, questions: Sequence[RenderedQuestion]) -> list[RenderedQuestion]:
    by_key = {question.key: question for question in questions}
    return [
        by_key[key]
        for key in review.question_keys
        if key in by_key and QuestionKind(by_key[key].kind) in SCORED
    ]


async def start(
    session: AsyncSession, *, learner: User, review_id: int, chain: Sequence[str]
) -> ReviewQuestion:
    """The review's first question (or, when started already, the one it stopped at).

    Raises StaleButton for a review that is not the learner's, was skipped, or is done.
    """
    review = await _own(session, learner=learner, review_id=review_id)
    if review.status not in (*WAITING, ReviewStatus.STARTED):
        raise StaleButton("This review is over.")
    review.status = ReviewStatus.STARTED
    await session.flush()
    return await _current(session, review, chain)


async def _current(session: AsyncSession, review: Review, chain: Sequence[str]) -> ReviewQuestion:
    questions = _questions(review, (await _lesson_of(session, review, chain)).questions)
    return ReviewQuestion(review.id, review.position, len(questions), questions[review.position])


async def current_question(
    session: AsyncSession, *, learner: User, review_id: int, index: int, chain: Sequence[str]
) -> ReviewQuestion:
    """The question at ``index`` of a started review (a multiple-choice toggle re-shows it)."""
    review = await _own(session, learner=learner, review_id=review_id)
    if review.status is not ReviewStatus.STARTED or review.position != index:
        raise StaleButton("This question of the review was answered already.")
    return await _current(session, review, chain)


async def skip(session: AsyncSession, *, learner: User, review_id: int) -> None:
    """The learner passed on the review; StaleButton when it is over already."""
    review = await _own(session, learner=learner, review_id=review_id)
    if review.status not in (*WAITING, ReviewStatus.STARTED):
        raise StaleButton("This review is over.")
    review.status, review.finished_at = ReviewStatus.SKIPPED, utcnow()
    await session.flush()


async def answer(
    session: AsyncSession,
    *,
    learner: User,
    review_id: int,
    index: int,
    chosen: Sequence[int],
    chain: Sequence[str],
) -> ReviewAnswer:
    """Judge one answer of the review and move on; the last one finishes it (``reviewed``).

    Raises StaleButton for a question answered already, InvalidInput for a choice that is none.
    """
    view = await current_question(
        session, learner=learner, review_id=review_id, index=index, chain=chain
    )
    question = view.question
    if not chosen or any(not 0 <= option < len(question.options) for option in chosen):
        raise InvalidInput("That is not an answer to this question.")
    correct = bool(is_correct(question, chosen))
    review = await _own(session, learner=learner, review_id=review_id)
    review.position += 1
    review.correct += int(correct)
    feedback = question.options[chosen[0]].feedback if len(chosen) == 1 else None
    right = tuple(option.text for option in question.options if option.correct)
    if review.position < view.count:
        await session.flush()
        following = await _current(session, review, chain)
        return ReviewAnswer(correct, feedback, question.explanation, right, following, None)
    review.status, review.finished_at = ReviewStatus.DONE, utcnow()
    await activity.record(
        session,
        learner,
        Verb.REVIEWED,
        track_id=await session.scalar(select(Lesson.track_id).where(Lesson.id == review.lesson_id)),
        lesson_id=review.lesson_id,
        data={"correct": review.correct, "questions": view.count, "after_days": review.after_days},
    )
    await session.flush()
    return ReviewAnswer(
        correct,
        feedback,
        question.explanation,
        right,
        None,
        ReviewDone(review.correct, view.count),
    )
