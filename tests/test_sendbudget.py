"""The bot's send budget: replies take slots first, bulk takes what they leave, in one process
and shared through Redis, which may go away and come back."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from learntogether.sendbudget import LocalBudget, Priority, RedisBudget, SendBudget, window_for

REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")
REPLY, BULK = Priority.REPLY, Priority.BULK


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ticket() -> str:
    return uuid.uuid4().hex


@pytest.fixture(params=["process", "redis"])
async def make_budget(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[[float], SendBudget]]:
    """Budgets of one kind: the process's own, or one shared through Redis (fresh keys)."""
    made: list[SendBudget] = []

    def make(rate: float) -> SendBudget:
        if request.param == "process":
            budget: SendBudget = LocalBudget(rate)
        else:
            if REDIS_URL is None:
                pytest.skip("LT_TEST_REDIS_URL is not set")
            budget = RedisBudget(REDIS_URL, rate, key=f"lt:test:sends:{uuid.uuid4().hex}")
        made.append(budget)
        return budget

    yield make
    for budget in made:
        if isinstance(budget, RedisBudget):
            await budget.redis.delete(*budget.keys)
        await budget.close()


def test_a_rate_is_whole_sends_in_a_window_of_about_a_second() -> None:
    assert window_for(25) == (25, 1.0)
    assert window_for(0.5) == (1, 2.0)
    assert window_for(2.5) == (2, 0.8)
    with pytest.raises(ValueError, match="positive"):
        window_for(0)


async def test_replies_take_every_slot_then_wait(
    make_budget: Callable[[float], SendBudget],
) -> None:
    budget = make_budget(10)

    names = [ticket() for _ in range(10)]
    granted = [await budget.take(REPLY, name) for name in names]
    for name in names:
        await budget.sent(name)
    wait = await budget.take(REPLY, ticket())

    assert granted == [0.0] * 10
    assert 0.5 < wait <= 1.0


async def test_bulk_leaves_a_reserve_that_a_reply_then_takes(
    make_budget: Callable[[float], SendBudget],
) -> None:
    budget = make_budget(10)  # a reserve of one slot

    bulk = [await budget.take(BULK, ticket()) for _ in range(10)]

    assert bulk[:9] == [0.0] * 9
    assert bulk[9] > 0
    assert await budget.take(REPLY, ticket()) == 0.0


async def test_a_waiting_reply_stops_bulk_until_it_is_sent(
    make_budget: Callable[[float], SendBudget],
) -> None:
    budget = make_budget(10)
    for _ in range(5):
        assert await budget.take(BULK, ticket()) == 0.0
    for _ in range(5):
        assert await budget.take(REPLY, ticket()) == 0.0
    waiting = ticket()
    assert await budget.take(REPLY, waiting) > 0

    # Five replies in the last second and one waiting: bulk may not take the next free slot.
    assert await budget.take(BULK, ticket()) > 0


def send(budget: LocalBudget, priority: Priority, name: str | None = None) -> float:
    """Ask for a slot; a message given one is answered at once."""
    name = name or ticket()
    wait = budget.take_now(priority, name)
    if wait == 0:
        budget.sent_now(name)
    return wait


def test_bulk_gets_the_slot_the_window_frees_only_after_the_waiting_reply() -> None:
    clock = Clock()
    budget = LocalBudget(10, clock=clock)
    for _ in range(9):
        assert send(budget, BULK) == 0.0
    assert send(budget, REPLY) == 0.0
    waiting = ticket()
    assert send(budget, REPLY, waiting) == pytest.approx(1.0)

    clock.now += 1.0  # the whole window has gone by: ten free slots
    assert send(budget, REPLY, waiting) == 0.0
    # One reply in the window: bulk keeps one slot free for the next.
    assert [send(budget, BULK) for _ in range(9)].count(0.0) == 8


def test_bulk_waits_while_replies_want_every_slot() -> None:
    clock = Clock()
    budget = LocalBudget(5, clock=clock)
    for _ in range(5):
        assert send(budget, REPLY) == 0.0
    clock.now += 0.25
    for _ in range(3):
        send(budget, REPLY)

    assert send(budget, BULK) == pytest.approx(0.75)
    clock.now += 0.75
    # The first five replies left the window; three still want a slot: bulk takes the other two.
    assert [send(budget, BULK) for _ in range(3)][1:] == [0.0, pytest.approx(0.25)]


def test_a_send_on_its_way_holds_its_slot_until_a_window_after_its_answer() -> None:
    clock = Clock()
    budget = LocalBudget(1, clock=clock)
    slow = ticket()
    assert budget.take_now(REPLY, slow) == 0.0

    clock.now += 5.0  # no answer yet: Telegram may count it any moment
    assert 0 < budget.take_now(REPLY, ticket()) <= 1.0
    budget.sent_now(slow)
    clock.now += 0.5
    assert budget.take_now(REPLY, ticket()) == pytest.approx(0.5)
    clock.now += 0.5
    assert send(budget, REPLY) == 0.0


@pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
async def test_processes_share_one_window_through_redis() -> None:
    assert REDIS_URL is not None
    key = f"lt:test:sends:{uuid.uuid4().hex}"
    one, other = (RedisBudget(REDIS_URL, 10, key=key) for _ in range(2))
    try:
        for _ in range(5):
            assert await one.take(REPLY, ticket()) == 0.0
            assert await other.take(REPLY, ticket()) == 0.0
        assert await one.take(REPLY, ticket()) > 0
        assert await other.take(BULK, ticket()) > 0
    finally:
        await one.redis.delete(*one.keys)
        await one.close()
        await other.close()


@pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
async def test_without_redis_the_process_keeps_its_own_window_and_shares_again_when_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert REDIS_URL is not None
    clock = Clock()
    budget = RedisBudget(
        REDIS_URL, 10, key=f"lt:test:sends:{uuid.uuid4().hex}", retry_seconds=5, clock=clock
    )
    pool = budget.redis.connection_pool
    port = pool.connection_kwargs["port"]
    try:
        assert await budget.take(REPLY, ticket()) == 0.0
        assert budget.shared

        await pool.disconnect()
        pool.reset()  # type: ignore[no-untyped-call]
        pool.connection_kwargs["port"] = 1  # Redis is gone
        with caplog.at_level(logging.INFO, logger="learntogether.sendbudget"):
            own = [await budget.take(REPLY, ticket()) for _ in range(11)]
            assert not budget.shared
            assert own[:10] == [0.0] * 10  # the process's own window, at the same rate
            assert own[10] > 0

            pool.reset()
            pool.connection_kwargs["port"] = port  # Redis is back
            clock.now += 5
            assert await budget.take(REPLY, ticket()) == 0.0
            assert budget.shared
        messages = [record.getMessage() for record in caplog.records]
        assert sum("cannot reach Redis" in message for message in messages) == 1
        assert any("shared through Redis again" in message for message in messages)
        assert await budget.redis.zcard(budget.keys[0]) == 2
    finally:
        await budget.redis.delete(*budget.keys)
        await budget.close()
