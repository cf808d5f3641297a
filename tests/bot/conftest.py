"""The bot running for real against the Bot API stand-in, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from tests.conftest import TestDatabase
from tests.standin import BotAPIStandIn


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
