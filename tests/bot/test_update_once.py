"""Each update_id is handled once, in the process or across processes through Redis."""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update
from redis.asyncio import Redis

from bot.middlewares import UpdateOnce
from learntogether.redisfallback import RedisOutage, connect
from tests.redisproxy import redis_proxy

REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")
BOT = Bot(token="42:" + "A" * 35)


class Handler:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    async def __call__(self, event: Any, data: dict[str, Any]) -> str:
        self.calls += 1
        if self.fail:
            raise RuntimeError("the database went away")
        return "handled"


def _update(update_id: int) -> Update:
    return Update(update_id=update_id)


async def test_the_same_update_twice_is_handled_once() -> None:
    once, handler = UpdateOnce(), Handler()
    for _ in range(2):
        await once(handler, _update(1), {"bot": BOT})
    await once(handler, _update(2), {"bot": BOT})
    assert handler.calls == 2


async def test_a_failed_update_is_forgotten_so_a_redelivery_is_handled() -> None:
    once = UpdateOnce()
    with pytest.raises(RuntimeError):
        await once(Handler(fail=True), _update(1), {"bot": BOT})
    retried = Handler()
    assert await once(retried, _update(1), {"bot": BOT}) == "handled"


async def test_only_the_newest_updates_are_remembered_in_the_process() -> None:
    once, handler = UpdateOnce(remembered=2), Handler()
    for update_id in (1, 2, 3, 1):
        await once(handler, _update(update_id), {"bot": BOT})
    assert handler.calls == 4


@pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
async def test_two_bot_processes_sharing_redis_handle_an_update_once() -> None:
    assert REDIS_URL is not None
    update_id = uuid.uuid4().int % 2**31
    first_redis, second_redis = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    try:
        handler = Handler()
        await UpdateOnce(first_redis)(handler, _update(update_id), {"bot": BOT})
        await UpdateOnce(second_redis)(handler, _update(update_id), {"bot": BOT})
        assert handler.calls == 1
    finally:
        await first_redis.delete(f"lt:update:{BOT.id}:{update_id}")
        await first_redis.aclose()
        await second_redis.aclose()


async def test_with_redis_unreachable_updates_are_still_handled_once_in_the_process() -> None:
    # Nothing listens on port 1: every Redis call fails at once.
    unreachable = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        once, handler = UpdateOnce(unreachable), Handler()
        for _ in range(2):
            await once(handler, _update(5), {"bot": BOT})
        assert handler.calls == 1
    finally:
        await unreachable.aclose()


@pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
async def test_while_redis_is_away_the_process_deduplicates_and_redis_takes_over_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert REDIS_URL is not None
    monkeypatch.setattr(RedisOutage, "retry_seconds", 0.0)
    first, during, after = (uuid.uuid4().int % 2**31 for _ in range(3))
    direct = Redis.from_url(REDIS_URL)
    async with redis_proxy(REDIS_URL) as proxy:
        shared = connect(proxy.url)
        once, handler = UpdateOnce(shared), Handler()
        try:
            await once(handler, _update(first), {"bot": BOT})
            await proxy.stop()
            caplog.set_level(logging.INFO, logger="learntogether.redisfallback")
            for update_id in (first, during, during, during):
                await once(handler, _update(update_id), {"bot": BOT})
            assert handler.calls == 2
            assert not await direct.exists(f"lt:update:{BOT.id}:{during}")

            await proxy.start()
            for update_id in (during, after, after):
                await once(handler, _update(update_id), {"bot": BOT})
            assert handler.calls == 3  # `during` was handled while Redis was away: not again
            assert await direct.exists(f"lt:update:{BOT.id}:{after}")
            assert [record.levelname for record in caplog.records] == ["WARNING", "INFO"]
        finally:
            await direct.delete(*(f"lt:update:{BOT.id}:{u}" for u in (first, during, after)))
            await direct.aclose()
            await shared.aclose()
