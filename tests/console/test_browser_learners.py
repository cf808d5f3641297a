"""Learners in headless Chromium: reflections read by an admin and by their cohort's mediator."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole
from tests.console.conftest import VIEWPORTS, Programme, browser_sign_in, screenshot
from tests.report_builders import reflect

pytestmark = pytest.mark.usefixtures("programme")

INJECTION = '<img src=x onerror="document.title=1">I will seat <b>everyone</b> together.'


async def test_an_admin_reads_a_learners_reflections(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
) -> None:
    await reflect(session_maker, programme.sliven_learner, INJECTION)
    await reflect(session_maker, programme.madrid_learner, "Hablaré con las familias.")
    await browser_sign_in(page, session_maker, live_server)
    await page.goto("/learners")
    await page.get_by_role("link", name="Reflections learners wrote").click()
    await page.wait_for_url(f"{live_server}/learners/reflections")
    assert await page.get_by_role("heading", level=2).first.inner_text() == "2 reflections"
    await screenshot(page, "learners-reflections")
    await page.get_by_role("link", name="Petya").click()
    await page.wait_for_url(f"{live_server}/learners/{programme.sliven_learner}")
    quote = page.locator("#reflections blockquote")
    assert await quote.inner_text() == INJECTION  # the learner's markup shown as text
    assert await page.locator("#reflections img").count() == 0
    assert await page.title() != "1"
    await screenshot(page, "learner-reflections")


async def test_the_header_stays_short_on_a_phone(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(page, session_maker, live_server)
    width, height = VIEWPORTS["phone"]
    await page.set_viewport_size({"width": width, "height": height})
    header = await page.locator("header.top").bounding_box()
    # Three short rows: brand, language and sign-out; then the seven pages in two.
    assert header["height"] < 120, header
    assert await page.get_by_role("link", name="Access").is_visible()
    assert await page.get_by_label("Language").is_visible()


async def test_a_mediator_reads_their_cohorts_reflections_only(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
) -> None:
    await reflect(session_maker, programme.sliven_learner, "Pair the pupils.")
    await reflect(session_maker, programme.madrid_learner, "Hablaré con las familias.")
    await browser_sign_in(
        page, session_maker, live_server, TokenRole.MEDIATOR, name="Rosa", cohorts=["SLV1"]
    )
    await page.goto("/learners/reflections")
    assert await page.locator("blockquote").all_inner_texts() == ["Pair the pupils."]
    await screenshot(page, "learners-reflections-mediator")
    await page.goto(f"/learners/{programme.madrid_learner}")
    assert await page.get_by_role("heading", level=1).inner_text() != "Lucía"
    assert "Hablaré" not in await page.content()


async def test_an_admin_reads_a_learners_activity_on_their_own_clock(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
) -> None:
    await reflect(session_maker, programme.sliven_learner, "Pair the pupils.")
    await browser_sign_in(page, session_maker, live_server)
    await page.goto(f"/learners/{programme.sliven_learner}")
    activity = page.locator("#activity tbody tr")
    assert await activity.count() > 5
    assert "UTC" in await activity.first.inner_text()
    await page.get_by_label("Times in").select_option("Europe/Sofia")
    await page.locator("#activity").get_by_role("button", name="Show").click()
    await page.wait_for_url(f"**/learners/{programme.sliven_learner}?tz=Europe%2FSofia#activity")
    assert "Europe/Sofia" in await activity.first.inner_text()
    assert await page.locator("#lessons").get_by_text("Every kind").is_visible()
    assert "passed" in await page.locator("#quizzes tbody").inner_text()
    await screenshot(page, "learner-activity")
    # On a phone the tables scroll in their own box; the page itself does not widen.
    width, height = VIEWPORTS["phone"]
    await page.set_viewport_size({"width": width, "height": height})
    page_width = await page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, page_width
    assert await page.locator("#activity tbody tr").first.is_visible()


async def test_a_bulgarian_reader_sees_a_learners_role_and_language_in_words(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
) -> None:
    await browser_sign_in(page, session_maker, live_server)
    await page.context.add_cookies([{"name": "lt_lang", "value": "bg", "url": live_server}])
    await page.goto(f"/learners/{programme.madrid_learner}")
    profile = page.locator("dl.card")
    assert await profile.locator("dt:has-text('Роля') + dd").inner_text() == "Учител"
    assert await profile.locator("dt:has-text('Език') + dd").inner_text() == "испански"
    await screenshot(page, "learner-profile-bg")
