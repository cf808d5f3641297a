"""The console over HTTP (httpx, fast) and in a real browser (Playwright driving Debian's chromium).

Browser tests run the app with uvicorn on a free port in the test's event loop, and write
screenshots of each page at desktop and phone width to ``LT_TEST_SCREENSHOTS`` (default: a
folder in the system's temporary directory), which ``.ci/run`` prints.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.models import Role, TokenRole
from learntogether.runtime import build_app
from learntogether.services import console_sessions, learners
from learntogether.services.actors import Actor
from tests.conftest import TestDatabase
from tests.content.samples import lesson, survey
from tests.factories import create_cohort, create_learner
from tests.report_builders import import_track, take_quiz

BOT_USERNAME = "lt_test_bot"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(
    os.environ.get("LT_TEST_SCREENSHOTS") or Path(tempfile.gettempdir()) / "lt-console-screenshots"
)
VIEWPORTS = {"desktop": (1280, 860), "phone": (390, 844)}
SURVEY_ITEMS = ["mixed", "fair"]


@pytest.fixture
def console_settings() -> Settings:
    return Settings(_env_file=None, bot_username=BOT_USERNAME)


@pytest.fixture
def console_app(
    console_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> FastAPI:
    return build_app(console_settings, session_maker=session_maker, bot_parts=None)


@pytest.fixture
async def client(console_app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=console_app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def other_client(console_app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A second browser, for a second staff member."""
    transport = ASGITransport(app=console_app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def new_link(
    session_maker: async_sessionmaker[AsyncSession],
    role: TokenRole = TokenRole.ADMIN,
    *,
    name: str = "Ana",
    cohorts: list[str] | None = None,
    base_url: str = "http://testserver",
) -> str:
    async with session_maker() as session:
        link = await console_sessions.create_link(
            session,
            base_url=base_url,
            name=name,
            role=role,
            cohort_codes=cohorts,
            actor=Actor.system("test"),
        )
        await session.commit()
    return link.url


async def sign_in(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    role: TokenRole = TokenRole.ADMIN,
    *,
    name: str = "Ana",
    cohorts: list[str] | None = None,
) -> str:
    """Sign ``client`` in through a new link; returns the session's CSRF token."""
    url = await new_link(session_maker, role, name=name, cohorts=cohorts)
    path = url.removeprefix("http://testserver")
    assert (await client.get(path)).status_code == 200
    answer = await client.post(path)
    assert answer.status_code == 303, answer.text
    return console_sessions.csrf_token(answer.cookies["lt_console"])


@dataclass
class Programme:
    """Two cohorts in two countries, a learner in each."""

    sliven: str = "SLV1"
    madrid: str = "MAD1"
    sliven_learner: int = 0
    madrid_learner: int = 0


@pytest.fixture
async def programme(session_maker: async_sessionmaker[AsyncSession]) -> Programme:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1", name="Sliven teachers")
        madrid = await create_cohort(session, code="MAD1", name="Madrid mediators")
        madrid.country, madrid.region, madrid.municipality, madrid.locale = (
            "ES",
            "Madrid",
            "Madrid",
            "es",
        )
        await session.commit()
    sliven_learner = await create_learner(session_maker, 1001, cohort="SLV1", first_name="Petya")
    madrid_learner = await create_learner(
        session_maker, 1002, cohort="MAD1", first_name="Lucía", locale="es"
    )
    return Programme(sliven_learner=sliven_learner.id, madrid_learner=madrid_learner.id)


@pytest.fixture
async def taught(session_maker: async_sessionmaker[AsyncSession], programme: Programme) -> None:
    """Track "demo": a pre-survey, the sample lesson, a post-survey. Six SLV1 teachers and five
    MAD1 ones answered the surveys (their points rise by one) and the lesson's quiz (SLV1
    right, MAD1 wrong)."""
    async with session_maker() as session:
        await import_track(
            session,
            [
                ("before", survey("pre", SURVEY_ITEMS)),
                ("middle", lesson()),
                ("after", survey("post", SURVEY_ITEMS)),
            ],
        )
        for number in range(11):
            code = "SLV1" if number < 6 else "MAD1"
            learner = await learners.register(
                session,
                telegram_id=7000 + number,
                first_name="L",
                locale="bg",
                role=Role.TEACHER,
                cohort_code=code,
            )
            await take_quiz(session, learner, "before", [[2], [3]])
            right = [[0], [0]] if code == "SLV1" else [[1], [1]]
            await take_quiz(session, learner, "middle", right)
            await take_quiz(session, learner, "after", [[3], [4]])
        await session.commit()


# Browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if CHROMIUM is None:
        pytest.skip(
            "no chromium on this machine: `apt-get install -y chromium` (as .ci/run does) "
            "to run the console's browser tests"
        )
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # Debian's chromium; Playwright's own browser builds are never downloaded.
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def live_server(console_app: FastAPI, database: TestDatabase) -> AsyncIterator[str]:
    """The app on a free port of 127.0.0.1, in this event loop; its base URL."""
    if database.backend != "sqlite":
        pytest.skip("browser tests run once, on SQLite; the pages' services run on both")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(console_app, log_config=None, lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def page(browser: Any, live_server: str) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=live_server,
        locale="en-GB",
        viewport=dict(zip(("width", "height"), VIEWPORTS["desktop"], strict=True)),
    )
    tab = await context.new_page()
    try:
        yield tab
    finally:
        await context.close()


async def screenshot(page: Any, name: str) -> None:
    """The page as it is now, at desktop and at phone width."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    for label, (width, height) in VIEWPORTS.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    width, height = VIEWPORTS["desktop"]
    await page.set_viewport_size({"width": width, "height": height})


async def browser_sign_in(
    page: Any,
    session_maker: async_sessionmaker[AsyncSession],
    base_url: str,
    role: TokenRole = TokenRole.ADMIN,
    *,
    name: str = "Ana",
    cohorts: list[str] | None = None,
    button: str = "Sign in",
) -> None:
    url = await new_link(session_maker, role, name=name, cohorts=cohorts, base_url=base_url)
    await page.goto(url)
    await page.get_by_role("button", name=button).click()
    await page.wait_for_url(f"{base_url}/")
