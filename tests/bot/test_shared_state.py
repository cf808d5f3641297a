"""With LT_REDIS_URL a conversation lives in Redis: another process (or a restart) carries it on."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.models import Role
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from tests.bot.steps import begin_in_english, finish_onboarding
from tests.factories import eventually, find_user
from tests.standin import BotAPIStandIn

REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
LEARNER = 5901


@pytest.fixture
async def redis_settings(bot_settings: Settings, standin: BotAPIStandIn) -> AsyncIterator[Settings]:
    """The bot's settings with Redis; the learner's conversation keys are removed after the test."""
    assert REDIS_URL is not None
    yield bot_settings.model_copy(update={"redis_url": REDIS_URL})
    redis = Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(f"fsm:{standin.bot_id}:{LEARNER}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.fixture
async def start_process(
    redis_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Callable[[], BotParts]]:
    """Start a bot process (its own dispatcher and storage) polling the stand-in."""
    running: list[tuple[BotParts, asyncio.Task[None]]] = []

    def start() -> BotParts:
        parts = build_bot_parts(redis_settings, session_maker)
        assert parts is not None
        running.append((parts, asyncio.create_task(run_polling(parts, polling_timeout=1))))
        return parts

    yield start
    for parts, task in running:
        if not task.done():
            await parts.dispatcher.stop_polling()
        await asyncio.wait_for(task, timeout=10)


async def test_onboarding_begun_in_one_process_is_finished_in_another(
    standin: BotAPIStandIn,
    start_process: Callable[[], BotParts],
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    first = start_process()
    ana = standin.add_user(LEARNER, first_name="Ana", language_code="en")
    await begin_in_english(ana)
    await first.dispatcher.stop_polling()  # a deploy, or the next update goes to another worker

    start_process()
    await finish_onboarding(ana, role="Teacher", municipality="Sliven")
    learner = await eventually(lambda: find_user(session_maker, LEARNER))
    assert (learner.locale, learner.role, learner.municipality) == ("en", Role.TEACHER, "Sliven")
