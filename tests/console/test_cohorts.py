"""Cohort pages: the list, a cohort's members, invite QR code, reminder builder and nudge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.console.web import days_ahead
from learntogether.db.base import utcnow
from learntogether.db.models import AuditLog, Broadcast, BroadcastKind, Reminder, TokenRole, User
from learntogether.services import reminders
from learntogether.services.actors import Actor
from learntogether.services.cron import next_run
from tests.console.conftest import Programme, sign_in

pytestmark = pytest.mark.usefixtures("programme")


async def _quiet(session_maker: async_sessionmaker[AsyncSession], user_id: int) -> None:
    async with session_maker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        user.last_active_at = utcnow() - timedelta(days=10)
        await session.commit()


async def test_an_admin_lists_every_cohort_with_its_quiet_members(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await _quiet(session_maker, programme.sliven_learner)
    await sign_in(client, session_maker)
    page = await client.get("/cohorts")
    assert page.status_code == 200
    assert "Sliven teachers" in page.text and "Madrid mediators" in page.text
    assert '<span class="warn">1</span>' in page.text


async def test_a_mediator_lists_only_their_cohorts(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    page = await client.get("/cohorts")
    assert "Sliven teachers" in page.text
    assert "Madrid mediators" not in page.text


async def test_a_cohort_page_shows_members_invite_link_and_its_qr_code(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    page = await client.get("/cohorts/SLV1")
    assert page.status_code == 200
    assert "Petya" in page.text
    assert "https://t.me/lt_test_bot?start=c-SLV1" in page.text
    qr = await client.get("/cohorts/SLV1/invite.png")
    assert qr.status_code == 200
    assert qr.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cohorts/MAD1"),
        ("GET", "/cohorts/MAD1/invite.png"),
        ("GET", "/cohorts/MAD1/nudge"),
        ("POST", "/cohorts/MAD1/nudge"),
        ("POST", "/cohorts/MAD1/reminders"),
        ("GET", "/cohorts/NOPE"),
    ],
)
async def test_a_mediator_of_another_cohort_cannot_open_or_change_it(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], method: str, path: str
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    data = {"csrf": csrf, "days": ["1"], "time": "18:00", "text": "Hi"}
    answer = await client.request(method, path, data=data if method == "POST" else None)
    assert answer.status_code == 403
    assert "not within your reach" in answer.text
    assert "Lucía" not in answer.text


@pytest.mark.parametrize(
    "path", ["/cohorts", "/cohorts/SLV1", "/cohorts/SLV1/invite.png", "/cohorts/SLV1/nudge"]
)
async def test_a_viewer_reads_reports_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], path: str
) -> None:
    await sign_in(client, session_maker, TokenRole.VIEWER)
    assert (await client.get(path)).status_code == 403
    assert 'href="/cohorts"' not in (await client.get("/")).text


async def test_an_admin_gets_404_for_a_cohort_that_does_not_exist(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    assert (await client.get("/cohorts/NOPE")).status_code == 404


async def test_the_builder_makes_a_weekly_reminder_on_the_cohorts_clock(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"], name="Rosa")
    answer = await client.post(
        "/cohorts/SLV1/reminders",
        data={"csrf": csrf, "days": ["3", "1"], "time": "18:30", "text": "Урок <b>днес</b>"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/cohorts/SLV1?done=reminder#reminders"
    async with session_maker() as session:
        reminder = await session.scalar(select(Reminder))
        entry = await session.scalar(select(AuditLog).where(AuditLog.entity == "reminder"))
    assert reminder is not None
    assert (reminder.cron, reminder.timezone) == ("30 18 * * 1,3", "Europe/Sofia")
    assert reminder.text == {"bg": "Урок <b>днес</b>"}
    assert entry is not None and entry.actor == "staff:Rosa"
    page = await client.get("/cohorts/SLV1?done=reminder")
    assert "The reminder is set." in page.text
    assert "Monday, Wednesday · 18:30" in page.text
    stopped = await client.post(
        f"/cohorts/SLV1/reminders/{reminder.id}/delete", data={"csrf": csrf}
    )
    assert stopped.status_code == 303
    async with session_maker() as session:
        assert await session.scalar(select(Reminder)) is None


async def test_builder_problems_are_shown_beside_their_fields(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    empty = await client.post(
        "/cohorts/SLV1/reminders", data={"csrf": csrf, "time": "25:99", "text": " "}
    )
    assert empty.status_code == 422
    assert 'id="days-errors"' in empty.text and "Choose at least one day." in empty.text
    assert 'id="time-errors"' in empty.text and "Give a time such as 18:00." in empty.text
    assert 'id="text-errors"' in empty.text
    bad_html = await client.post(
        "/cohorts/SLV1/reminders",
        data={"csrf": csrf, "days": ["5"], "time": "09:00", "text": "<b>unclosed"},
    )
    assert bad_html.status_code == 422
    assert 'id="text-errors"' in bad_html.text
    # What was typed stays, escaped.
    assert "&lt;b&gt;unclosed</textarea>" in bad_html.text
    async with session_maker() as session:
        assert await session.scalar(select(Reminder)) is None


async def test_a_form_without_its_token_changes_nothing(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    answer = await client.post(
        "/cohorts/SLV1/reminders", data={"days": ["1"], "time": "18:00", "text": "Hi"}
    )
    assert answer.status_code == 403
    async with session_maker() as session:
        assert await session.scalar(select(Reminder)) is None


async def test_a_nudge_asks_first_then_reaches_the_quiet_members(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await _quiet(session_maker, programme.sliven_learner)
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    confirm = await client.get("/cohorts/SLV1/nudge")
    assert "1 member has gone quiet" in confirm.text
    async with session_maker() as session:
        assert await session.scalar(select(Broadcast)) is None
    sent = await client.post("/cohorts/SLV1/nudge", data={"csrf": csrf})
    assert sent.status_code == 303
    page = await client.get(sent.headers["location"])
    assert "Nudge sent to 1; 0 had a nudge this week already." in page.text
    async with session_maker() as session:
        nudge = await session.scalar(select(Broadcast))
    assert nudge is not None and nudge.kind is BroadcastKind.NUDGE


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 12, 7, 21, 59, tzinfo=UTC), 0),  # 23:59 in Sofia, the same day
        (datetime(2026, 12, 7, 22, 0, tzinfo=UTC), 1),  # midnight in Sofia: tomorrow
        (datetime(2026, 12, 8, 21, 59, tzinfo=UTC), 1),
        (datetime(2026, 12, 9, 9, 0, tzinfo=UTC), 2),
    ],
)
def test_days_ahead_counts_on_the_zones_clock(moment: datetime, expected: int) -> None:
    now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert days_ahead(moment, "Europe/Sofia", now) == expected


async def test_a_reminder_due_today_or_tomorrow_says_so(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await reminders.create_reminder(
            session,
            cohort_code="SLV1",
            data=reminders.ReminderInput(cron="0 * * * *", timezone="UTC", text="Hourly"),
            actor=Actor.system("test"),
            default_locale="en",
        )
        await session.commit()
    now = datetime.now(UTC)
    following = next_run("0 * * * *", "UTC", after=now)
    assert following is not None
    word = "today" if days_ahead(following, "UTC", now) == 0 else "tomorrow"
    await sign_in(client, session_maker)
    page = await client.get("/cohorts/SLV1")
    assert f"next: {word} at " in page.text
