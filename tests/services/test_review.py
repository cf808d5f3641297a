"""Planning spaced review and inviting to it, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import (
    Activity,
    Delivery,
    Review,
    ReviewStatus,
    Role,
    User,
    Verb,
)
from learntogether.services import learners, review
from learntogether.services.errors import InvalidInput
from learntogether.services.player import StaleButton
from tests.services.test_certificates import ALL_RIGHT, ALL_WRONG, HALF_RIGHT, _curriculum, _take


async def _learner(session: AsyncSession, telegram_id: int = 91) -> User:
    return await learners.register(
        session, telegram_id=telegram_id, first_name="Rita", locale="en", role=Role.TEACHER
    )


async def _rounds(session: AsyncSession) -> list[tuple[int, list[str], ReviewStatus]]:
    rows = await session.scalars(select(Review).order_by(Review.id))
    return [(row.after_days, row.question_keys, row.status) for row in rows]


async def test_wrong_answers_plan_three_rounds_and_a_right_retry_drops_them(
    session: AsyncSession,
) -> None:
    await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_WRONG)
    assert await _rounds(session) == [
        (days, ["dh-year", "harm"], ReviewStatus.SCHEDULED) for days in review.ROUNDS
    ]
    await _take(session, learner, "first", ALL_RIGHT)
    assert [status for _, _, status in await _rounds(session)] == [ReviewStatus.DROPPED] * 3


async def test_a_retry_with_fewer_mistakes_plans_only_those(session: AsyncSession) -> None:
    await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_WRONG)
    await _take(session, learner, "first", HALF_RIGHT)
    waiting = [
        keys for _, keys, status in await _rounds(session) if status is ReviewStatus.SCHEDULED
    ]
    assert waiting == [["harm"]] * 3


async def test_one_invitation_a_sweep_per_learner_for_their_newest_round(
    session: AsyncSession,
) -> None:
    await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_WRONG)
    await _take(session, learner, "second", ALL_WRONG)
    # A scheduler that was down for a week: every round of both lessons is due.
    for row in await session.scalars(select(Review)):
        row.due_at = utcnow() - timedelta(days=8 - row.after_days, seconds=row.id)
    assert await review.send_due_reviews(session) == 1
    rows = list(await session.scalars(select(Review)))
    queued = [row for row in rows if row.status is ReviewStatus.QUEUED]
    assert len(queued) == 1 and queued[0].after_days == 7
    assert {row.status for row in rows if row is not queued[0]} == {ReviewStatus.DROPPED}
    delivery = await session.get(Delivery, queued[0].delivery_id)
    assert delivery is not None and delivery.user_id == learner.id
    assert await review.send_due_reviews(session) == 0


async def test_nothing_is_due_before_its_day(session: AsyncSession) -> None:
    await _curriculum(session)
    await _take(session, await _learner(session), "first", ALL_WRONG)
    assert await review.send_due_reviews(session) == 0
    assert {status for _, _, status in await _rounds(session)} == {ReviewStatus.SCHEDULED}


async def test_a_review_asks_the_wrong_questions_and_records_reviewed_when_done(
    session: AsyncSession,
) -> None:
    await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", HALF_RIGHT)
    first_round = await session.scalar(select(Review).where(Review.after_days == 1))
    assert first_round is not None
    question = await review.start(session, learner=learner, review_id=first_round.id, chain=["en"])
    assert (question.index, question.count, question.question.key) == (0, 1, "harm")
    with pytest.raises(InvalidInput):
        await review.answer(
            session, learner=learner, review_id=first_round.id, index=0, chosen=[5], chain=["en"]
        )
    result = await review.answer(
        session, learner=learner, review_id=first_round.id, index=0, chosen=[1], chain=["en"]
    )
    assert (result.correct, result.right, result.finished) == (
        False,
        ("True",),
        review.ReviewDone(correct=0, total=1),
    )
    assert first_round.status is ReviewStatus.DONE
    with pytest.raises(StaleButton):
        await review.answer(
            session, learner=learner, review_id=first_round.id, index=0, chosen=[0], chain=["en"]
        )
    verbs = list(
        await session.scalars(
            select(Activity.verb).where(Activity.user_id == learner.id).order_by(Activity.id)
        )
    )
    assert verbs[-1] is Verb.REVIEWED and verbs.count(Verb.REVIEWED) == 1


async def test_someone_elses_review_cannot_be_started(session: AsyncSession) -> None:
    await _curriculum(session)
    await _take(session, await _learner(session, 91), "first", ALL_WRONG)
    other = await _learner(session, 92)
    first_round = await session.scalar(select(Review).where(Review.after_days == 1))
    assert first_round is not None
    with pytest.raises(StaleButton):
        await review.start(session, learner=other, review_id=first_round.id, chain=["en"])
    assert first_round.status is ReviewStatus.SCHEDULED


async def test_erasure_removes_the_learners_reviews_and_mydata_lists_them(
    session: AsyncSession,
) -> None:
    await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_WRONG)
    exported = await learners.export_data(session, learner=learner)
    assert [(row["after_days"], row["questions"]) for row in exported["reviews"]] == [
        (days, ["dh-year", "harm"]) for days in review.ROUNDS
    ]
    await learners.erase(session, learner=learner)
    assert await _rounds(session) == []
