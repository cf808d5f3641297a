"""Spaced review end to end: a quiz with a wrong answer, a day later the invitation through the
outbox, one tap to start (or skip), and the review counted as ``reviewed``."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import (
    Activity,
    Delivery,
    DeliveryStatus,
    Review,
    ReviewStatus,
    User,
    Verb,
)
from learntogether.runtime import BotParts
from learntogether.services import learners, review
from learntogether.services.reports.participation import Figure, participation
from tests.delivery.workers import WorkerFactory
from tests.factories import create_learner, import_sample_curriculum
from tests.standin import BotAPIStandIn, SimUser, button_texts
from tests.standin.records import JSON

INVITATION = "Two minutes to review? 1 question from <b>What segregation is</b>"


async def take_sample_lesson_with_one_wrong_answer(user: SimUser) -> None:
    """The sample lesson in English: the year wrong (a quiz poll), the second question right."""
    await user.send("/lessons")
    catalogue = await user.next_message()
    await user.press(catalogue["reply_markup"]["inline_keyboard"][0][0]["text"])
    await user.wait_for(lambda m: "🆕 What segregation is" in str(m.get("reply_markup")))
    await user.press("🆕 What segregation is")
    await user.wait_for(lambda m: "separates children" in m.get("text", ""))
    await user.press("Next ▶")
    await user.wait_for(lambda m: "2007" in m.get("text", ""))
    await user.press("Start the quiz ▶")
    poll = await user.wait_for(lambda m: "poll" in m)
    await user.answer_poll(poll, [1])
    await user.wait_for(lambda m: "❌" in m.get("text", "") and "harms learning" in m["text"])
    await user.press("True")
    await user.wait_for(lambda m: "You answered 1 of 2" in m.get("text", ""))


async def a_day_later(session_maker: async_sessionmaker[AsyncSession]) -> int:
    """The first round falls due, and the scheduler's sweep runs; returns how many it invited."""
    async with session_maker() as session:
        await session.execute(
            update(Review)
            .where(Review.after_days == 1)
            .values(due_at=utcnow() - timedelta(minutes=1))
        )
        invited = await review.send_due_reviews(session)
        await session.commit()
    return invited


def invitation(message: JSON) -> bool:
    text: str = message.get("text", "")
    return text.startswith(INVITATION.replace("<b>", "").replace("</b>", ""))


async def test_a_wrong_answer_comes_back_a_day_later_as_a_review_counted_as_reviewed(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    start_worker: WorkerFactory,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    learner = await create_learner(session_maker, 8201)
    user = standin.add_user(8201, first_name="Rita", language_code="en")
    await take_sample_lesson_with_one_wrong_answer(user)
    async with session_maker() as session:
        rounds = list(await session.scalars(select(Review).order_by(Review.after_days)))
    assert [(r.after_days, r.question_keys, r.status) for r in rounds] == [
        (days, ["dh-year"], ReviewStatus.SCHEDULED) for days in (1, 3, 7)
    ]

    assert await a_day_later(session_maker) == 1
    start_worker()
    invited = await user.wait_for(invitation, timeout=10)
    assert button_texts(invited) == ["Start the review ▶", "Skip this time"]
    taps_before = len(standin.calls_of("answerCallbackQuery"))
    await user.press("Start the review ▶", invited["message_id"])
    question = await user.wait_for(
        lambda m: (
            m["message_id"] == invited["message_id"] and "Review: question 1 of 1" in m["text"]
        )
    )
    assert "When was D.H. decided?" in question["text"]
    await user.press("2007", invited["message_id"])
    done = await user.wait_for(lambda m: "Review done:" in m.get("text", ""))
    assert "1 of 1 right" in done["text"] and "✅ Right!" in done["text"]
    assert len(standin.calls_of("answerCallbackQuery")) - taps_before == 2  # two taps in all

    async with session_maker() as session:
        rows = await session.execute(select(Review.after_days, Review.status))
        statuses = {days: status for days, status in rows}
        reviewed = await session.scalar(
            select(func.count()).where(
                Activity.verb == Verb.REVIEWED, Activity.user_id == learner.id
            )
        )
        report = await participation(session, figures=[Figure.REVIEWED, Figure.ACTIVE])
    assert statuses == {1: ReviewStatus.DONE, 3: ReviewStatus.SCHEDULED, 7: ReviewStatus.SCHEDULED}
    assert reviewed == 1
    assert report.rows == [{"reviewed": 1, "active": 1}]


async def test_a_skipped_review_records_nothing_and_its_buttons_go_stale(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    start_worker: WorkerFactory,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await create_learner(session_maker, 8202)
    user = standin.add_user(8202, first_name="Sam", language_code="en")
    await take_sample_lesson_with_one_wrong_answer(user)
    await a_day_later(session_maker)
    start_worker()
    invited = await user.wait_for(invitation, timeout=10)
    await user.press("Skip this time", invited["message_id"])
    await user.wait_for(lambda m: "No review this time" in m.get("text", ""))
    query = await user.press_forged(f"{review.START_PREFIX}:1", invited["message_id"])
    answered = await standin.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query
    )
    assert "older message" in answered.params["text"]
    async with session_maker() as session:
        first = await session.scalar(select(Review).where(Review.after_days == 1))
        reviewed = await session.scalar(select(func.count()).where(Activity.verb == Verb.REVIEWED))
    assert first is not None and first.status is ReviewStatus.SKIPPED
    assert reviewed == 0


async def test_no_invitation_for_a_learner_who_turned_reminders_off(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    learner = await create_learner(session_maker, 8203)
    user = standin.add_user(8203, first_name="Ode", language_code="en")
    await take_sample_lesson_with_one_wrong_answer(user)
    async with session_maker() as session:
        await session.execute(
            update(User).where(User.id == learner.id).values(reminders_enabled=False)
        )
        await session.commit()
    assert await a_day_later(session_maker) == 0
    async with session_maker() as session:
        first = await session.scalar(select(Review).where(Review.after_days == 1))
    assert first is not None and first.status is ReviewStatus.DROPPED


async def test_an_invitation_waits_for_the_end_of_quiet_hours(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    make_worker: WorkerFactory,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    learner = await create_learner(session_maker, 8204)
    user = standin.add_user(8204, first_name="Quinn", language_code="en")
    await take_sample_lesson_with_one_wrong_answer(user)
    zone = ZoneInfo("Europe/Sofia")
    local = utcnow().astimezone(zone).replace(second=0, microsecond=0)
    start, end = local - timedelta(hours=1), local + timedelta(hours=1)
    async with session_maker() as session:
        found = await session.get(User, learner.id)
        assert found is not None
        await learners.set_reminders(
            session, learner=found, timezone="Europe/Sofia", quiet_hours=(start.time(), end.time())
        )
        await session.commit()
    assert await a_day_later(session_maker) == 1

    await make_worker().run(until_idle=True)
    assert not any(
        call.params["text"].startswith(INVITATION) for call in standin.calls_of("sendMessage")
    )
    async with session_maker() as session:
        queued = await session.scalar(select(Review).where(Review.after_days == 1))
        assert queued is not None and queued.delivery_id is not None
        row = await session.get(Delivery, queued.delivery_id)
    assert row is not None and row.status is DeliveryStatus.PENDING
    assert row.next_attempt_at == end.astimezone(UTC)

    # Telegram's one message a second to a chat: the lesson's replies were just sent.
    await asyncio.sleep(1.2)
    later = end.astimezone(UTC) + timedelta(minutes=1)
    await make_worker(clock=lambda: later).run(until_idle=True)
    sent = [call.params for call in standin.calls_of("sendMessage")]
    assert [p["text"] for p in sent if p["chat_id"] == "8204"][-1].startswith(INVITATION)
