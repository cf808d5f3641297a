"""Mediators in the bot, end to end through the stand-in: /cohort, /nudge, /broadcast, check-in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path

import pytest
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import EditMessageText
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handlers.mediator import Edited, FollowedMessages, StatusPusher
from learntogether.config import Settings
from learntogether.db.base import utcnow
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.models import AuditLog, Broadcast, BroadcastKind, BroadcastStatus, Event, User
from learntogether.delivery import DeliveryWorker
from learntogether.i18n import create_i18n
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from learntogether.services import broadcasts, cohorts
from learntogether.services.actors import Actor
from tests.conftest import TestDatabase
from tests.factories import create_cohort, create_learner, eventually, import_sample_curriculum
from tests.standin import BotAPIStandIn, SimUser, button_texts
from tests.standin.fixtures import bot_for
from tests.standin.records import JSON


@pytest.fixture
async def group(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> list[User]:
    """Cohort SLV1 with mediator Rosa (7501), active Ana (7502) and quiet Ivo (7503)."""
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    async with session_maker() as session:
        await create_cohort(session, code="SLV1", name="Sliven <teachers>")
        await session.commit()
    rosa = await create_learner(session_maker, 7501, first_name="Rosa")
    ana = await create_learner(session_maker, 7502, cohort="SLV1", first_name="Ana")
    ivo = await create_learner(session_maker, 7503, cohort="SLV1", first_name="Ivo")
    async with session_maker() as session:
        await cohorts.add_mediator(
            session, code="SLV1", user_id=rosa.id, actor=Actor.system("test")
        )
        # Rosa is told she mediates the group: tested on its own, kept out of the others.
        notice = await session.scalar(
            select(Broadcast.id).where(Broadcast.kind == BroadcastKind.MEDIATOR_ROLE)
        )
        assert notice is not None
        await broadcasts.cancel_broadcast(session, broadcast_id=notice, actor=Actor.system("test"))
        quiet = await session.get(User, ivo.id)
        assert quiet is not None
        quiet.last_active_at = utcnow() - timedelta(days=9)
        await session.commit()
    return [rosa, ana, ivo]


async def test_someone_who_mediates_nothing_is_told_what_cohort_is_for(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 7500)
    eve = standin.add_user(7500, first_name="Eve", language_code="en")
    for command in ("/cohort", "/nudge", "/broadcast"):
        await eve.send(command)
        answer = await eve.next_message()
        assert answer["text"].startswith("This is for mediators.")
    await eve.send("/help")
    assert "/nudge" not in (await eve.next_message())["text"]


@pytest.mark.usefixtures("group")
async def test_mediator_sees_who_is_quiet_and_nudges_them_and_the_nudge_opens_a_lesson(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    delivery: DeliveryWorker,
    group: list[User],
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    ivo = standin.add_user(7503, first_name="Ivo", language_code="en")
    await rosa.send("/help")
    assert "/nudge" in (await rosa.next_message())["text"]
    await rosa.send("/cohort")
    overview = await rosa.next_message()
    assert overview["text"].splitlines()[:4] == [
        "Sliven <teachers>",
        "2 members",
        "1 quiet for 7 days or more",
        "• Ivo",
    ]
    await rosa.press("👋 Nudge the quiet ones")
    question = await rosa.next_message()
    assert question["text"] == "Nudge 1 quiet member of Sliven <teachers>?"
    assert button_texts(question) == ["Yes, nudge them", "No"]
    await rosa.press("Yes, nudge them", message=question)
    await rosa.wait_for(
        lambda m: m["text"] == "A friendly nudge is on its way to 1 member.", timeout=5
    )
    nudge = await ivo.next_message(timeout=10)
    assert button_texts(nudge) == ["Continue: What segregation is"]
    async with session_maker() as session:
        sent = await session.scalar(select(Broadcast).where(Broadcast.kind == BroadcastKind.NUDGE))
        assert sent is not None
        entry = await session.scalar(
            select(AuditLog).where(
                AuditLog.entity == "broadcast", AuditLog.entity_id == str(sent.id)
            )
        )
    assert entry is not None
    # The nudge is Rosa's, not the scheduler's, in the broadcast and in the audit log.
    rosa_id = group[0].id
    assert (sent.created_by, sent.created_by_user_id) == (f"user:{rosa_id}", rosa_id)
    assert (entry.actor, entry.actor_user_id, entry.actor_token_id) == (
        f"user:{rosa_id}",
        rosa_id,
        None,
    )
    await rosa.send("/nudge")
    again = await rosa.next_message()
    assert again["text"] == (
        "Nobody to nudge now: 1 quiet member was nudged this week already and is left in peace."
    )
    assert button_texts(again) == []
    await ivo.press("Continue: What segregation is", message=nudge)
    await ivo.wait_for(lambda m: "step 1 of 2" in m["text"])
    assert standin.unanswered_callback_queries() == []


async def press_and_wait(standin: BotAPIStandIn, user: SimUser, button: str, message: JSON) -> JSON:
    """Press ``button`` on ``message`` and wait for the bot's answer; the message as it is then."""
    query_id = await user.press(button, message=message)

    async def answered() -> bool:
        return standin.callback_queries[query_id].answered

    await eventually(answered)
    return user.message(message["message_id"])


async def refresh_until(
    standin: BotAPIStandIn, user: SimUser, status: JSON, done: Callable[[str], bool]
) -> JSON:
    """Press Refresh on a broadcast's status until its text is ``done`` (the worker's pace)."""
    for _ in range(100):
        status = await press_and_wait(standin, user, "🔄 Refresh", status)
        if done(status["text"]):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"the status never became what was expected: {status['text']!r}")


async def broadcast(rosa: SimUser, text: str, when: str) -> None:
    seen = max((m["message_id"] for m in rosa.messages), default=0)
    await rosa.send("/broadcast")
    await rosa.wait_for(
        lambda m: (
            m["message_id"] > seen and m["text"].startswith("Write the message for the group.")
        )
    )
    await rosa.send(text)
    await rosa.wait_for(lambda m: m["message_id"] > seen and m["text"] == "When should it go out?")
    await rosa.press(when)


@pytest.mark.usefixtures("group")
async def test_the_preview_tells_the_mediator_who_would_read_another_language(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await create_learner(session_maker, 7504, cohort="SLV1", first_name="Lucía", locale="es")
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")

    await broadcast(rosa, "Workshop on Friday", "Cancel")

    told = await rosa.wait_for(lambda m: m["text"].startswith("Not everyone"))
    assert told["text"].splitlines() == [
        "Not everyone would read it in their own language:",
        "• 1 learner reads Spanish: they would get it in English.",
        "To reach them in their own language, write it in the console, which has a box for each "
        "language; or send it as it is.",
    ]
    await rosa.wait_for(lambda m: m["text"] == "Nothing was sent.")
    async with session_maker() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(Broadcast)
                .where(Broadcast.kind == BroadcastKind.BROADCAST)
            )
            == 0
        )


@pytest.mark.usefixtures("group")
async def test_mediator_broadcast_is_previewed_sent_and_followed_live(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    delivery: DeliveryWorker,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    ana = standin.add_user(7502, first_name="Ana", language_code="en")
    ivo = standin.add_user(7503, first_name="Ivo", language_code="en")
    await broadcast(rosa, "Workshop on Friday at 10, School 3", "Send now")
    preview = [m["text"] for m in rosa.messages]
    assert "This is what the group will see:" in preview
    assert "Workshop on Friday at 10, School 3" in preview
    # Everyone reads English: nobody to tell of.
    assert not any(text.startswith("Not everyone") for text in preview)
    got = await ana.next_message(timeout=10)
    # Recipients see who wrote it.
    assert got["text"] == "From your mediator Rosa:\n\nWorkshop on Friday at 10, School 3"
    assert (await ivo.next_message(timeout=10))["text"] == got["text"]
    # The delivery worker brings the status up to date by itself, no Refresh needed.
    status = await rosa.wait_for(lambda m: "Sent: 2 · waiting: 0" in m["text"], timeout=10)
    assert status["text"].splitlines() == [
        "Message to the group · Sliven <teachers>",
        "✅ Done",
        "Recipients: 2",
        "Sent: 2 · waiting: 0 · failed: 0 · blocked the bot: 0",
        "Received: Ana, Ivo",
    ]
    assert button_texts(status) == ["🔄 Refresh"]
    edits = standin.calls_of("editMessageText")
    assert edits and all(call.ok for call in edits), "an unchanged status is never edited"
    broadcast_id = int(
        status["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[2]
    )

    async def answer_to(data: str) -> str | None:
        query_id = await rosa.press_forged(data, message=status)
        await eventually(lambda: asyncio.sleep(0, standin.callback_queries[query_id].answered))
        return standin.callback_queries[query_id].text

    # Cancel from an older copy of the status, once everything has gone: nothing to cancel.
    assert await answer_to(f"bs:cancel:{broadcast_id}") == (
        "It has gone to everyone already; nothing to cancel."
    )
    # A broadcast that is not hers (or does not exist) shows nothing.
    assert await answer_to(f"bs:refresh:{broadcast_id + 100}") == (
        "This group is not one of yours any more. Send /cohort to see yours."
    )
    async with session_maker() as session:
        sent = await session.scalar(
            select(Broadcast).where(Broadcast.kind == BroadcastKind.BROADCAST)
        )
    assert sent is not None and sent.created_by is not None


@pytest.mark.usefixtures("group")
async def test_mediator_schedules_a_broadcast_for_tomorrow_or_cancels_it(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    await broadcast(rosa, "See you tomorrow", "Tomorrow at 9:00")
    await rosa.wait_for(lambda m: "Recipients: 2" in m["text"])
    async with session_maker() as session:
        scheduled = await session.scalar(
            select(Broadcast).where(Broadcast.kind == BroadcastKind.BROADCAST)
        )
    assert scheduled is not None and scheduled.send_at > utcnow() + timedelta(hours=1)
    await broadcast(rosa, "Never mind", "Cancel")
    await rosa.wait_for(lambda m: m["text"] == "Nothing was sent.")


@pytest.mark.usefixtures("group")
async def test_broken_formatting_is_refused_before_anything_is_sent(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    await rosa.send("/broadcast")
    await rosa.next_message()
    await rosa.send("x" * 4000 + " and more " * 20)
    refused = await rosa.next_message()
    assert refused["text"].startswith("This message cannot be sent:")


@pytest.mark.usefixtures("group")
async def test_mediator_opens_a_workshop_check_in_with_a_qr_code(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    await rosa.send("/cohort")
    await rosa.next_message()
    await rosa.press("📍 Workshop check-in")
    await rosa.wait_for(lambda m: m["text"].startswith("What is the workshop called?"))
    await rosa.send("Parents' evening")
    await rosa.wait_for(lambda m: m["text"].startswith("When does it start?"))
    await rosa.press("It starts now")
    await rosa.wait_for(lambda m: m["text"].startswith("Where is it?"))
    await rosa.send("School 3")
    photo = await rosa.wait_for(lambda m: "photo" in m)
    async with session_maker() as session:
        event = await eventually(lambda: session.scalar(select(Event)))
    assert f"https://t.me/lt_test_bot?start=e-{event.code}" in photo["caption"]
    assert photo["caption"].startswith("Parents' evening")


@pytest.mark.usefixtures("group")
async def test_mediator_gets_the_groups_progress_chart(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    await rosa.send("/cohort")
    await rosa.next_message()
    await rosa.press("📊 Progress chart")
    chart = await rosa.wait_for(lambda m: "photo" in m, timeout=15)
    assert chart["caption"] == "Sliven <teachers>: week by week"
    assert standin.photos[-1].content.startswith(b"\x89PNG")


@pytest.mark.usefixtures("group")
async def test_mediator_says_no_to_the_nudge_and_nobody_is_nudged(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    await rosa.send("/nudge")
    question = await rosa.next_message()
    assert question["text"] == "Nudge 1 quiet member of Sliven <teachers>?"
    await press_and_wait(standin, rosa, "No", question)
    # The press is answered before its message is edited: wait for the edit.
    answered = await rosa.wait_for(
        lambda m: m["message_id"] == question["message_id"] and m["text"] != question["text"]
    )
    assert answered["text"] == "Nobody was nudged."
    assert button_texts(answered) == []
    async with session_maker() as session:
        assert (
            await session.scalar(select(Broadcast).where(Broadcast.kind == BroadcastKind.NUDGE))
            is None
        )


@pytest.mark.usefixtures("group")
async def test_scheduled_broadcast_is_cancelled_from_its_status_and_never_sent(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    delivery: DeliveryWorker,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    ana = standin.add_user(7502, first_name="Ana", language_code="en")
    await broadcast(rosa, "See you in an hour", "In one hour")
    status = await rosa.wait_for(lambda m: m["text"].startswith("Message to the group"))
    lines = status["text"].splitlines()
    assert lines[0] == "Message to the group · Sliven <teachers>"
    assert lines[1].startswith("🕘 Scheduled for ")
    assert "On the way: Ana, Ivo" in lines
    assert button_texts(status) == ["🔄 Refresh", "Cancel what has not gone"]
    await press_and_wait(standin, rosa, "Cancel what has not gone", status)
    cancelled = await rosa.wait_for(
        lambda m: m["message_id"] == status["message_id"] and "❌ Cancelled at " in m["text"]
    )
    lines = cancelled["text"].splitlines()
    assert lines[1].startswith("❌ Cancelled at ")
    assert "Not sent (cancelled): 2" in lines
    assert "Not received: Ana, Ivo" in lines
    assert button_texts(cancelled) == ["🔄 Refresh"]
    assert standin.callback_queries[list(standin.callback_queries)[-1]].text == "Cancelled."
    async with session_maker() as session:
        row = await session.scalar(
            select(Broadcast).where(Broadcast.kind == BroadcastKind.BROADCAST)
        )
        assert row is not None
        entry = await session.scalar(
            select(AuditLog).where(AuditLog.action == "cancel", AuditLog.entity_id == str(row.id))
        )
    assert row.status is BroadcastStatus.CANCELLED
    assert entry is not None and entry.actor_user_id is not None
    # Cancel pressed again (a second device still showed the button) changes nothing.
    query_id = await rosa.press_forged(f"bs:cancel:{row.id}", message=status)
    await eventually(lambda: asyncio.sleep(0, standin.callback_queries[query_id].answered))
    assert rosa.message(status["message_id"])["text"] == cancelled["text"]
    assert ana.messages == []


@pytest.mark.usefixtures("group")
async def test_status_says_a_message_waits_for_the_learners_quiet_hours(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    delivery: DeliveryWorker,
    group: list[User],
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with session_maker() as session:
        ana = await session.get(User, group[1].id)
        assert ana is not None
        ana.timezone = "UTC"
        ana.quiet_hours_start = time((now - timedelta(hours=1)).hour)
        ana.quiet_hours_end = time((now + timedelta(hours=2)).hour)
        await session.commit()
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    standin.add_user(7502, first_name="Ana", language_code="en")
    standin.add_user(7503, first_name="Ivo", language_code="en")
    await broadcast(rosa, "Tomorrow's workshop moves to room 4", "Send now")
    status = await rosa.wait_for(lambda m: m["text"].startswith("Message to the group"))
    status = await refresh_until(standin, rosa, status, lambda text: "Received: Ivo" in text)
    lines = status["text"].splitlines()
    assert "Sent: 1 · waiting: 1 · failed: 0 · blocked the bot: 0" in lines
    waits = [line for line in lines if line.startswith("⏳")]
    assert len(waits) == 1
    assert waits[0].startswith("⏳ 1 waits for their quiet hours to end, until ")
    assert "On the way: Ana" in lines
    assert button_texts(status) == ["🔄 Refresh", "Cancel what has not gone"]


@pytest.mark.usefixtures("group")
async def test_refresh_in_another_process_shows_what_the_worker_sent_meanwhile(
    standin: BotAPIStandIn,
    bot_settings: Settings,
    database: TestDatabase,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    """The status lives in the database: a bot process that never saw the broadcast created
    (another worker, or the same after a restart) refreshes it."""
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    standin.add_user(7502, first_name="Ana", language_code="en")
    standin.add_user(7503, first_name="Ivo", language_code="en")
    first = build_bot_parts(bot_settings, session_maker)
    assert first is not None
    polling = asyncio.create_task(run_polling(first, polling_timeout=1))
    await broadcast(rosa, "Workshop on Friday", "Send now")
    status = await rosa.wait_for(lambda m: m["text"].startswith("Message to the group"))
    assert "Sent: 0 · waiting: 2 · failed: 0 · blocked the bot: 0" in status["text"]
    await first.dispatcher.stop_polling()
    await asyncio.wait_for(polling, timeout=10)
    # The messages go out while no bot runs (the worker is another process's part).
    bot = bot_for(standin)
    await DeliveryWorker(bot, session_maker, i18n=create_i18n(), send_rate=25).run(until_idle=True)
    await bot.session.close()
    engine = create_engine(database.url)
    second = build_bot_parts(bot_settings, create_session_maker(engine))
    assert second is not None
    polling = asyncio.create_task(run_polling(second, polling_timeout=1))
    try:
        status = await press_and_wait(standin, rosa, "🔄 Refresh", status)
        # Nothing changed since: Refresh answers without editing ("message is not modified").
        edits = len(standin.calls_of("editMessageText"))
        await press_and_wait(standin, rosa, "🔄 Refresh", status)
        assert len(standin.calls_of("editMessageText")) == edits
    finally:
        await second.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)
        await engine.dispose()
    assert "Sent: 2 · waiting: 0 · failed: 0 · blocked the bot: 0" in status["text"]
    assert "Received: Ana, Ivo" in status["text"].splitlines()


@pytest.mark.usefixtures("group")
async def test_a_learner_made_mediator_is_told_and_gets_the_mediators_menu_until_removed(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    delivery: DeliveryWorker,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    petar = standin.add_user(7504, first_name="Petar", language_code="en")
    learner = await create_learner(session_maker, 7504, first_name="Petar")
    admin = Actor.system("token:programme")
    async with session_maker() as session:
        await cohorts.add_mediator(session, code="SLV1", user_id=learner.id, actor=admin)
        await session.commit()
    told = await petar.next_message(timeout=10)
    assert told["text"].startswith("You are now a mediator of Sliven <teachers>.\n/cohort shows")
    assert "/record records a lesson step in your language." in told["text"]
    menu = standin.commands[("chat:7504", "")]
    assert [command["command"] for command in menu] == [
        "lessons",
        "progress",
        "start",
        "settings",
        "language",
        "help",
        "privacy",
        "mydata",
        "delete",
        "cohort",
        "broadcast",
        "nudge",
        "console",
        "record",
    ]
    # Everyone else keeps the learners' menu.
    assert "cohort" not in [command["command"] for command in standin.commands[("default", "")]]
    await petar.send("/nudge")
    assert (await petar.next_message())["text"] == "Nudge 1 quiet member of Sliven <teachers>?"

    async with session_maker() as session:
        await cohorts.remove_mediator(session, code="SLV1", user_id=learner.id, actor=admin)
        await session.commit()
    gone = await petar.wait_for(lambda m: m["text"].startswith("You no longer mediate"), timeout=10)
    assert gone["text"] == (
        "You no longer mediate a group. /cohort, /broadcast, /nudge and /record have left your "
        "command menu."
    )
    assert ("chat:7504", "") not in standin.commands
    assert standin.calls_of("deleteMyCommands")[-1].params["scope"] == {
        "type": "chat",
        "chat_id": 7504,
    }
    await petar.send("/nudge")
    await petar.wait_for(lambda m: m["text"].startswith("This is for mediators."))


@pytest.mark.usefixtures("group")
async def test_status_pusher_edits_only_what_changed_and_lets_go_of_a_message_that_is_gone(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(7501, first_name="Rosa", language_code="en")
    standin.add_user(7502, first_name="Ana", language_code="en")
    standin.add_user(7503, first_name="Ivo", language_code="en")
    await broadcast(rosa, "Workshop on Friday", "Send now")
    status = await rosa.wait_for(lambda m: m["text"].startswith("Message to the group"))

    async def followed() -> Broadcast | None:
        # A session per look: one read transaction would not see the bot's commit.
        async with session_maker() as session:
            return await session.scalar(
                select(Broadcast).where(
                    Broadcast.kind == BroadcastKind.BROADCAST,
                    Broadcast.status_message_id.is_not(None),
                )
            )

    row = await eventually(followed)
    assert (row.status_chat_id, row.status_message_id) == (7501, status["message_id"])
    bot = bot_for(standin)
    push = StatusPusher(session_maker, create_i18n(), default_locale="en")
    edits = len(standin.calls_of("editMessageText"))
    await push(bot, {row.id})
    assert len(standin.calls_of("editMessageText")) == edits, "nothing changed, nothing edited"

    await DeliveryWorker(bot, session_maker, i18n=create_i18n(), send_rate=25).run(until_idle=True)
    await push(bot, {row.id})
    assert len(standin.calls_of("editMessageText")) == edits + 1
    assert "Sent: 2 · waiting: 0" in rosa.message(status["message_id"])["text"]

    # Rosa deleted the status message: the next change lets go of it.
    await bot.delete_message(7501, status["message_id"])
    async with session_maker() as session:
        await session.execute(
            update(Broadcast).where(Broadcast.id == row.id).values(status_digest="stale")
        )
        await session.commit()
    await push(bot, {row.id})
    await bot.session.close()
    async with session_maker() as session:
        after = await session.get(Broadcast, row.id)
    assert after is not None
    assert (after.status_chat_id, after.status_message_id, after.status_digest) == (None,) * 3


_EDIT = EditMessageText(text="Sent: 2", chat_id=7501, message_id=9)


@pytest.mark.parametrize(
    ("error", "edited"),
    [
        (None, Edited.SHOWN),
        (TelegramBadRequest(_EDIT, "Bad Request: message is not modified"), Edited.SHOWN),
        (TelegramBadRequest(_EDIT, "Bad Request: message to edit not found"), Edited.GONE),
        (TelegramRetryAfter(_EDIT, "Too Many Requests: retry after 5", 5), Edited.LATER),
        (TelegramNetworkError(_EDIT, "ClientConnectorError"), Edited.LATER),
    ],
)
async def test_a_followed_message_is_let_go_only_when_telegram_says_it_cannot_be_edited(
    session_maker: async_sessionmaker[AsyncSession],
    error: TelegramAPIError | None,
    edited: Edited,
) -> None:
    """A 429 or a lost connection used to stop the delivery worker from following a broadcast's
    status for good; now only a message that cannot be edited is let go."""
    followed = FollowedMessages(session_maker, create_i18n(), default_locale="en")

    async def edit() -> bool:
        if error is not None:
            raise error
        return True

    assert await followed._edit(edit, "a status") is edited
