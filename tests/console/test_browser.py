"""The console in headless Chromium: signing in by link, each page at desktop and phone width."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole
from tests.console.conftest import browser_sign_in, new_link, screenshot


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
    await screenshot(page, "dashboard")
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
    finally:
        await other.close()
