"""A failing handler: the user gets a polite apology without internals, and the log names the update."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import F, Router
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from tests.standin import BotAPIStandIn


async def explode(message: Message) -> None:
    raise RuntimeError("database password is hunter2")


async def test_handler_error_gets_an_apology_in_the_users_language(
    standin: BotAPIStandIn,
    bot_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    parts = build_bot_parts(bot_settings, session_maker)
    assert parts is not None
    failing = Router(name="failing")
    failing.message.register(explode, F.text == "boom")
    parts.dispatcher.include_router(failing)
    # Put the failing router before the fallback, which takes every message.
    parts.dispatcher.sub_routers.insert(0, parts.dispatcher.sub_routers.pop())
    task = asyncio.create_task(run_polling(parts, polling_timeout=1))
    try:
        ivan = standin.add_user(4001, first_name="Иван", language_code="bg")
        await ivan.send("boom")
        reply = await ivan.next_message()
    finally:
        await parts.dispatcher.stop_polling()
        await asyncio.wait_for(task, timeout=10)
    assert reply["text"] == "Съжаляваме, нещо се обърка при нас. Моля, опитайте отново след малко."
    assert "hunter2" not in reply["text"]
    assert any(
        "update" in record.getMessage() and "failed" in record.getMessage()
        for record in caplog.records
    )


async def test_a_reply_that_hits_a_flood_limit_is_sent_after_the_wait(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    standin.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    lou = standin.add_user(4002, first_name="Lou", language_code="en")
    await lou.send("hello")
    reply = await lou.next_message(timeout=5)
    assert reply["text"].startswith("Please send /start first")
    assert [call.status for call in standin.calls_of("sendMessage")] == [429, 200]
