"""Pytest fixtures for the Bot API stand-in.

Use as a plugin (``pytest_plugins = ["tests.standin.fixtures"]``) or import the fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from tests.standin.server import BotAPIStandIn


class _PlainHTTPSession(AiohttpSession):
    """aiogram's session without the quarter-second wait for TLS shutdown on close."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def bot_for(standin: BotAPIStandIn, token: str | None = None, **bot_options: Any) -> Bot:
    """An aiogram ``Bot`` that talks to ``standin`` (with its token unless ``token`` is given)."""
    session = _PlainHTTPSession(api=TelegramAPIServer.from_base(standin.base_url))
    return Bot(token or standin.token, session=session, **bot_options)


@pytest_asyncio.fixture
async def standin() -> AsyncIterator[BotAPIStandIn]:
    """A started stand-in with default token and limits, stopped after the test."""
    async with BotAPIStandIn() as server:
        yield server


@pytest_asyncio.fixture
async def standin_bot(standin: BotAPIStandIn) -> AsyncIterator[Bot]:
    """An aiogram ``Bot`` connected to the ``standin`` fixture, closed after the test."""
    bot = bot_for(standin)
    yield bot
    await bot.session.close()
