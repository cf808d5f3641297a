"""Cohort work in headless Chromium: a new cohort and its weekly reminder, a workshop, and a paper
quiz recorded for a parent enrolled without a phone; screenshots at desktop and phone width."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import Activity, Cohort, Reminder, TokenRole, User, Verb
from learntogether.services import events
from learntogether.services.actors import Actor
from learntogether.services.events import EventInput
from tests.console.conftest import browser_sign_in, screenshot
from tests.factories import import_sample_curriculum


async def test_an_admin_creates_a_cohort_and_sets_a_weekly_reminder_with_the_builder(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await browser_sign_in(page, session_maker, live_server)
    await page.get_by_role("link", name="Cohorts").click()
    await page.get_by_role("link", name="New cohort").click()
    await page.wait_for_url(f"{live_server}/cohorts/new")
    # Nothing filled in: the problems show beside their fields, and nothing is created.
    await page.get_by_role("button", name="Create the cohort").click()
    await page.wait_for_selector("#name-errors")
    await screenshot(page, "cohort-new-errors")
    await page.get_by_label("Name").fill("Plovdiv parents")
    await page.get_by_label("Invite code").fill("PDV1")
    await page.get_by_label("Country").fill("BG")
    await page.get_by_label("Municipality").fill("Plovdiv")
    await page.get_by_role("combobox", name="Language", exact=True).nth(1).select_option("bg")
    await page.get_by_role("button", name="Create the cohort").click()
    await page.wait_for_url(f"{live_server}/cohorts/PDV1?done=created")
    assert await page.get_by_role("heading", level=1).inner_text() == "Plovdiv parents PDV1"

    reminder = page.locator("form[action='/cohorts/PDV1/reminders']")
    await reminder.get_by_label("Tuesday").check()
    await reminder.get_by_label("Thursday").check()
    await reminder.get_by_label("Time").fill("18:30")
    await reminder.get_by_label("Text").fill("Време е за урок: <b>10 минути</b>.")
    await reminder.get_by_role("button", name="Set the reminder").click()
    await page.wait_for_url(f"{live_server}/cohorts/PDV1?done=reminder#reminders")
    assert "Tuesday, Thursday · 18:30" in await page.locator("#reminders").inner_text()
    await screenshot(page, "cohort-created")
    async with session_maker() as session:
        cohort = await session.scalar(select(Cohort).where(Cohort.code == "PDV1"))
        saved = await session.scalar(select(Reminder))
    assert cohort is not None and cohort.locale == "bg"
    assert saved is not None
    assert (saved.cron, saved.timezone) == ("30 18 * * 2,4", "Europe/Sofia")


async def test_a_mediator_enrols_a_parent_and_records_their_paper_quiz(
    page: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Any,
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await browser_sign_in(
        page, session_maker, live_server, TokenRole.MEDIATOR, name="Rosa", cohorts=["SLV1"]
    )
    await page.goto("/cohorts/SLV1")
    workshop = page.locator("form[action='/cohorts/SLV1/workshops']")
    await workshop.get_by_label("Title").fill("Parents' evening")
    await workshop.get_by_label("Day").fill("2026-12-10")
    await workshop.get_by_label("Starts at").fill("17:30")
    await workshop.get_by_label("Place").fill("School No. 3, room 12")
    await workshop.get_by_role("button", name="Create the workshop").click()
    await page.wait_for_url("**/workshops/*?done=created")
    await screenshot(page, "cohort-workshop")

    await page.goto("/cohorts/SLV1#assisted")
    await screenshot(page, "cohort-page-full")
    enrol = page.locator("form[action='/cohorts/SLV1/participants']")
    await enrol.get_by_label("First name").fill("Zlatka")
    await enrol.get_by_role("button", name="Enrol").click()
    await page.wait_for_url("**/paper-quiz?user=*&done=enrolled")
    await page.get_by_label("Lesson", exact=True).first.select_option("what-segregation-is")
    await page.get_by_role("button", name="Open the quiz").click()
    await page.wait_for_selector("form.paper-quiz")
    # The questions come in Zlatka's language: the cohort's, Bulgarian.
    await page.get_by_label("A. 2007").check()
    await screenshot(page, "paper-quiz-form")
    await page.get_by_role("button", name="Record the answers").click()
    # A question left blank: shown again with the tick kept and the problem beside it.
    await page.wait_for_selector("#harm-errors")
    assert await page.get_by_label("A. 2007").is_checked()
    await page.get_by_label("B. Невярно").check()
    await page.get_by_role("button", name="Record the answers").click()
    await page.wait_for_url("**done=passed&result=1-2")
    assert "1 of 2 right." in await page.get_by_role("status").inner_text()
    await screenshot(page, "paper-quiz-recorded")
    async with session_maker() as session:
        zlatka = await session.scalar(select(User).where(User.first_name == "Zlatka"))
        assert zlatka is not None
        rows = list(
            await session.execute(
                select(Activity.verb, Activity.assisted).where(Activity.user_id == zlatka.id)
            )
        )
    assert (Verb.PASSED, True) in rows
    sheet = await page.request.get(
        "/cohorts/SLV1/quiz-sheet.pdf?lesson=what-segregation-is&locale=bg"
    )
    assert sheet.status == 200 and (await sheet.body()).startswith(b"%PDF")


async def test_a_printed_invite_or_check_in_code_shows_the_code_and_nobodys_name(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession], programme: Any
) -> None:
    """The pages say "print this page" for a poster: on paper (print media) they show the QR
    code, not the members, their progress or who came."""
    async with session_maker() as session:
        workshop = await events.create_event(
            session,
            cohort_code="SLV1",
            data=EventInput(title="Meeting at the school", starts_at=utcnow() + timedelta(days=1)),
            actor=Actor.system("test"),
        )
        await events.record_attendance(
            session, event_id=workshop.id, user_id=programme.sliven_learner, actor=Actor.system("t")
        )
        await session.commit()
    await browser_sign_in(page, session_maker, live_server)
    for path, code in (
        ("/cohorts/SLV1", "QR code of the invite link"),
        (f"/cohorts/SLV1/workshops/{workshop.id}", "QR code of the check-in link"),
    ):
        await page.goto(path)
        assert await page.get_by_text("Petya").first.is_visible()
        await page.emulate_media(media="print")
        assert await page.get_by_role("img", name=code).is_visible()
        assert not await page.get_by_text("Petya").first.is_visible(), path
        await page.emulate_media(media="screen")
    await page.emulate_media(media="print")
    await page.goto("/cohorts/SLV1")
    await screenshot(page, "cohort-printed")
