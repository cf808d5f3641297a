"""With LT_REDIS_URL set, Redis going away and coming back costs no learner their onboarding."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.models import Role
from learntogether.redisfallback import RedisOutage
from learntogether.runtime import build_bot_parts, run_polling
from tests.bot.steps import begin_in_english, finish_onboarding
from tests.factories import eventually, find_user
from tests.redisproxy import RedisProxy, redis_proxy
from tests.standin import BotAPIStandIn

REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
ANA, BOB = 5911, 5912


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """The test Redis, directly; Ana's and Bob's conversations are removed after."""
    assert REDIS_URL is not None
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.delete(
        *(f"fsm:{user}:{user}:{part}" for user in (ANA, BOB) for part in ("state", "data"))
    )
    await client.aclose()


@pytest.fixture
async def proxy() -> AsyncIterator[RedisProxy]:
    assert REDIS_URL is not None
    async with redis_proxy(REDIS_URL) as running:
        yield running


async def test_a_newcomer_finishes_onboarding_while_redis_is_away_and_redis_takes_over_again(
    bot_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    proxy: RedisProxy,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(RedisOutage, "retry_seconds", 0.2)
    caplog.set_level(logging.INFO, logger="learntogether.redisfallback")
    parts = build_bot_parts(bot_settings.model_copy(update={"redis_url": proxy.url}), session_maker)
    assert parts is not None
    polling = asyncio.create_task(run_polling(parts, polling_timeout=1))
    try:
        ana = standin.add_user(ANA, first_name="Ana", language_code="en")
        await begin_in_english(ana)
        assert await redis.get(f"fsm:{ANA}:{ANA}:state") == b"Onboarding:role"

        await proxy.stop()
        await finish_onboarding(ana, role="Teacher", municipality="Sliven")
        learner = await eventually(lambda: find_user(session_maker, ANA))
        assert (learner.locale, learner.role, learner.municipality) == (
            "en",
            Role.TEACHER,
            "Sliven",
        )
        told = [m["text"] for m in ana.messages] + [
            q.text or "" for q in standin.callback_queries.values()
        ]
        assert not [text for text in told if "/start" in text or "went wrong" in text]

        await proxy.start()
        await asyncio.sleep(0.3)  # past the pause before Redis is tried again
        bob = standin.add_user(BOB, first_name="Bob", language_code="en")
        await begin_in_english(bob)
        assert await redis.get(f"fsm:{BOB}:{BOB}:state") == b"Onboarding:role"
        # Ana's onboarding ended while Redis was away: it is not brought back.
        assert await redis.get(f"fsm:{ANA}:{ANA}:state") is None
    finally:
        await parts.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)
    outage = [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if "conversation state" in record.getMessage()
    ]
    assert [level for level, _ in outage] == ["WARNING", "INFO"], outage
