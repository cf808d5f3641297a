"""Learner pages: search and a learner's page, for admins and their cohorts' mediators only."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole
from tests.console.conftest import Programme, sign_in
from tests.oggopus import ogg_opus
from tests.report_builders import reflect, said

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


INJECTION = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_an_admin_reads_a_learners_reflections_as_text(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await reflect(session_maker, programme.sliven_learner, INJECTION)
    await sign_in(client, session_maker)
    page = await client.get(f"/learners/{programme.sliven_learner}")
    assert page.status_code == 200
    assert "What will you try?" in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text and "<img src=x" not in page.text


async def test_the_reflection_list_filters_by_cohort_and_lesson(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await reflect(session_maker, programme.sliven_learner, "Pair the pupils.")
    await reflect(session_maker, programme.madrid_learner, "Hablar con las familias.")
    await sign_in(client, session_maker)
    every = await client.get("/learners/reflections")
    assert "Pair the pupils." in every.text and "Hablar con las familias." in every.text
    madrid = await client.get("/learners/reflections", params={"cohort": "MAD1", "lesson": "kinds"})
    assert "Hablar con las familias." in madrid.text and "Pair the pupils." not in madrid.text
    assert '<option value="kinds" selected>Every kind</option>' in madrid.text


async def test_an_unknown_lesson_is_said_beside_its_field(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    page = await client.get("/learners/reflections", params={"lesson": "nope"})
    assert page.status_code == 422 and 'id="lesson-errors"' in page.text


async def test_a_mediator_reads_their_cohorts_reflections_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await reflect(session_maker, programme.sliven_learner, "Pair the pupils.")
    await reflect(session_maker, programme.madrid_learner, "Hablar con las familias.")
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    own = await client.get(f"/learners/{programme.sliven_learner}")
    assert "Pair the pupils." in own.text
    listed = await client.get("/learners/reflections")
    assert "Pair the pupils." in listed.text and "Hablar con las familias." not in listed.text
    assert (await client.get(f"/learners/{programme.madrid_learner}")).status_code == 404
    other = await client.get("/learners/reflections", params={"cohort": "MAD1"})
    assert other.status_code == 403 and "Hablar" not in other.text


async def test_a_viewer_reads_no_reflection(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await reflect(session_maker, programme.sliven_learner, "Pair the pupils.")
    await sign_in(client, session_maker, TokenRole.VIEWER)
    page = await client.get("/learners/reflections")
    assert page.status_code == 403 and "Pair the pupils." not in page.text


async def test_a_voice_answer_plays_in_an_audio_element_for_its_cohorts_mediator_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    voice = ogg_opus(4.0)
    await reflect(session_maker, programme.sliven_learner, said(voice, 4))
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    page = await client.get("/learners/reflections")
    found = re.search(
        r'<audio controls preload="none" src="(/learners/reflections/\d+/audio)">', page.text
    )
    assert found is not None, page.text
    heard = await client.get(found[1])
    assert (heard.status_code, heard.headers["content-type"], heard.content) == (
        200,
        "audio/ogg",
        voice,
    )
    await sign_in(client, session_maker, TokenRole.MEDIATOR, name="Marta", cohorts=["MAD1"])
    assert (await client.get(found[1])).status_code == 404
    await sign_in(client, session_maker, TokenRole.VIEWER, name="Vera")
    assert (await client.get(found[1])).status_code == 403
