"""Conversation state in Redis, carried through a Redis outage by the process."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from bot.storage import RedisStorageWithFallback
from learntogether.redisfallback import RedisOutage, connect
from tests.redisproxy import RedisProxy, redis_proxy

REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
ANA = StorageKey(bot_id=1, chat_id=7001, user_id=7001)


@pytest.fixture(autouse=True)
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RedisOutage, "retry_seconds", 0.0)


@pytest.fixture
def prefix() -> str:
    """This test's keys in the shared test Redis."""
    return f"lt-test:{uuid.uuid4().hex}:"


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    """The test Redis, directly; this test's keys are removed after."""
    assert REDIS_URL is not None
    client = Redis.from_url(REDIS_URL)
    yield client
    await forget_everything(client, prefix)
    await client.aclose()


async def forget_everything(redis: Redis, prefix: str) -> None:
    keys = [key async for key in redis.scan_iter(f"{prefix}*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def proxy() -> AsyncIterator[RedisProxy]:
    assert REDIS_URL is not None
    async with redis_proxy(REDIS_URL) as running:
        yield running


def storage_through(url: str, prefix: str) -> RedisStorageWithFallback:
    return RedisStorageWithFallback(
        RedisStorage(connect(url), key_builder=DefaultKeyBuilder(prefix=f"{prefix}fsm")),
        marker_key=f"{prefix}kept",
    )


@pytest.fixture
def stored(redis: Redis, prefix: str) -> Callable[[str], Awaitable[bytes | None]]:
    """Ana's conversation as Redis holds it: ``state`` or ``data``."""

    async def read(part: str) -> bytes | None:
        value = await redis.get(f"{prefix}fsm:7001:7001:{part}")
        assert not isinstance(value, str)
        return value

    return read


Stored = Callable[[str], Awaitable[bytes | None]]


async def test_a_conversation_goes_on_while_redis_is_away_and_is_written_back_when_it_returns(
    proxy: RedisProxy, prefix: str, stored: Stored, caplog: pytest.LogCaptureFixture
) -> None:
    storage = storage_through(proxy.url, prefix)
    await storage.set_state(ANA, "Onboarding:role")
    await storage.set_data(ANA, {"locale": "en"})
    caplog.set_level(logging.INFO, logger="learntogether.redisfallback")

    await proxy.stop()
    assert await storage.get_state(ANA) == "Onboarding:role"
    assert await storage.get_data(ANA) == {"locale": "en"}
    await storage.set_state(ANA, "Onboarding:consent")
    await storage.update_data(ANA, {"role": "teacher"})
    assert await storage.get_state(ANA) == "Onboarding:consent"
    assert await stored("state") == b"Onboarding:role"  # Redis has not heard yet

    await proxy.start()
    assert await storage.get_state(ANA) == "Onboarding:consent"
    assert await stored("state") == b"Onboarding:consent"
    assert json.loads(await stored("data") or "") == {"locale": "en", "role": "teacher"}
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records] == [
        ("WARNING", "Redis unreachable (Error 111 connecting to 127.0.0.1"),
        ("INFO", "Redis is back"),
    ]
    await storage.close()


async def test_a_conversation_ended_while_redis_was_away_is_not_brought_back(
    proxy: RedisProxy, prefix: str, stored: Stored
) -> None:
    storage = storage_through(proxy.url, prefix)
    await storage.set_state(ANA, "Onboarding:municipality")
    await storage.set_data(ANA, {"locale": "en"})
    await proxy.stop()
    await storage.set_state(ANA, None)
    await storage.set_data(ANA, {})
    await proxy.start()
    assert await storage.get_state(ANA) is None
    assert (await stored("state"), await stored("data")) == (None, None)
    await storage.close()


async def test_conversations_kept_in_the_process_return_to_a_redis_that_came_back_empty(
    redis: Redis, prefix: str, stored: Stored
) -> None:
    assert REDIS_URL is not None
    storage = storage_through(REDIS_URL, prefix)
    await storage.set_state(ANA, "Onboarding:role")
    await storage.set_data(ANA, {"locale": "bg"})
    # Redis restarted without persistence between two updates: everything, the marker too, gone.
    await forget_everything(redis, prefix)
    assert await storage.get_state(ANA) == "Onboarding:role"
    assert await storage.get_data(ANA) == {"locale": "bg"}
    assert await stored("state") == b"Onboarding:role"
    await storage.close()


async def test_a_conversation_another_process_ended_stays_ended(
    prefix: str, stored: Stored
) -> None:
    assert REDIS_URL is not None
    first, second = storage_through(REDIS_URL, prefix), storage_through(REDIS_URL, prefix)
    await first.set_state(ANA, "Onboarding:municipality")
    await second.set_state(ANA, None)
    assert await first.get_state(ANA) is None
    assert await stored("state") is None
    await first.close()
    await second.close()


async def test_while_redis_is_away_it_is_tried_again_only_now_and_then(
    proxy: RedisProxy, prefix: str, stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RedisOutage, "retry_seconds", 60.0)
    storage = storage_through(proxy.url, prefix)
    await storage.set_state(ANA, "Onboarding:role")
    await proxy.stop()
    assert await storage.get_state(ANA) == "Onboarding:role"
    await proxy.start()
    await storage.set_state(ANA, "Onboarding:consent")
    assert await stored("state") == b"Onboarding:role"  # not tried again yet
    storage.outage.clock = lambda: float("inf")  # a minute later
    assert await storage.get_state(ANA) == "Onboarding:consent"
    assert await stored("state") == b"Onboarding:consent"
    await storage.close()
