"""Places in headless Chromium: an admin merges two spellings of Sliven after confirming."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import User
from tests.console.conftest import browser_sign_in, screenshot
from tests.report_builders import add_cohort, add_learner


async def test_an_admin_merges_two_spellings_after_confirming(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
        await add_learner(session, cohort=sliven)
        stray = await add_learner(session)
        stray.municipality = "Slivn"
        await session.commit()
    await browser_sign_in(page, session_maker, live_server)
    await page.get_by_role("link", name="Learners").click()
    await page.get_by_role("link", name="Places: spellings and merging").click()
    await page.wait_for_url(f"{live_server}/learners/places")
    await page.get_by_label("Replace").select_option("Slivn")
    await page.get_by_label("Keep").fill("Sliven")
    await page.get_by_role("button", name="Check the merge").click()
    await page.get_by_role("heading", name="Merge Slivn into Sliven?").wait_for()
    await screenshot(page, "places-confirm")
    async with session_maker() as session:
        assert await session.scalar(select(User.municipality).where(User.id == stray.id)) == "Slivn"
    await page.get_by_role("button", name="Merge", exact=True).click()
    await page.wait_for_url(f"{live_server}/learners/places?merged=1")
    assert await page.get_by_role("status").inner_text() == "The spellings are merged."
    await screenshot(page, "places-merged")
    async with session_maker() as session:
        places = (await session.scalars(select(User.municipality).distinct())).all()
    assert places == ["Sliven"]
