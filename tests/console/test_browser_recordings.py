"""Recordings in headless Chromium: an admin hears a mediator's recording and approves it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import browser_sign_in, screenshot
from tests.console.test_recordings import pending_recording


async def test_an_admin_hears_a_recording_and_approves_it_with_a_comment(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await pending_recording(session_maker)
    await browser_sign_in(page, session_maker, live_server)
    await page.goto("/curriculum")
    await page.get_by_role("link", name="Recordings to review").click()
    await page.wait_for_url(f"{live_server}/curriculum/recordings")
    audio = page.locator("audio")
    assert await audio.count() == 1
    # The browser can fetch what the element plays (the page's own session, no script).
    source = await audio.get_attribute("src")
    fetched = await page.request.get(f"{live_server}{source}")
    assert (fetched.status, fetched.headers["content-type"]) == (200, "audio/ogg")
    await screenshot(page, "curriculum-recordings")
    await page.get_by_label("Comment for the recorder (optional)").fill("Clear and warm.")
    await page.get_by_role("button", name="Approve and publish").click()
    await page.wait_for_url(f"{live_server}/curriculum/recordings?done=approve")
    assert await page.get_by_text("No recording is waiting for review.").is_visible()
