"""Several delivery workers share one bot's rate and its pauses (through Redis in production)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.delivery.fleet import ALONE, Alone, FleetState, RedisFleet, fleet_for
from learntogether.services.broadcasts import BroadcastInfo
from tests.delivery.conftest import (
    add_learners,
    committed_broadcast,
    committed_cohort,
    counts_of,
)
from tests.delivery.workers import WorkerFactory
from tests.factories import eventually
from tests.standin import BotAPIStandIn

REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")


class SharedFleet:
    """What RedisFleet tells a worker, set by the test: how many workers, and a pause."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self.paused_until = 0.0
        self.pauses: list[float] = []
        self.left = 0

    def paused_elsewhere(self, seconds: float) -> None:
        """Another worker was told 429 and shared its pause."""
        self.paused_until = time.monotonic() + seconds

    async def check_in(self) -> FleetState:
        return FleetState(self.workers, max(0.0, self.paused_until - time.monotonic()))

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)

    async def leave(self) -> None:
        self.left += 1


@pytest.fixture
async def redis_fleets() -> AsyncIterator[Callable[..., RedisFleet]]:
    """RedisFleets under a key prefix of this test's own; all leave afterwards."""
    assert REDIS_URL is not None
    prefix = f"lt-test:{uuid.uuid4().hex}"
    made: list[RedisFleet] = []

    def make(expires_after: float = 10.0) -> RedisFleet:
        assert REDIS_URL is not None
        made.append(RedisFleet(REDIS_URL, prefix=prefix, expires_after=expires_after))
        return made[-1]

    yield make
    for fleet in made:
        await fleet.leave()


async def test_without_redis_a_worker_is_alone() -> None:
    fleet = fleet_for(None)
    assert isinstance(fleet, Alone)
    assert await fleet.check_in() == ALONE


async def test_when_redis_is_away_a_worker_keeps_what_it_knew_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fleet = RedisFleet("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="learntogether.delivery.fleet"):
        assert await fleet.check_in() == ALONE
        assert await fleet.check_in() == ALONE
        await fleet.pause(1.0)
        await fleet.leave()
    said = [record.getMessage() for record in caplog.records]
    assert sum("cannot check in with Redis" in line for line in said) == 1
    assert any("cannot share a pause" in line for line in said)


@needs_redis
async def test_workers_count_each_other_until_one_leaves_or_falls_silent(
    redis_fleets: Callable[..., RedisFleet],
) -> None:
    first, second, silent = redis_fleets(), redis_fleets(), redis_fleets(expires_after=0.2)
    assert (await first.check_in()).workers == 1
    assert (await second.check_in()).workers == 2
    assert (await silent.check_in()).workers == 3
    await asyncio.sleep(0.3)  # the silent one's check-in has expired
    assert (await first.check_in()).workers == 2
    await second.leave()
    assert await first.check_in() == FleetState(workers=1, paused_for=0.0)


@needs_redis
async def test_a_pause_reaches_every_worker_and_the_longer_one_stands(
    redis_fleets: Callable[..., RedisFleet],
) -> None:
    told, other = redis_fleets(), redis_fleets()
    await told.pause(5.0)
    await told.pause(1.0)
    paused = (await other.check_in()).paused_for
    assert 4.0 < paused <= 5.0


async def test_a_worker_sends_at_its_share_of_the_rate_and_leaves_when_it_stops(
    session_maker: async_sessionmaker[AsyncSession], make_worker: WorkerFactory
) -> None:
    fleet = SharedFleet(workers=3)
    worker = make_worker(send_rate=24, fleet=fleet, fleet_seconds=0.05)
    await worker.run(until_idle=True)
    assert worker.limiter.rate == 8
    assert fleet.left == 1


async def test_another_workers_pause_holds_this_ones_sends(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [2101, 2102], cohort="SLV1")
    fleet = SharedFleet()
    start_worker(fleet=fleet, fleet_seconds=0.05)
    first = await committed_broadcast(session_maker)
    await standin.wait_for_call("sendMessage", timeout=10)
    await eventually(lambda: _all_sent(session_maker, first))

    fleet.paused_elsewhere(1.0)
    await asyncio.sleep(0.2)  # a few check-ins
    second = await committed_broadcast(session_maker)
    await eventually(lambda: _all_sent(session_maker, second), within=10)
    held = [call.time for call in standin.calls_of("sendMessage")][-2:]
    assert min(held) >= fleet.paused_until - 0.05, "sent while another worker's pause lasted"


async def test_a_429_is_told_to_the_other_workers(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [2201], cohort="SLV1")
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
    fleet = SharedFleet()
    start_worker(fleet=fleet)
    info = await committed_broadcast(session_maker)
    await eventually(lambda: _all_sent(session_maker, info), within=10)
    assert fleet.pauses == [2]


@needs_redis
async def test_two_workers_through_redis_stay_within_the_bots_limit(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
    redis_fleets: Callable[..., RedisFleet],
) -> None:
    """Each at LT_SEND_RATE 25 alone would make 50/s, past Telegram's 30: together they make 25."""
    await committed_cohort(session_maker)
    ids = list(range(2301, 2361))
    await add_learners(session_maker, standin, ids, cohort="SLV1")
    start_worker(fleet=redis_fleets(), fleet_seconds=0.2)
    start_worker(fleet=redis_fleets(), fleet_seconds=0.2)
    info = await committed_broadcast(session_maker)
    await eventually(lambda: _all_sent(session_maker, info), within=20)
    assert standin.rate_limit_violations == 0
    assert sorted(int(call.params["chat_id"]) for call in standin.calls_of("sendMessage")) == ids


async def _all_sent(session_maker: async_sessionmaker[AsyncSession], info: BroadcastInfo) -> bool:
    counts = await counts_of(session_maker, info)
    return counts.total > 0 and counts.sent == counts.total
