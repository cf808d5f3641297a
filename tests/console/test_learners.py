"""Learner pages: search and a learner's page, for admins and their cohorts' mediators only."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole
from tests.console.conftest import Programme, sign_in

pytestmark = pytest.mark.usefixtures("programme")


async def test_an_admin_searches_learners_and_sees_their_telegram_id(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await sign_in(client, session_maker)
    page = await client.get("/learners", params={"q": "luc"})
    assert page.status_code == 200
    assert "Lucía" in page.text and "Petya" not in page.text
    learner = await client.get(f"/learners/{programme.madrid_learner}")
    assert learner.status_code == 200
    assert "1002" in learner.text


async def test_a_mediator_finds_their_cohorts_learners_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    page = await client.get("/learners")
    assert "Petya" in page.text and "Lucía" not in page.text
    own = await client.get(f"/learners/{programme.sliven_learner}")
    assert own.status_code == 200 and "1001" not in own.text  # no Telegram id for mediators
    assert (await client.get(f"/learners/{programme.madrid_learner}")).status_code == 404
    assert (await client.get("/learners", params={"cohort": "MAD1"})).status_code == 403


async def test_a_viewer_sees_no_learner(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await sign_in(client, session_maker, TokenRole.VIEWER)
    assert (await client.get("/learners")).status_code == 403
    assert (await client.get(f"/learners/{programme.sliven_learner}")).status_code == 403
    assert 'href="/learners"' not in (await client.get("/")).text


async def test_an_unknown_cohort_is_said_beside_its_field(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    page = await client.get("/learners", params={"cohort": "NOPE"})
    assert page.status_code == 422
    assert 'id="cohort-errors"' in page.text
