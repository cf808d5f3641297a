"""Recurring reminders and nudges through the API."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import ApiToken, AuditLog, Broadcast, BroadcastKind, TokenRole, User
from tests.factories import create_api_token, create_learner


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def setup(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    admin = bearer(await create_api_token(session_maker))
    for code, country in (("SLV1", "BG"), ("MAD1", "ES")):
        body = {"name": code, "code": code, "country": country}
        assert (await client.post("/api/v1/cohorts", json=body, headers=admin)).status_code == 201
    return admin


async def test_reminder_is_created_listed_and_stopped(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await setup(client, session_maker)
    body = {"cron": "0 18 * * 1", "text": {"bg": "Урок в понеделник!", "en": "Lesson on Monday!"}}
    created = await client.post("/api/v1/cohorts/SLV1/reminders", json=body, headers=admin)
    assert created.status_code == 201, created.text
    reminder = created.json()
    assert (reminder["timezone"], reminder["cron"], reminder["enabled"]) == (
        "Europe/Sofia",
        "0 18 * * 1",
        True,
    )
    # Monday 18:00 on Sofia's clock, whichever side of daylight saving time it falls.
    next_run = datetime.fromisoformat(reminder["next_run_at"])
    in_sofia = next_run.astimezone(ZoneInfo("Europe/Sofia"))
    assert (in_sofia.weekday(), in_sofia.time(), next_run.utcoffset()) == (
        0,
        time(18, 0),
        in_sofia.utcoffset(),
    )
    listed = await client.get("/api/v1/cohorts/SLV1/reminders", headers=admin)
    assert [item["id"] for item in listed.json()["items"]] == [reminder["id"]]
    deleted = await client.delete(f"/api/v1/reminders/{reminder['id']}", headers=admin)
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/cohorts/SLV1/reminders", headers=admin)).json()["items"] == []
    gone = await client.delete(f"/api/v1/reminders/{reminder['id']}", headers=admin)
    assert gone.status_code == 404


async def test_bad_reminder_is_422_with_paths(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await setup(client, session_maker)
    body = {"cron": "daily", "timezone": "Mars/Base", "text": "ok"}
    response = await client.post("/api/v1/cohorts/SLV1/reminders", json=body, headers=admin)
    assert response.status_code == 422
    assert {error["path"] for error in response.json()["errors"]} == {"$.cron", "$.timezone"}
    html = {"cron": "0 9 * * *", "text": {"bg": "<b>open"}}
    response = await client.post("/api/v1/cohorts/SLV1/reminders", json=html, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$.text.bg"


async def test_mediator_manages_only_its_own_cohorts_reminders(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await setup(client, session_maker)
    body = {"cron": "0 9 * * *", "text": "Hola"}
    theirs = (await client.post("/api/v1/cohorts/MAD1/reminders", json=body, headers=admin)).json()
    mediator = bearer(await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"]))
    own = await client.post("/api/v1/cohorts/SLV1/reminders", json=body, headers=mediator)
    assert own.status_code == 201
    refused = await client.post("/api/v1/cohorts/MAD1/reminders", json=body, headers=mediator)
    assert refused.status_code == 403
    assert (
        await client.delete(f"/api/v1/reminders/{theirs['id']}", headers=mediator)
    ).status_code == 403
    viewer = bearer(await create_api_token(session_maker, TokenRole.VIEWER))
    assert (await client.get("/api/v1/cohorts/SLV1/reminders", headers=viewer)).status_code == 403


async def test_nudging_a_cohort_reaches_its_quiet_members_once_a_week(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await setup(client, session_maker)
    quiet = await create_learner(session_maker, 9301, cohort="SLV1")
    await create_learner(session_maker, 9302, cohort="SLV1")
    async with session_maker() as session:
        person = await session.get(User, quiet.id)
        assert person is not None
        person.last_active_at = utcnow() - timedelta(days=10)
        await session.commit()
    first = await client.post("/api/v1/cohorts/SLV1/nudge", headers=admin)
    assert first.json() == {"nudged": 1, "recently_nudged": 0}
    again = await client.post("/api/v1/cohorts/SLV1/nudge", headers=admin)
    assert again.json() == {"nudged": 0, "recently_nudged": 1}


async def test_a_mediator_tokens_nudge_is_recorded_as_theirs(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await setup(client, session_maker)
    quiet = await create_learner(session_maker, 9311, cohort="SLV1")
    async with session_maker() as session:
        person = await session.get(User, quiet.id)
        assert person is not None
        person.last_active_at = utcnow() - timedelta(days=10)
        await session.commit()
    mediator = await create_api_token(
        session_maker, TokenRole.MEDIATOR, name="sliven-mediator", cohorts=["SLV1"]
    )
    response = await client.post("/api/v1/cohorts/SLV1/nudge", headers=bearer(mediator))
    assert response.json() == {"nudged": 1, "recently_nudged": 0}
    async with session_maker() as session:
        token_id = await session.scalar(
            select(ApiToken.id).where(ApiToken.name == "sliven-mediator")
        )
        nudge = await session.scalar(select(Broadcast).where(Broadcast.kind == BroadcastKind.NUDGE))
        entry = await session.scalar(select(AuditLog).where(AuditLog.entity == "broadcast"))
    assert nudge is not None and entry is not None and token_id is not None
    assert (nudge.created_by, nudge.created_by_token_id) == ("token:sliven-mediator", token_id)
    assert (entry.actor, entry.actor_token_id, entry.action) == (
        "token:sliven-mediator",
        token_id,
        "create",
    )


async def test_a_reminder_on_a_date_that_never_comes_is_422_naming_the_cron(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await setup(client, session_maker)
    for cron in ("0 0 31 2 *", "0 0 30 2 *"):
        body = {"cron": cron, "text": "ok"}
        response = await client.post("/api/v1/cohorts/SLV1/reminders", json=body, headers=admin)
        assert response.status_code == 422
        [error] = response.json()["errors"]
        assert error["path"] == "$.cron"
        assert "no run in the next five years" in error["message"]
    assert (await client.get("/api/v1/cohorts/SLV1/reminders", headers=admin)).json()["items"] == []


async def test_a_cron_that_is_not_standard_cron_is_422_naming_the_field(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await setup(client, session_maker)
    for cron, field in (("0 9 * * 8", "weekday '8'"), ("0 9 L * *", "day of the month 'L'")):
        body = {"cron": cron, "text": "ok"}
        response = await client.post("/api/v1/cohorts/SLV1/reminders", json=body, headers=admin)
        assert response.status_code == 422
        [error] = response.json()["errors"]
        assert (error["path"], field in error["message"]) == ("$.cron", True)


async def test_a_mediators_reminder_runs_at_most_hourly_an_admins_more_often(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await setup(client, session_maker)
    mediator = bearer(await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"]))
    url = "/api/v1/cohorts/SLV1/reminders"
    for cron in ("*/30 * * * *", "0,30 9 * * *", "* * * * *"):
        refused = await client.post(url, json={"cron": cron, "text": "x"}, headers=mediator)
        assert refused.status_code == 422
        [error] = refused.json()["errors"]
        assert error["path"] == "$.cron"
        assert "more than once an hour" in error["message"]
        taken = await client.post(url, json={"cron": cron, "text": "x"}, headers=admin)
        assert taken.status_code == 201, taken.text
    hourly = await client.post(url, json={"cron": "0 * * * *", "text": "x"}, headers=mediator)
    assert hourly.status_code == 201, hourly.text


async def test_weekdays_and_days_of_the_month_are_read_as_cron_reads_them(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """0 and 7 are Sunday, 1 is Monday; a day of the month and a weekday: either."""
    admin = await setup(client, session_maker)
    sofia = ZoneInfo("Europe/Sofia")
    now = utcnow().astimezone(sofia)
    for cron, days in (
        ("0 18 * * 0", {6}),
        ("0 18 * * 7", {6}),
        ("0 18 * * 1", {0}),
        ("0 18 * * mon", {0}),
        ("0 18 * * SAT", {5}),
    ):
        body = {"cron": cron, "text": "x"}
        created = await client.post("/api/v1/cohorts/SLV1/reminders", json=body, headers=admin)
        assert created.status_code == 201, created.text
        next_run = datetime.fromisoformat(created.json()["next_run_at"]).astimezone(sofia)
        assert (next_run.weekday() in days, next_run.time()) == (True, time(18, 0)), cron
        assert timedelta(0) < next_run - now <= timedelta(days=7)
    # The first of the month or a Monday, whichever comes first.
    body = {"cron": "0 18 1 * 1", "text": "x"}
    created = await client.post("/api/v1/cohorts/SLV1/reminders", json=body, headers=admin)
    assert created.status_code == 201, created.text
    next_run = datetime.fromisoformat(created.json()["next_run_at"]).astimezone(sofia)
    assert next_run.weekday() == 0 or next_run.day == 1
    assert next_run - now <= timedelta(days=7)
