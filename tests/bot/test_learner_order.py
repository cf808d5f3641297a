"""One learner's updates are handled one after the other even when two webhook workers take them.

Each worker is a dispatcher of its own, as in two ``api --workers`` processes: its in-process
lock knows nothing of the other's. Two presses of one learner go to the two workers at once; the
first worker's answer to Telegram is held back half a second, and the second press must not start
before the first was handled.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiogram import Bot
from aiogram.types import Update, User
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import OneUpdatePerUser
from learntogether.config import BotMode, Settings
from learntogether.runtime import EmbeddedServer, bind_socket, build_app, build_bot_parts
from tests.conftest import TestDatabase
from tests.factories import create_learner, import_sample_curriculum
from tests.standin import BotAPIStandIn

REDIS_URL = os.environ.get("LT_TEST_REDIS_URL")
SECRET = "order-secret"
LEARNER = 5951
HELD_BACK = 0.5


async def _serve(
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    sock: Any,
    stack: AsyncExitStack,
) -> None:
    app = build_app(
        settings, session_maker=session_maker, bot_parts=build_bot_parts(settings, session_maker)
    )
    server = EmbeddedServer(uvicorn.Config(app, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.01)

    async def stop() -> None:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)

    stack.push_async_callback(stop)


@pytest.fixture(params=["redis", "database"])
async def two_workers(
    request: pytest.FixtureRequest,
    standin: BotAPIStandIn,
    database: TestDatabase,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[list[str]]:
    """Two webhook workers on free ports sharing Redis, or else PostgreSQL; yields their URLs.

    Telegram is told the first one's URL; the test posts to either.
    """
    if request.param == "redis" and REDIS_URL is None:
        pytest.skip("LT_TEST_REDIS_URL is not set")
    if request.param == "database" and database.backend != "postgresql":
        pytest.skip("SQLite serves one process: nothing to order across processes")
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await create_learner(session_maker, LEARNER)
    sockets = [bind_socket("127.0.0.1", 0) for _ in range(2)]
    urls = [f"http://127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    settings = Settings(
        _env_file=None,
        bot_token=standin.token,
        telegram_api_url=standin.base_url,
        database_url=database.url,
        bot_mode=BotMode.WEBHOOK,
        webhook_url=f"{urls[0]}/hook",
        webhook_secret=SECRET,
        redis_url=REDIS_URL if request.param == "redis" else None,
    )
    async with AsyncExitStack() as stack:
        for sock in sockets:
            await _serve(settings, session_maker, sock, stack)
        yield urls


async def test_two_presses_sent_to_two_workers_at_once_are_handled_one_after_the_other(
    standin: BotAPIStandIn, two_workers: list[str]
) -> None:
    await standin.wait_for_call("setWebhook")
    ana = standin.add_user(LEARNER, first_name="Ana", language_code="en")
    await ana.send("/lessons")
    catalogue = await ana.next_message()
    track = catalogue["reply_markup"]["inline_keyboard"][0][0]["text"]
    presses = [ana.press_update(track, catalogue) for _ in two_workers]
    # Whichever press is answered first, its answer reaches the worker half a second late.
    standin.delay_next("answerCallbackQuery", HELD_BACK)

    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient(headers=headers) as http:
        responses = await asyncio.gather(
            *(
                http.post(f"{url}/hook", json=press)
                for url, press in zip(two_workers, presses, strict=True)
            )
        )
    assert [response.status_code for response in responses] == [200, 200]

    queries = [standin.callback_queries[press["callback_query"]["id"]] for press in presses]
    for _ in range(200):
        if all(query.answered_at is not None for query in queries):
            break
        await asyncio.sleep(0.05)
    first, second = sorted(query.answered_at or 0.0 for query in queries)
    assert first > 0.0
    # The first answer was recorded, then held back: the other press waited for its handling.
    assert second - first >= HELD_BACK


class _Recorder:
    """A handler that notes when each update starts and ends, taking a while in between."""

    def __init__(self) -> None:
        self.log: list[str] = []

    async def __call__(self, event: Any, data: dict[str, Any]) -> None:
        self.log.append(f"start {event.update_id}")
        await asyncio.sleep(0.05)
        self.log.append(f"end {event.update_id}")


async def test_with_redis_unreachable_one_learners_updates_keep_their_order_in_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on port 1: every Redis call fails at once.
    unreachable = Redis.from_url("redis://127.0.0.1:1/0")
    ordered, handler = OneUpdatePerUser(unreachable), _Recorder()
    data = {
        "bot": Bot(token="42:" + "A" * 35),
        "event_from_user": User(id=7, is_bot=False, first_name="A"),
    }
    try:
        with caplog.at_level(logging.WARNING, logger="learntogether.redisfallback"):
            await asyncio.gather(
                *(ordered(handler, Update(update_id=i), dict(data)) for i in (1, 2))
            )
    finally:
        await unreachable.aclose()
    assert handler.log == ["start 1", "end 1", "start 2", "end 2"]
    assert [record.levelname for record in caplog.records] == ["WARNING"]
