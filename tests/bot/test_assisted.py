"""Workshops and assisted mode from /cohort, end to end through the Bot API stand-in."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import Assist, AssistAnswer
from bot.handlers.assisted import parse_start
from learntogether.config import Settings
from learntogether.db.models import (
    Activity,
    Attendance,
    AttendanceMethod,
    Event,
    User,
    Verb,
)
from learntogether.delivery import DeliveryWorker
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from learntogether.services import cohorts
from learntogether.services.actors import Actor
from tests.factories import create_cohort, create_learner, eventually, import_sample_curriculum
from tests.standin import BotAPIStandIn, SimUser, button_texts

MEDIATOR = 7601


@pytest.fixture
async def group(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> list[User]:
    """Cohort SLV1 (Bulgaria) with mediator Rosa (7601, not a member) and members Ana and Ivo."""
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    async with session_maker() as session:
        await create_cohort(session, code="SLV1", name="Sliven parents")
        await session.commit()
    rosa = await create_learner(session_maker, MEDIATOR, first_name="Rosa")
    ana = await create_learner(session_maker, 7602, cohort="SLV1", first_name="Ana")
    ivo = await create_learner(session_maker, 7603, cohort="SLV1", first_name="Ivo")
    async with session_maker() as session:
        await cohorts.add_mediator(
            session, code="SLV1", user_id=rosa.id, actor=Actor.system("test")
        )
        await session.commit()
    return [rosa, ana, ivo]


async def _cohort(user: SimUser) -> dict[str, object]:
    """/cohort, and the group's overview it answers with."""
    sent = await user.send("/cohort")
    return await user.wait_for(
        lambda m: (
            m["message_id"] > sent["message_id"] and m.get("text", "").startswith("Sliven parents")
        )
    )


async def _workshop_now(rosa: SimUser, title: str, place: str | None) -> dict[str, object]:
    await _cohort(rosa)
    await rosa.press("📍 Workshop check-in")
    await rosa.wait_for(lambda m: m.get("text") == "What is the workshop called?")
    await rosa.send(title)
    await rosa.wait_for(lambda m: m.get("text", "").startswith("When does it start?"))
    await rosa.press("It starts now")
    await rosa.wait_for(lambda m: m.get("text", "").startswith("Where is it?"))
    if place is None:
        await rosa.press("No place to give")
    else:
        await rosa.send(place)
    return await rosa.wait_for(lambda m: "photo" in m)


async def _members(session_maker: async_sessionmaker[AsyncSession]) -> list[str | None]:
    async with session_maker() as session:
        found, _total = await cohorts.members(
            session, code="SLV1", actor=Actor.system("test"), limit=50
        )
    return [member.name for member in found]


@pytest.mark.usefixtures("group")
async def test_a_workshop_newcomer_checks_in_by_qr_and_joins_the_cohorts_member_list(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    delivery: DeliveryWorker,
) -> None:
    rosa = standin.add_user(MEDIATOR, first_name="Rosa", language_code="en")
    photo = await _workshop_now(rosa, "Parents' evening", "School No. 3, room 12")
    caption = str(photo["caption"])
    async with session_maker() as session:
        event = await eventually(lambda: session.scalar(select(Event)))
    assert caption.startswith("Parents' evening\n")
    assert "(Europe/Sofia)" in caption and "School No. 3, room 12" in caption
    assert f"https://t.me/lt_test_bot?start=e-{event.code}" in caption
    assert "0 have checked in." in caption
    assert event.location == "School No. 3, room 12"

    vera = standin.add_user(7610, first_name="Vera", language_code="en")
    await vera.send(f"/start e-{event.code}")
    await vera.next_message()
    await vera.press("✓ English")
    await vera.wait_for(lambda m: m.get("text") == "Which of these describes you best?")
    await vera.press("Parent")
    await vera.wait_for(lambda m: m.get("text", "").startswith("Your privacy"))
    await vera.press("I agree")
    await vera.wait_for(lambda m: m.get("text", "").startswith("You are checked in to"))
    assert "Vera" in await eventually(lambda: _vera(session_maker))

    # The QR message counts by itself while people scan it (the delivery worker edits it).
    counted = await rosa.wait_for(
        lambda m: (
            m["message_id"] == photo["message_id"] and "1 has checked in." in str(m.get("caption"))
        )
    )
    assert "0 have checked in." not in str(counted["caption"])
    query = await rosa.press("🔄 Count again", photo["message_id"])  # type: ignore[arg-type]
    await eventually(functools.partial(_answered, standin, query))
    assert standin.callback_queries[query].text == "No new check-ins."
    # The mediator sees the newcomer in the group.
    overview = await _cohort(rosa)
    assert "3 members" in str(overview["text"])


@pytest.mark.usefixtures("group")
async def test_the_qr_message_goes_on_counting_when_another_bot_process_takes_the_check_ins(
    standin: BotAPIStandIn,
    bot_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    delivery: DeliveryWorker,
) -> None:
    """The QR message is followed in the database, and the delivery worker shows its count: a
    check-in taken by another bot process (another worker, or the same after a restart) counts.
    Before, the count was a task inside the process that sent the QR code."""
    rosa = standin.add_user(MEDIATOR, first_name="Rosa", language_code="en")
    ana = standin.add_user(7602, first_name="Ana", language_code="en")
    first = build_bot_parts(bot_settings, session_maker)
    assert first is not None
    polling = asyncio.create_task(run_polling(first, polling_timeout=1))
    photo = await _workshop_now(rosa, "Parents' evening", None)
    assert "0 have checked in." in str(photo["caption"])
    await first.dispatcher.stop_polling()
    await asyncio.wait_for(polling, timeout=10)

    second = build_bot_parts(bot_settings, session_maker)
    assert second is not None
    polling = asyncio.create_task(run_polling(second, polling_timeout=1))
    try:
        async with session_maker() as session:
            event = await eventually(lambda: session.scalar(select(Event)))
        await ana.send(f"/start e-{event.code}")
        await ana.wait_for(lambda m: m.get("text", "").startswith("You are checked in to"))
        counted = await rosa.wait_for(
            lambda m: (
                m["message_id"] == photo["message_id"]
                and "1 has checked in." in str(m.get("caption"))
            )
        )
    finally:
        await second.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)
    assert str(counted["caption"]).startswith("Parents' evening\n")
    assert button_texts(counted) == ["🔄 Count again", "✅ Check someone in"]


async def _vera(session_maker: async_sessionmaker[AsyncSession]) -> list[str | None] | None:
    names = await _members(session_maker)
    return names if "Vera" in names else None


@pytest.mark.usefixtures("group")
async def test_a_workshop_takes_a_typed_day_and_time_on_the_cohorts_clock(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(MEDIATOR, first_name="Rosa", language_code="en")
    await _cohort(rosa)
    await rosa.press("📍 Workshop check-in")
    await rosa.wait_for(lambda m: m.get("text") == "What is the workshop called?")
    await rosa.send("Reading club")
    await rosa.wait_for(lambda m: m.get("text", "").startswith("When does it start?"))
    await rosa.send("next Friday")
    refused = await rosa.wait_for(lambda m: m.get("text", "").startswith("Write a day and a time"))
    assert "12.12 17:30" in refused["text"]
    await rosa.send("24.12.2030 17:30")
    await rosa.wait_for(lambda m: m.get("text", "").startswith("Where is it?"))
    await rosa.press("No place to give")
    photo = await rosa.wait_for(lambda m: "photo" in m)
    async with session_maker() as session:
        event = await eventually(lambda: session.scalar(select(Event)))
    # 17:30 in Sofia is 15:30 UTC in December.
    assert event.starts_at.replace(tzinfo=UTC) == datetime(2030, 12, 24, 15, 30, tzinfo=UTC)
    assert event.location is None
    assert "Dec 24, 2030" in str(photo["caption"])


def test_typed_start_times_are_read_on_the_cohorts_clock() -> None:
    sofia = ZoneInfo("Europe/Sofia")
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert parse_start("17:30", sofia, now) == datetime(2026, 12, 7, 17, 30, tzinfo=sofia)
    assert parse_start("12.12 9:05", sofia, now) == datetime(2026, 12, 12, 9, 5, tzinfo=sofia)
    # A day already gone this year is next year's.
    assert parse_start("3/1 10:00", sofia, now) == datetime(2027, 1, 3, 10, 0, tzinfo=sofia)
    assert parse_start("2027-02-01 08:00", sofia, now) == datetime(2027, 2, 1, 8, tzinfo=sofia)
    for bad in ("tomorrow", "25:00", "31.02 10:00", "12.12", ""):
        assert parse_start(bad, sofia, now) is None


@pytest.mark.usefixtures("group")
async def test_a_mediator_checks_a_member_in_from_the_qr_message(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    group: list[User],
) -> None:
    rosa = standin.add_user(MEDIATOR, first_name="Rosa", language_code="en")
    photo = await _workshop_now(rosa, "Homework help", None)
    await rosa.press("✅ Check someone in", photo["message_id"])  # type: ignore[arg-type]
    listed = await rosa.wait_for(lambda m: "Tap who came:" in m.get("text", ""))
    assert button_texts(listed)[:2] == ["Ana", "Ivo"]
    await rosa.press("Ana", listed)
    after = await rosa.wait_for(
        lambda m: m["message_id"] == listed["message_id"] and "1 has checked in." in m["text"]
    )
    assert "Ana" not in button_texts(after)
    async with session_maker() as session:
        rows = list(await session.scalars(select(Attendance)))
    assert [(row.user_id, row.method) for row in rows] == [(group[1].id, AttendanceMethod.MEDIATOR)]
    await rosa.press("🔄 Count again", photo["message_id"])  # type: ignore[arg-type]
    await rosa.wait_for(
        lambda m: (
            m["message_id"] == photo["message_id"] and "1 has checked in." in str(m.get("caption"))
        )
    )


@pytest.mark.usefixtures("group")
async def test_a_parent_without_a_phone_is_enrolled_and_a_paper_quiz_is_recorded_as_assisted(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(MEDIATOR, first_name="Rosa", language_code="en")
    await _cohort(rosa)
    await rosa.press("🤝 For someone without a phone")
    await rosa.wait_for(lambda m: "for people without a phone" in m.get("text", ""))
    await rosa.press("➕ Enrol someone without a phone")
    await rosa.wait_for(lambda m: "What is their first name?" in m.get("text", ""))
    await rosa.send("Zlatka")
    enrolled = await rosa.wait_for(lambda m: m.get("text") == "Zlatka is enrolled in the group.")
    assert "Zlatka" in await _members(session_maker)
    await rosa.press("📝 Record a paper quiz", enrolled)
    lessons = await rosa.wait_for(lambda m: m.get("text") == "Which lesson's quiz did they answer?")
    # Lesson titles in the mediator's language; the questions in Zlatka's (the cohort's: bg).
    await rosa.press("What segregation is", lessons)
    first = await rosa.wait_for(lambda m: "question 1 of 2" in m.get("text", ""))
    assert "Кога е решено D.H.?" in first["text"] and "<b>" not in first["text"]
    assert button_texts(first) == ["A", "B"]
    await rosa.press("A", first)
    second = await rosa.wait_for(lambda m: "question 2 of 2" in m.get("text", ""))
    await rosa.press("B", second)
    done = await rosa.wait_for(lambda m: m.get("text", "").startswith("Recorded for Zlatka"))
    assert done["text"] == "Recorded for Zlatka: 1 of 2 right.\nPassed."
    async with session_maker() as session:
        zlatka = await session.scalar(select(User).where(User.first_name == "Zlatka"))
        assert zlatka is not None and zlatka.telegram_id is None
        rows = list(
            await session.execute(
                select(Activity.verb, Activity.assisted)
                .where(Activity.user_id == zlatka.id)
                .order_by(Activity.id)
            )
        )
    verbs = [verb for verb, _assisted in rows]
    assert verbs[:6] == [
        Verb.JOINED,
        Verb.STARTED,
        Verb.ANSWERED,
        Verb.ANSWERED,
        Verb.COMPLETED,
        Verb.PASSED,
    ]
    assert all(assisted for verb, assisted in rows if verb is not Verb.CERTIFIED)
    # A stale tap on an answer of the finished quiz records nothing more.
    query = await rosa.press_forged(AssistAnswer(index=0, option=1).pack(), done)
    await eventually(lambda: _answered(standin, query))
    assert standin.callback_queries[query].text == "This question is answered already."


async def _answered(standin: BotAPIStandIn, query: str) -> bool | None:
    return True if standin.callback_queries[query].answered else None


async def test_someone_who_mediates_nothing_cannot_act_for_a_cohort(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1", name="Sliven parents")
        await session.commit()
    await create_learner(session_maker, 7620, first_name="Eve")
    eve = standin.add_user(7620, first_name="Eve", language_code="en")
    await eve.send("/settings")
    menu = await eve.wait_for(lambda m: "inline_keyboard" in m.get("reply_markup", {}))
    actions: list[Literal["menu", "enrol", "attend", "quiz"]] = ["menu", "enrol", "quiz", "attend"]
    for action in actions:
        query = await eve.press_forged(Assist(action=action, code="SLV1").pack(), menu)
        await eventually(functools.partial(_answered, standin, query))
        assert standin.callback_queries[query].text == (
            "This group is not one of yours any more. Send /cohort to see yours."
        )
    async with session_maker() as session:
        assert list(await session.scalars(select(User).where(User.telegram_id.is_(None)))) == []
