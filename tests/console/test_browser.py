"""The console in headless Chromium: signing in by link, each page at desktop and phone width."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import Broadcast, GoalMeasure, TokenRole
from learntogether.delivery import DeliveryWorker
from learntogether.i18n import create_i18n
from learntogether.services import goals
from learntogether.services.actors import Actor
from learntogether.services.goals import GoalFilters, GoalSpec
from tests.api.test_certificates import _certified as certified
from tests.console.conftest import Programme, browser_sign_in, new_link, screenshot
from tests.factories import create_learner
from tests.standin import BotAPIStandIn
from tests.standin.fixtures import bot_for


async def test_sign_in_by_link_then_sign_out(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await page.goto("/")
    assert page.url == f"{live_server}/signin?next=/"
    await screenshot(page, "signin")
    url = await new_link(session_maker, name="Ana Petrova", base_url=live_server)
    await page.goto(url)
    await screenshot(page, "signin-confirm")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{live_server}/")
    assert await page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    assert await page.get_by_text("Ana Petrova").count() == 1
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{live_server}/signin")
    await page.goto("/")
    assert page.url.startswith(f"{live_server}/signin")


async def test_the_language_switch_works_without_javascript(
    browser: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    context = await browser.new_context(
        base_url=live_server, locale="bg-BG", java_script_enabled=False
    )
    page = await context.new_page()
    try:
        await browser_sign_in(page, session_maker, live_server, button="Вход")
        assert await page.get_by_role("heading", level=1).inner_text() == "Табло"
        await page.get_by_label("Език").select_option("es")
        await page.get_by_role("button", name="Смяна").click()
        await page.wait_for_url(f"{live_server}/")
        assert await page.get_by_role("heading", level=1).inner_text() == "Panel"
    finally:
        await context.close()


async def test_an_admin_ends_a_session_from_the_sessions_page(
    page: Any, browser: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(page, session_maker, live_server, name="Ana")
    other = await browser.new_context(base_url=live_server)
    viewer = await other.new_page()
    try:
        await browser_sign_in(viewer, session_maker, live_server, TokenRole.VIEWER, name="Eva")
        await page.get_by_role("link", name="Access").click()
        await page.wait_for_url(f"{live_server}/access/sessions")
        await screenshot(page, "access-sessions")
        await page.get_by_role("button", name="End session Eva").click()
        await page.wait_for_url(f"{live_server}/access/sessions?ended=1")
        assert await page.get_by_role("status").inner_text() == "The session has ended."
        await viewer.reload()
        assert viewer.url.startswith(f"{live_server}/signin")
        await page.get_by_role("link", name="API tokens").click()
        await page.get_by_label("Name").fill("evaluation-export")
        await page.get_by_label("Role").select_option("viewer")
        await page.get_by_role("button", name="Create the token").click()
        await page.wait_for_load_state()
        assert (await page.get_by_role("textbox", name="Token").input_value()).startswith("lt_")
        await screenshot(page, "access-tokens")
        await page.get_by_role("link", name="Audit log").click()
        await page.wait_for_url(f"{live_server}/access/audit")
        assert await page.get_by_role("cell", name="staff:Ana").count() >= 2
        await screenshot(page, "access-audit")
    finally:
        await other.close()


@pytest.mark.usefixtures("programme")
async def test_a_mediator_sets_a_weekly_reminder_with_the_builder(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(
        page, session_maker, live_server, TokenRole.MEDIATOR, name="Rosa", cohorts=["SLV1"]
    )
    await page.get_by_role("link", name="Cohorts").click()
    await page.wait_for_url(f"{live_server}/cohorts")
    await screenshot(page, "cohorts")
    await page.get_by_role("link", name="Sliven teachers").click()
    await page.wait_for_url(f"{live_server}/cohorts/SLV1")
    assert await page.get_by_role("img", name="QR code of the invite link").is_visible()
    # Sent without a day first: the problem shows beside the days, and nothing is lost.
    await page.get_by_label("Time").fill("18:30")
    await page.get_by_label("Text").fill("Нов урок тази седмица")
    await page.get_by_role("button", name="Set the reminder").click()
    await page.wait_for_load_state()
    assert await page.get_by_text("Choose at least one day.").is_visible()
    assert await page.get_by_label("Text").input_value() == "Нов урок тази седмица"
    await screenshot(page, "cohort-reminder-error")
    await page.get_by_label("Monday").check()
    await page.get_by_label("Thursday").check()
    await page.get_by_role("button", name="Set the reminder").click()
    await page.wait_for_url(f"{live_server}/cohorts/SLV1?done=reminder#reminders")
    assert await page.get_by_text("Monday, Thursday · 18:30").is_visible()
    await screenshot(page, "cohort")
    await page.get_by_role("link", name="Nudge the quiet members").click()
    await screenshot(page, "cohort-nudge")
    await page.goto("/cohorts/MAD1")
    assert await page.get_by_role("heading", level=1).inner_text() == "Not available"


@pytest.mark.usefixtures("programme")
async def test_a_broadcast_reaches_the_bot_api_and_each_recipient_shows_its_status(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
) -> None:
    standin.add_user(1001, first_name="Petya", language_code="bg")
    bot = bot_for(standin)
    worker = DeliveryWorker(
        bot, session_maker, i18n=create_i18n(), send_rate=25, batch_size=5, idle_seconds=0.05
    )
    task = asyncio.create_task(worker.run())
    try:
        await browser_sign_in(page, session_maker, live_server, name="Ana")
        await page.get_by_role("link", name="Broadcasts").click()
        await page.get_by_role("link", name="New broadcast").click()
        await page.get_by_label("Sliven teachers").check()
        await page.get_by_label("Български").fill("Утре в 17:00: <b>среща</b> в училището")
        await page.get_by_label("English").fill("Tomorrow at 17:00: <b>meeting</b> at the school")
        await page.get_by_role("button", name="Preview").click()
        await page.wait_for_load_state()
        assert await page.locator(".bubble[lang=bg] b").inner_text() == "среща"
        await screenshot(page, "broadcast-compose")
        await page.get_by_role("button", name="Send", exact=True).click()
        await page.wait_for_url(re.compile(r".*/broadcasts/\d+$"))
        sent = await standin.wait_for_call("sendMessage", timeout=15)
        # Petya reads English: the learner's own language comes first.
        assert sent.params["text"] == "Tomorrow at 17:00: <b>meeting</b> at the school"
        for _ in range(50):
            await page.reload()
            if await page.get_by_role("cell", name="sent", exact=True).count():
                break
            await asyncio.sleep(0.2)
        row = page.get_by_role("row").filter(has_text="Petya")
        assert "sent" in await row.inner_text()
        await screenshot(page, "broadcast")
        await page.get_by_role("link", name="Broadcasts").first.click()
        await screenshot(page, "broadcasts")
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=15)
        await bot.session.close()
        await asyncio.wait_for(task, timeout=15)
        await bot.session.close()


@pytest.mark.usefixtures("programme")
async def test_the_broadcast_preview_follows_the_writing_and_sends_nothing(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(
        page, session_maker, live_server, TokenRole.MEDIATOR, name="Rosa", cohorts=["SLV1"]
    )
    # A script error or a refusal by the page's security policy; a preview with problems (no
    # cohort chosen yet) answers 422, which the browser logs too.
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "status of 422" not in message.text
            else None
        ),
    )
    await page.goto("/broadcasts/new")
    bulgarian = page.get_by_role("textbox", name="Български")
    # No cohort chosen yet and no button pressed: the bubble comes as the writer pauses.
    await bulgarian.press_sequentially("Утре: <b>среща</b>")
    bold = page.locator(".bubble[lang=bg] b")
    await bold.wait_for(timeout=5000)
    assert await bold.inner_text() == "среща"
    await bulgarian.fill("Утре: <b>среща")
    refused = page.get_by_text("Telegram would refuse this text.")
    await refused.wait_for(timeout=5000)
    assert await bold.count() == 0
    assert await bulgarian.input_value() == "Утре: <b>среща"
    await page.get_by_role("textbox", name="English").fill("Tomorrow: <i>meeting</i>")
    await page.locator(".bubble[lang=en] i").wait_for(timeout=5000)
    await bulgarian.fill("")
    await refused.wait_for(state="detached", timeout=5000)
    # Choosing who gets it says who would read it in another language than theirs.
    await create_learner(session_maker, 2001, cohort="SLV1", locale="es")
    await page.locator("input[name=cohorts][value=SLV1]").check()
    await page.get_by_text("1 learner reads Spanish: they would get it in English.").wait_for(
        timeout=5000
    )
    await screenshot(page, "broadcast-live-preview")
    async with session_maker() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0
    assert errors == []


async def test_the_dashboard_shows_goals_and_figures(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
) -> None:
    async with session_maker() as session:
        for name, cohort, target in (
            ("Sliven teachers trained", "SLV1", 3),
            ("Madrid joins", "MAD1", 1),
        ):
            await goals.create_goal(
                session,
                spec=GoalSpec(
                    name=name,
                    measure=GoalMeasure.LEARNERS_JOINED,
                    filters=GoalFilters(cohort=cohort),
                    target=target,
                    deadline=utcnow().date() + timedelta(days=90),
                ),
                actor=Actor.system("test"),
            )
        await session.commit()
    await browser_sign_in(page, session_maker, live_server, name="Ana")
    assert await page.get_by_role("progressbar").count() == 2
    await screenshot(page, "dashboard")


@pytest.mark.usefixtures("programme")
async def test_a_viewer_groups_the_participation_report_and_downloads_it(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(page, session_maker, live_server, TokenRole.VIEWER, name="Eva")
    await page.get_by_role("link", name="Reports").click()
    await page.get_by_label("Group by").select_option("cohort")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r".*group_by=cohort.*"))
    assert await page.get_by_role("cell", name="MAD1").count() == 1
    await screenshot(page, "reports-participation")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download as CSV").click()
    download = await download_info.value
    content = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8")
    assert content.splitlines()[0].startswith("cohort,joined,active")
    assert "SLV1" in content


@pytest.mark.usefixtures("programme")
async def test_a_mediator_searches_their_learners(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(
        page, session_maker, live_server, TokenRole.MEDIATOR, name="Rosa", cohorts=["SLV1"]
    )
    await page.get_by_role("link", name="Learners").click()
    await page.get_by_label("Name, username or municipality").fill("pet")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_url(re.compile(r".*/learners\?q=pet.*"))
    await screenshot(page, "learners")
    await page.get_by_role("link", name="Petya").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "Petya"
    await screenshot(page, "learner")


async def test_a_certificates_printed_link_opens_a_styled_page_in_the_readers_language(
    browser: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    code, _ = await certified(session_maker, tmp_path)
    context = await browser.new_context(base_url=live_server, locale="ro-RO")
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    try:
        await page.goto(f"/api/v1/certificates/{code}")
        assert (
            await page.get_by_role("heading", level=1).inner_text() == "Verificarea certificatului"
        )
        assert await page.get_by_text("Acest certificat este autentic.").count() == 1
        # The console's stylesheet applies (the page's CSP lets it in, and nothing else).
        margin = await page.evaluate("getComputedStyle(document.body).margin")
        assert margin != "8px"
        assert not [text for text in refused if "Content Security Policy" in text]
        await screenshot(page, "certificate-check")
    finally:
        await context.close()
