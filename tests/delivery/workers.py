"""Delivery workers on the Bot API stand-in, for every test that needs messages sent: built with
quick settings, run in the background, and stopped and waited for after the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.delivery import DeliveryWorker, RetryPolicy, SendLimiter
from learntogether.i18n import create_i18n
from tests.standin import BotAPIStandIn
from tests.standin.fixtures import bot_for

WorkerFactory = Callable[..., DeliveryWorker]
# Small batches, quick flushes and retries: the tests wait for outcomes, never for the clock.
# A chat may take a burst of three (the stand-in allows it), so retries to one chat need not
# wait a second each; test_limiter checks the one-second spacing itself.
FAST = {
    "send_rate": 25,
    "per_chat_interval": 0.25,
    "batch_size": 5,
    "idle_seconds": 0.05,
    "flush_seconds": 0.05,
    "retry": RetryPolicy(max_attempts=3, base=timedelta(milliseconds=50)),
}


@pytest.fixture
async def make_worker(
    standin: BotAPIStandIn, session_maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[WorkerFactory]:
    """Build workers on the stand-in (``FAST`` unless overridden); all are stopped after the test."""
    bot = bot_for(standin)
    i18n = create_i18n()
    built: list[DeliveryWorker] = []

    def make(**options: Any) -> DeliveryWorker:
        chosen = {**FAST, **options}
        limiter = SendLimiter(
            chosen.pop("send_rate"), per_chat_interval=chosen.pop("per_chat_interval")
        )
        worker = DeliveryWorker(
            bot, session_maker, i18n=i18n, send_rate=limiter.rate, limiter=limiter, **chosen
        )
        built.append(worker)
        return worker

    yield make
    for worker in built:
        worker.stop()
    await bot.session.close()


@pytest.fixture
async def start_worker(make_worker: WorkerFactory) -> AsyncIterator[WorkerFactory]:
    """Run a worker in the background for the test (stopped, and waited for, after it)."""
    running: list[tuple[DeliveryWorker, asyncio.Task[None]]] = []

    def start(**options: Any) -> DeliveryWorker:
        worker = make_worker(**options)
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield start
    for worker, _task in running:
        worker.stop()
    await asyncio.wait_for(asyncio.gather(*(task for _worker, task in running)), timeout=15)
