"""The dashboard: goals and figures from the roll-ups, within the reader's reach."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.console.dashboard import FRESH_FOR, Reading, Readings
from learntogether.db.base import utcnow
from learntogether.db.models import Cohort, GoalMeasure, Role, TokenRole, User
from learntogether.services import dashboard, goals, learners
from learntogether.services.actors import Actor
from learntogether.services.dashboard import Overview
from learntogether.services.goals import GoalFilters, GoalSpec
from tests.console.conftest import Programme, sign_in

pytestmark = pytest.mark.usefixtures("programme")


@pytest.fixture
async def madrid_goal(
    session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    async with session_maker() as session:
        await goals.create_goal(
            session,
            spec=GoalSpec(
                name="Madrid joins",
                measure=GoalMeasure.LEARNERS_JOINED,
                filters=GoalFilters(cohort="MAD1"),
                target=4,
                deadline=date.today() + timedelta(days=60),  # noqa: DTZ011
            ),
            actor=Actor.system("test"),
        )
        await session.commit()


@pytest.mark.usefixtures("madrid_goal")
async def test_an_admin_sees_goals_figures_regions_and_quiet_cohorts(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    async with session_maker() as session:
        user = await session.get(User, programme.madrid_learner)
        assert user is not None
        user.last_active_at = utcnow() - timedelta(days=10)
        await session.commit()
    await sign_in(client, session_maker)
    page = await client.get("/")
    assert page.status_code == 200
    assert "Madrid joins" in page.text
    assert '<progress id="goal-' in page.text and 'max="4" value="1"' in page.text
    assert "<strong>2</strong> joined in all" in page.text
    assert "<td>Sliven</td>" in page.text and "<td>Madrid</td>" in page.text
    assert 'href="/cohorts/MAD1">Madrid mediators</a>: 1 of 1 member gone quiet' in page.text


@pytest.mark.usefixtures("madrid_goal")
async def test_a_mediator_sees_their_cohorts_figures_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    page = await client.get("/")
    assert page.status_code == 200
    assert "Madrid" not in page.text
    assert "<strong>1</strong> joined in all" in page.text


@pytest.mark.usefixtures("madrid_goal")
async def test_a_viewer_reads_the_figures_and_goals_but_no_cohort(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.VIEWER)
    page = await client.get("/")
    assert page.status_code == 200
    assert "Madrid joins" in page.text
    assert "gone quiet" not in page.text
    assert 'href="/cohorts' not in page.text


@pytest.mark.usefixtures("madrid_goal")
async def test_the_overview_read_at_once_equals_the_overview_read_in_turn(
    session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    async with session_maker() as session:
        user = await session.get(User, programme.madrid_learner)
        assert user is not None
        user.last_active_at = utcnow() - timedelta(days=10)
        madrid = await session.scalar(select(Cohort.id).where(Cohort.code == "MAD1"))
        assert madrid is not None
        await session.commit()
    today = utcnow().date()
    quiet: dict[TokenRole, list[tuple[str, int]]] = {}
    for actor in (
        Actor.system("test"),
        Actor(name="mediator", role=TokenRole.MEDIATOR, cohort_ids=frozenset({madrid})),
        Actor(name="viewer", role=TokenRole.VIEWER),
    ):
        async with session_maker() as session:
            in_turn = await dashboard.overview(session, actor=actor, today=today)
            at_once = await dashboard.overview(
                session, actor=actor, today=today, readers=session_maker
            )
        assert at_once == in_turn
        quiet[actor.role] = [(cohort.code, count) for cohort, count in at_once.quiet_cohorts]
        assert at_once.all_time["joined"] == (1 if actor.role is TokenRole.MEDIATOR else 2)
    assert quiet == {
        TokenRole.ADMIN: [("MAD1", 1)],
        TokenRole.MEDIATOR: [("MAD1", 1)],
        TokenRole.VIEWER: [],
    }


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.usefixtures("madrid_goal")
async def test_the_figures_are_read_once_a_minute_for_each_reach(
    client: AsyncClient,
    other_client: AsyncClient,
    console_app: FastAPI,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    clock = _Clock()
    console_app.state.dashboard_readings = Readings(clock=clock)
    await sign_in(client, session_maker)
    await sign_in(other_client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    first = await client.get("/")
    assert "<strong>2</strong> joined in all" in first.text
    assert "Figures as of " in first.text
    # A mediator in the same minute reads their own cohorts' figures, never the admin's.
    mediator = await other_client.get("/")
    assert "<strong>1</strong> joined in all" in mediator.text and "Madrid" not in mediator.text
    async with session_maker() as session:
        await learners.register(
            session,
            telegram_id=4242,
            first_name="New",
            locale="bg",
            role=Role.TEACHER,
            cohort_code="SLV1",
        )
        await session.commit()
    clock.now += FRESH_FOR - 1
    assert "<strong>2</strong> joined in all" in (await client.get("/")).text
    clock.now += 2
    assert "<strong>3</strong> joined in all" in (await client.get("/")).text
    assert "<strong>2</strong> joined in all" in (await other_client.get("/")).text


def _overview(joined: int) -> Overview:
    return Overview([], {"joined": joined}, {}, {}, [], [], [])


async def test_readers_who_come_at_once_share_one_reading() -> None:
    readings = Readings(clock=_Clock())
    started = 0
    go_on = asyncio.Event()

    async def read() -> Reading:
        nonlocal started
        started += 1
        await go_on.wait()
        return Reading(_overview(started), utcnow())

    reach = (TokenRole.ADMIN, None, date(2026, 12, 7))
    waiting = [asyncio.ensure_future(readings.reading(reach, read)) for _ in range(3)]
    await asyncio.sleep(0)
    # One of them leaves: the reading goes on for the others.
    waiting[0].cancel()
    go_on.set()
    found = await asyncio.gather(*waiting[1:])
    assert started == 1
    assert [reading.overview.all_time for reading in found] == [{"joined": 1}] * 2


async def test_a_reading_that_fails_is_not_kept() -> None:
    readings = Readings(clock=_Clock())
    reach = (TokenRole.VIEWER, None, date(2026, 12, 7))

    async def broken() -> Reading:
        raise OSError("the database is gone")

    async def fine() -> Reading:
        return Reading(_overview(7), utcnow())

    with pytest.raises(OSError, match="gone"):
        await readings.reading(reach, broken)
    assert (await readings.reading(reach, fine)).overview.all_time == {"joined": 7}


async def test_a_reading_that_fails_after_its_readers_left_is_not_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    readings = Readings(clock=_Clock())
    reach = (TokenRole.ADMIN, None, date(2026, 12, 7))
    go_on = asyncio.Event()

    async def broken() -> Reading:
        await go_on.wait()
        raise OSError("the database is gone")

    async def fine() -> Reading:
        return Reading(_overview(3), utcnow())

    leaving = asyncio.ensure_future(readings.reading(reach, broken))
    await asyncio.sleep(0)
    leaving.cancel()
    go_on.set()
    for _ in range(3):
        await asyncio.sleep(0)
    # The next reader within the minute gets a new reading, not the failed one.
    assert (await readings.reading(reach, fine)).overview.all_time == {"joined": 3}
    assert "a reading of the dashboard failed: OSError('the database is gone')" in caplog.text
