"""Webhook mode: the stand-in posts updates to the API over HTTP; the secret header is required."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import BotMode, Settings
from learntogether.runtime import EmbeddedServer, bind_socket, build_app, build_bot_parts
from tests.conftest import TestDatabase
from tests.standin import BotAPIStandIn

SECRET = "webhook-secret_123"


@pytest.fixture
async def webhook_api(
    standin: BotAPIStandIn, database: TestDatabase, session_maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    """The API serving the webhook on a free port; yields its base URL."""
    sock = bind_socket("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        _env_file=None,
        bot_token=standin.token,
        telegram_api_url=standin.base_url,
        database_url=database.url,
        bot_mode=BotMode.WEBHOOK,
        webhook_url=f"{base}/hook",
        webhook_secret=SECRET,
    )
    app = build_app(
        settings, session_maker=session_maker, bot_parts=build_bot_parts(settings, session_maker)
    )
    server = EmbeddedServer(uvicorn.Config(app, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.01)
    yield base
    server.should_exit = True
    await asyncio.wait_for(task, timeout=10)


async def test_startup_registers_the_webhook_with_its_secret(
    standin: BotAPIStandIn, webhook_api: str
) -> None:
    call = await standin.wait_for_call("setWebhook")
    assert call.params["url"] == f"{webhook_api}/hook"
    assert call.params["secret_token"] == SECRET


async def test_update_through_the_webhook_is_answered(
    standin: BotAPIStandIn, webhook_api: str
) -> None:
    await standin.wait_for_call("setWebhook")
    nina = standin.add_user(2001, first_name="Nina", language_code="nl")
    await nina.send("/start")
    reply = await nina.next_message()
    assert reply["text"].startswith("Hallo, Nina! Welkom bij Samen Leren")


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_update_without_the_right_secret_is_refused(
    standin: BotAPIStandIn, webhook_api: str, headers: dict[str, str]
) -> None:
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 2002, "type": "private"},
            "from": {"id": 2002, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
        },
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{webhook_api}/hook", json=update, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    await asyncio.sleep(0.2)
    assert standin.calls_of("sendMessage") == []


def _start_from(user_id: int, update_id: int) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Rui", "language_code": "en"},
            "text": "/start",
        },
    }


async def test_an_update_delivered_twice_is_answered_once(
    standin: BotAPIStandIn, webhook_api: str
) -> None:
    await standin.wait_for_call("setWebhook")
    rui = standin.add_user(2004, first_name="Rui", language_code="en")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient() as http:
        for _ in range(2):
            response = await http.post(
                f"{webhook_api}/hook", json=_start_from(2004, 7001), headers=headers
            )
            assert response.status_code == 200
    await rui.next_message()
    await asyncio.sleep(0.5)
    assert len(rui.messages) == 1


@pytest.mark.parametrize("body", [{}, {"update_id": "x"}, {"message": {}}])
async def test_a_body_that_is_no_update_is_a_400_not_a_crash(
    standin: BotAPIStandIn, webhook_api: str, body: dict[str, object]
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{webhook_api}/hook", json=body, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
