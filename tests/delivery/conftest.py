"""A delivery worker sending to the Bot API stand-in over HTTP, and learners to send to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Broadcast, Cohort, Delivery, User
from learntogether.delivery import DeliveryWorker, RetryPolicy, SendLimiter
from learntogether.i18n import create_i18n
from learntogether.services import broadcasts
from learntogether.services.actors import Actor
from learntogether.services.broadcasts import (
    BroadcastInfo,
    DeliveryCounts,
    delivery_counts,
)
from tests.factories import create_cohort, create_learner
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


async def counts_of(
    session_maker: async_sessionmaker[AsyncSession], broadcast: BroadcastInfo | int
) -> DeliveryCounts:
    broadcast_id = broadcast if isinstance(broadcast, int) else broadcast.id
    async with session_maker() as session:
        return (await delivery_counts(session, [broadcast_id]))[broadcast_id]


async def broadcast_row(
    session_maker: async_sessionmaker[AsyncSession], broadcast: BroadcastInfo
) -> Broadcast:
    async with session_maker() as session:
        row = await session.get(Broadcast, broadcast.id)
        assert row is not None
        return row


async def delivery_of(
    session_maker: async_sessionmaker[AsyncSession], broadcast: BroadcastInfo, telegram_id: int
) -> Delivery:
    async with session_maker() as session:
        row = await session.scalar(
            select(Delivery)
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.broadcast_id == broadcast.id, User.telegram_id == telegram_id)
        )
        assert row is not None, f"no delivery to {telegram_id}"
        return row


async def add_learners(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    telegram_ids: list[int],
    *,
    cohort: str | None = None,
    locale: str = "en",
) -> list[User]:
    """Learners who agreed to the notice (in ``cohort``), each with a chat in the stand-in."""
    learners = []
    for telegram_id in telegram_ids:
        standin.add_user(telegram_id, language_code=locale)
        learners.append(
            await create_learner(session_maker, telegram_id, locale=locale, cohort=cohort)
        )
    return learners


async def committed_cohort(
    session_maker: async_sessionmaker[AsyncSession], code: str = "SLV1"
) -> Cohort:
    async with session_maker() as session:
        cohort = await create_cohort(session, code=code, name=f"Cohort {code}")
        await session.commit()
    return cohort


ADMIN = Actor.system("token:test")


async def committed_broadcast(
    session_maker: async_sessionmaker[AsyncSession],
    text: str | dict[str, str] = "Workshop on <b>Friday</b>",
    **options: Any,
) -> BroadcastInfo:
    """A broadcast (to cohort SLV1 unless ``options`` say otherwise), committed for a worker."""
    async with session_maker() as session:
        info = await broadcasts.create_broadcast(
            session, actor=ADMIN, text=text, **{"cohort": "SLV1", **options}
        )
        await session.commit()
    return info


def texts_to(standin: BotAPIStandIn, telegram_id: int) -> list[str]:
    """The texts the bot sent to one user, in order."""
    return [message.get("text", "") for message in standin.users[telegram_id].messages]
