"""Recordings in headless Chromium: an admin hears a mediator's recording and approves it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.content.schema import LessonDocument
from learntogether.services import lessons
from tests.console.conftest import browser_sign_in, screenshot
from tests.console.test_recordings import pending_recording
from tests.content.samples import every_kind_lesson
from tests.services.test_recordings import ADMIN


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


async def test_a_bulgarian_reader_sees_the_lessons_title_and_a_refusal_in_bulgarian(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    title = {"en": "Every kind", "bg": "Всякакви"}
    await pending_recording(session_maker, title=title)
    async with session_maker() as session:
        draft = {**every_kind_lesson(), "slug": "kinds", "track": "demo", "minutes": 9}
        draft |= {"title": title, "partial": ["bg"]}
        await lessons.save_draft(
            session, document=LessonDocument.model_validate(draft), actor=ADMIN
        )
        await session.commit()
    await browser_sign_in(page, session_maker, live_server)
    await page.context.add_cookies([{"name": "lt_lang", "value": "bg", "url": live_server}])
    await page.goto("/curriculum/recordings")
    heading = await page.get_by_role("heading", level=2).first.inner_text()
    assert heading.startswith("Всякакви, стъпка 2 · български")
    await page.get_by_role("button", name="Одобряване и публикуване").click()
    refusal = await page.get_by_role("alert").inner_text()
    assert refusal.startswith("Урокът „kinds“ има непубликувана чернова (версия 2)")
    await screenshot(page, "curriculum-recordings-refused-bg")
