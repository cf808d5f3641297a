"""The dashboard: goals and figures from the roll-ups, within the reader's reach."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import Cohort, GoalMeasure, TokenRole, User
from learntogether.services import dashboard, goals
from learntogether.services.actors import Actor
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
