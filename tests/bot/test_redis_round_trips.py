"""What an update costs in Redis when webhook workers share it, and that it is read in order.

Every update makes its round trips to Redis before the handler runs: is it new, may it run now
(the learner's earlier updates done in any worker), and the conversation's state and data. Each
round trip is a wait on the network for every press of every learner, so they are counted here.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.fsm.context import FSMContext
from aiogram.types import Chat, Message, Update, User
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import create_dispatcher
from bot.filters import Matches
from learntogether.config import BotMode, Settings
from learntogether.i18n import create_i18n
from tests.factories import create_learner
from tests.standin import BotAPIStandIn
from tests.standin.fixtures import bot_for

REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="LT_TEST_REDIS_URL is not set")
LEARNER = 5961
WAITING = "test:waiting"


def _update(text: str) -> Update:
    """A message from the learner; ids at random, as updates are remembered for a day."""
    person = User(id=LEARNER, is_bot=False, first_name="Ana")
    return Update(
        update_id=random.randrange(10**9),
        message=Message(
            message_id=random.randrange(10**6),
            date=datetime.now(UTC),
            chat=Chat(id=LEARNER, type="private"),
            from_user=person,
            text=text,
        ),
    )


@pytest.fixture
async def bot(standin: BotAPIStandIn) -> AsyncIterator[Bot]:
    bot = bot_for(standin)
    yield bot
    await bot.session.close()


@pytest.fixture
async def workers(
    bot_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Callable[[int], list[Dispatcher]]]:
    """``workers(n)``: n webhook workers' dispatchers sharing Redis (each its own storage)."""
    assert REDIS_URL is not None
    await create_learner(session_maker, LEARNER)
    webhook = {"bot_mode": BotMode.WEBHOOK, "webhook_url": "http://127.0.0.1:1/hook"}
    settings = bot_settings.model_copy(
        update={**webhook, "webhook_secret": SecretStr("round-trips"), "redis_url": REDIS_URL}
    )
    made: list[Dispatcher] = []

    def make(count: int) -> list[Dispatcher]:
        for _ in range(count):
            made.append(
                create_dispatcher(settings, session_maker=session_maker, i18n=create_i18n())
            )
        return made[-count:]

    yield make
    redis = Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(f"fsm:*{LEARNER}:{LEARNER}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    for dispatcher in made:
        await dispatcher.storage.close()


def _counting(redis: Redis, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commands ``redis`` sends from now on, one round trip each."""
    sent: list[str] = []
    send = redis.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await send(*args, **options)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(redis, "execute_command", counted)
    return sent


async def test_an_update_costs_four_round_trips_to_redis(
    workers: Callable[[int], list[Dispatcher]], bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    (worker,) = workers(1)
    handled: list[str | None] = []

    async def note(_message: Message, raw_state: str | None) -> None:
        handled.append(raw_state)

    worker.message.register(note, Matches(F.text == "hello"))
    # Redis keeps the lock's script from its first use until it restarts: a first update on a
    # fresh server loads it (SCRIPT LOAD, once a server). The one after is every update's cost.
    await worker.feed_update(bot, _update("hello"))
    sent = _counting(worker.storage.redis, monkeypatch)  # type: ignore[attr-defined]
    await worker.feed_update(bot, _update("hello"))
    assert handled == [None, None]
    # New? (SET NX) May it run? (the learner's lock: SET NX) Its state and data (MGET, once).
    # Done: the lock given back (EVALSHA).
    assert sent == ["SET", "SET", "MGET", "EVALSHA"]


async def test_the_data_read_with_the_state_is_what_the_handler_sees(
    workers: Callable[[int], list[Dispatcher]], bot: Bot
) -> None:
    (worker,) = workers(1)
    seen: list[dict[str, Any]] = []

    async def remember(_message: Message, state: FSMContext) -> None:
        await state.update_data({"said": "first"})

    async def recall(_message: Message, state: FSMContext) -> None:
        seen.append(await state.get_data())

    worker.message.register(remember, Matches(F.text == "first"))
    worker.message.register(recall, Matches(F.text == "second"))
    for text in ("first", "second"):
        await worker.feed_update(bot, _update(text))
    assert seen == [{"said": "first"}]


async def test_an_update_in_one_worker_reads_the_state_the_other_worker_left_for_the_learner(
    workers: Callable[[int], list[Dispatcher]], bot: Bot
) -> None:
    """The state is read once the learner's update in the other worker is done, not before."""
    first_worker, second_worker = workers(2)
    seen: list[str | None] = []

    async def slowly_set(_message: Message, state: FSMContext) -> None:
        await asyncio.sleep(0.3)
        await state.set_state(WAITING)

    async def note(_message: Message, raw_state: str | None) -> None:
        seen.append(raw_state)

    for worker in (first_worker, second_worker):
        worker.message.register(slowly_set, Matches(F.text == "first"))
        worker.message.register(note, Matches(F.text == "second"))

    async def a_moment_later(feed: Awaitable[Any]) -> None:
        await asyncio.sleep(0.1)
        await feed

    await asyncio.gather(
        first_worker.feed_update(bot, _update("first")),
        a_moment_later(second_worker.feed_update(bot, _update("second"))),
    )
    assert seen == [WAITING]
