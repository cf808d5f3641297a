"""Every message the bot sends shares one budget: a crowd is answered in turn, never refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import BroadcastStatus
from learntogether.runtime import BotParts
from tests.delivery.conftest import (
    add_learners,
    broadcast_row,
    committed_broadcast,
    committed_cohort,
)
from tests.delivery.workers import WorkerFactory
from tests.factories import eventually
from tests.standin import BotAPIStandIn

CROWD = range(8000, 8100)


async def test_sixty_learners_sending_start_in_one_second_are_all_answered(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    learners = [
        standin.add_user(7000 + n, first_name=f"L{n}", language_code="en") for n in range(60)
    ]

    await asyncio.gather(*(learner.send("/start") for learner in learners))
    greetings = await asyncio.gather(*(learner.next_message(timeout=15) for learner in learners))

    assert all(g["text"].startswith("Hello, L") for g in greetings)
    assert standin.rate_limit_violations == 0


async def test_replies_go_first_while_a_broadcast_takes_what_is_left(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker, "SLV1")
    await add_learners(session_maker, standin, list(CROWD), cohort="SLV1", locale="en")
    info = await committed_broadcast(session_maker, {"en": "Workshop on Friday"})
    start_worker(budget=polling_bot.budget, batch_size=25)
    await eventually(_sent(standin, at_least=25), within=10)
    newcomers = [
        standin.add_user(9000 + n, first_name=f"N{n}", language_code="en") for n in range(40)
    ]

    before = await _sent(standin)()
    await asyncio.gather(*(newcomer.send("/start") for newcomer in newcomers))
    await asyncio.gather(*(newcomer.next_message(timeout=15) for newcomer in newcomers))
    during = await _sent(standin)() - before

    async def done() -> bool:
        return (await broadcast_row(session_maker, info)).status is BroadcastStatus.DONE

    await eventually(done, within=20)
    assert await _sent(standin)() == 100
    assert standin.rate_limit_violations == 0
    # Sharing the slots evenly, the broadcast would have sent about as many as the 40 greetings;
    # it sends only while no greeting waits (while the handlers are busy with the database).
    assert during < len(newcomers) // 2, during


def _sent(standin: BotAPIStandIn, at_least: int = 0) -> Callable[[], Awaitable[int]]:
    """How many of the crowd got the broadcast, once at least ``at_least`` did (else 0)."""

    async def count() -> int:
        sent = sum(len(standin.sent_times.get(chat, [])) for chat in CROWD)
        return sent if sent >= at_least else 0

    return count
