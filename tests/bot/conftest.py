"""The bot running for real against the Bot API stand-in, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import ChatMenus
from bot.handlers.assisted import CheckInCounter
from bot.handlers.mediator import StatusPusher
from learntogether.config import Settings
from learntogether.delivery import DeliveryWorker
from learntogether.i18n import create_i18n
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from tests.conftest import TestDatabase
from tests.standin import BotAPIStandIn
from tests.standin.fixtures import bot_for


@pytest.fixture
def bot_settings(standin: BotAPIStandIn, database: TestDatabase) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=standin.token,
        telegram_api_url=standin.base_url,
        database_url=database.url,
    )


@pytest.fixture
async def polling_bot(
    bot_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[BotParts]:
    """The dispatcher polling the stand-in, as ``learntogether bot`` runs it."""
    parts = build_bot_parts(bot_settings, session_maker)
    assert parts is not None
    task = asyncio.create_task(run_polling(parts, polling_timeout=1))
    yield parts
    await parts.dispatcher.stop_polling()
    await asyncio.wait_for(task, timeout=10)


@pytest.fixture
async def delivery(
    standin: BotAPIStandIn, session_maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[DeliveryWorker]:
    """The delivery worker sending the outbox to the stand-in, as ``learntogether worker`` does."""
    bot = bot_for(standin)
    i18n = create_i18n()
    worker = DeliveryWorker(
        bot,
        session_maker,
        i18n=i18n,
        send_rate=25,
        batch_size=5,
        idle_seconds=0.05,
        chat_menus=ChatMenus(i18n),
        status_pusher=StatusPusher(session_maker, i18n, default_locale="en"),
        check_in_counter=CheckInCounter(session_maker, i18n, default_locale="en"),
        status_seconds=0.2,
    )
    task = asyncio.create_task(worker.run())
    yield worker
    worker.stop()
    await asyncio.wait_for(task, timeout=15)
    await bot.session.close()
