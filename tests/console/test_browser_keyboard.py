"""The console by keyboard alone (issue 13: 'usable by keyboard'): on each working page, Tab
reaches every link and control a mouse could use, in turn, and the one it reaches shows the focus
ring; a skip link goes past the header."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.services import events
from learntogether.services.actors import Actor
from learntogether.services.events import EventInput
from tests.console.conftest import Programme, browser_sign_in

# Marks each visible link and control a mouse could use; a radio group is one Tab stop.
MARK = """() => {
  const wanted = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  let count = 0;
  const groups = new Set();
  for (const element of document.querySelectorAll(wanted)) {
    const box = element.getBoundingClientRect();
    const shown = box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== "hidden";
    if (!shown || element.disabled) continue;
    if (element.type === "radio") {
      if (groups.has(element.name)) continue;
      groups.add(element.name);
      for (const radio of document.getElementsByName(element.name)) radio.dataset.stop = count;
    } else {
      element.dataset.stop = count;
    }
    count += 1;
  }
  return count;
}"""
FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element.dataset.stop === undefined) return null;
  const style = getComputedStyle(element);
  return [Number(element.dataset.stop), style.outlineStyle !== "none" && style.outlineWidth !== "0px"];
}"""


async def _walk(page: Any, path: str) -> None:
    await page.goto(path)
    stops = await page.evaluate(MARK)
    reached: list[int] = []
    unringed: list[int] = []
    await page.locator("body").focus()
    for _ in range(3 * stops + 5):
        await page.keyboard.press("Tab")
        found = await page.evaluate(FOCUSED)
        if found is None:
            continue
        stop, ringed = found
        if reached and stop == reached[-1]:
            continue  # a day, month or year inside a date field: Tab goes through each
        if stop in reached:
            break
        reached.append(stop)
        if not ringed:
            unringed.append(stop)
    assert sorted(reached) == list(range(stops)), path
    assert reached == sorted(reached), f"{path}: Tab goes out of the page's order"
    assert unringed == [], path


@pytest.mark.usefixtures("taught")
async def test_tab_reaches_every_control_of_the_working_pages_with_a_visible_ring(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
) -> None:
    async with session_maker() as session:
        workshop = await events.create_event(
            session,
            cohort_code="SLV1",
            data=EventInput(title="Meeting", starts_at=utcnow() + timedelta(days=1)),
            actor=Actor.system("test"),
        )
        await session.commit()
    await browser_sign_in(page, session_maker, live_server)
    for path in (
        "/",
        "/cohorts/SLV1",
        f"/cohorts/SLV1/workshops/{workshop.id}",
        "/cohorts/SLV1/paper-quiz?lesson=middle",
        "/broadcasts/new",
        "/reports/participation",
        "/curriculum/lessons/middle/edit",
        "/learners",
        "/access/tokens",
    ):
        await _walk(page, path)


async def test_the_skip_link_comes_first_and_goes_past_the_header(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(page, session_maker, live_server)
    await page.goto("/access/tokens")
    await page.locator("body").focus()
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    assert await skip.evaluate("link => link === document.activeElement")
    assert await skip.is_visible()
    await page.keyboard.press("Enter")
    # The next Tab starts from the content: its first link, past the header's navigation.
    await page.keyboard.press("Tab")
    inside = await page.evaluate("() => document.activeElement.closest('main') !== null")
    assert inside
