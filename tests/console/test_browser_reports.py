"""The report pages in headless Chromium: participation grouped and downloaded, then the funnel,
item analysis and awareness, each with its chart, at desktop and phone width."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.console import reports
from learntogether.db.models import TokenRole
from tests.console.conftest import browser_sign_in, screenshot

pytestmark = pytest.mark.usefixtures("taught")


async def _download(page: Any, link: str) -> str:
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=link).click()
    download = await download_info.value
    return await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8")


async def test_a_viewer_regroups_participation_pages_it_and_downloads_every_row(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reports, "GROUPS_A_PAGE", 1)
    await browser_sign_in(page, session_maker, live_server, TokenRole.VIEWER, name="Eva")
    await page.get_by_role("link", name="Reports").click()
    await page.get_by_label("Group by").select_option("region")
    await page.get_by_label("Period").select_option("month")
    await page.get_by_label("From").fill("2020-01-01")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r".*group_by=region.*period=month.*"))
    pages = page.get_by_role("navigation", name="Pages of the report")
    assert "Page 1 of 2" in await pages.inner_text()
    assert await page.get_by_role("cell", name="Madrid").count() == 1
    assert await page.get_by_role("cell", name="Sliven").count() == 0
    await screenshot(page, "reports-participation-by-region")

    await pages.get_by_role("link", name="Next").click()
    await page.wait_for_url(re.compile(r".*group_by=region.*period=month.*page=2$"))
    assert await page.get_by_role("cell", name="Sliven").count() == 1
    assert await page.get_by_role("cell", name="Madrid").count() == 0
    assert await page.get_by_label("Group by").input_value() == "region"
    await screenshot(page, "reports-participation-by-region-page-2")
    content = await _download(page, "Download as CSV")
    lines = content.splitlines()
    assert lines[0].startswith("region,period,joined,active")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["Madrid", "Sliven"]

    # The page links are ordinary links: the keyboard reaches and follows them.
    await pages.get_by_role("link", name="Previous").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*page=1$"))
    assert await page.get_by_role("cell", name="Madrid").count() == 1


async def test_the_funnel_item_analysis_and_awareness_show_titles_and_charts(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(page, session_maker, live_server, name="Ana")
    await page.get_by_role("link", name="Reports").click()
    await page.get_by_role("link", name="Lesson funnel").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "Lesson funnel"
    chart = page.locator("figure.chart")
    assert await chart.locator("dt").all_inner_texts() == [
        "Survey pre",
        "What segregation is",
        "Survey post",
    ]
    await screenshot(page, "reports-funnel")
    funnel = await _download(page, "Download as CSV")
    assert funnel.splitlines()[0] == "track,lesson,stage,step,learners,share"

    await page.get_by_role("link", name="Item analysis").click()
    await page.get_by_label("Lesson").select_option("middle")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r".*lesson=middle.*"))
    assert await page.get_by_role("cell", name="When was D.H. decided?").count() == 1
    await screenshot(page, "reports-questions")

    await page.get_by_role("link", name="Awareness before and after").click()
    await page.get_by_label("Group by").select_option("cohort")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r".*group_by=cohort.*"))
    assert await page.locator("figure.chart dt").all_inner_texts() == ["MAD1", "SLV1"]
    await screenshot(page, "reports-awareness")
    awareness = await _download(page, "Download as CSV")
    assert awareness.splitlines()[0].startswith("cohort,item,learners,pre_mean")
