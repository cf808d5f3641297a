"""Learner pages: search and a learner's page, for admins and their cohorts' mediators only."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole, User, Verb
from tests.console.conftest import Programme, sign_in
from tests.oggopus import ogg_opus
from tests.report_builders import at, record, reflect, said

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


async def test_a_learners_role_and_language_are_words_in_the_readers_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await sign_in(client, session_maker)
    english = _profile((await client.get(f"/learners/{programme.madrid_learner}")).text)
    assert "<dd>Teacher</dd>" in english and "<dd>Spanish</dd>" in english
    bulgarian = await client.get(
        f"/learners/{programme.madrid_learner}", headers={"accept-language": "bg"}
    )
    profile = _profile(bulgarian.text)
    assert "<dd>Учител</dd>" in profile and "<dd>испански</dd>" in profile
    assert "teacher" not in profile and ">es<" not in profile
    search = await client.get("/learners", params={"q": "luc"}, headers={"accept-language": "bg"})
    assert "<td>Учител</td>" in search.text and "<td>teacher</td>" not in search.text


async def test_a_learner_without_role_or_language_yet_shows_dashes(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        newcomer = User(telegram_id=1003, first_name="Nadya")
        session.add(newcomer)
        await session.commit()
    await sign_in(client, session_maker)
    profile = _profile((await client.get(f"/learners/{newcomer.id}")).text)
    assert "<dt>Role</dt><dd>–</dd>" in profile and "<dt>Language</dt><dd>–</dd>" in profile


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
    assert "unknown cohort code &#39;NOPE&#39;" in page.text


async def test_an_unknown_cohort_is_said_in_the_readers_language(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    page = await client.get(
        "/learners", params={"cohort": "NOPE"}, headers={"accept-language": "bg"}
    )
    assert page.status_code == 422
    assert "непознат код на група &#39;NOPE&#39;" in page.text
    assert "unknown cohort code" not in page.text


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


async def _activity_at_midnight(
    session_maker: async_sessionmaker[AsyncSession], user_id: int, records: int = 1
) -> None:
    """``records`` (at most 30) workshop attendances, the first at 23:30 UTC on 31 January 2026
    (1 February in Sofia), each a minute before the next."""
    async with session_maker() as session:
        learner = await session.get(User, user_id)
        assert learner is not None
        for minute in range(records):
            await record(session, learner, Verb.ATTENDED, at(31, 23, 30 + minute))
        await session.commit()


async def test_an_admin_sees_a_learners_activity_lessons_and_quizzes(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await _activity_at_midnight(session_maker, programme.sliven_learner)
    await reflect(session_maker, programme.sliven_learner, "Pair the pupils.")
    await sign_in(client, session_maker)
    page = await client.get(f"/learners/{programme.sliven_learner}")
    assert page.status_code == 200
    activity = _section(page.text, "activity")
    # Newest first: the quiz taken now, then the workshop of January, on UTC's clock by default.
    assert activity.index("completed the lesson") < activity.index("attended a workshop")
    assert "Every kind" in activity and "Jan 31, 2026" in activity and "UTC" in activity
    assert "answered a question" in activity and "started the lesson" in activity
    lessons = _section(page.text, "lessons")
    assert "Every kind" in lessons and "completed" in lessons
    quizzes = _section(page.text, "quizzes")
    assert "Every kind" in quizzes and " of " in quizzes
    # The viewer's clock: the same workshop on 1 February in Sofia.
    sofia = await client.get(f"/learners/{programme.sliven_learner}", params={"tz": "Europe/Sofia"})
    assert "Feb 1, 2026 1:30\u202fAM Europe/Sofia" in _section(sofia.text, "activity")
    assert "Europe/Sofia" in _section(sofia.text, "reflections")
    # Another learner's page has none of it.
    other = await client.get(f"/learners/{programme.madrid_learner}")
    assert "joined the programme or a cohort" in _section(other.text, "activity")
    assert "attended a workshop" not in other.text and "Every kind" not in other.text
    assert "No quiz finished yet." in _section(other.text, "quizzes")


async def test_a_learners_activity_comes_a_page_at_a_time(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await _activity_at_midnight(session_maker, programme.sliven_learner, records=25)
    await sign_in(client, session_maker)
    first = await client.get(f"/learners/{programme.sliven_learner}", params={"tz": "Europe/Sofia"})
    # Newest first: the join (now), then 19 of the workshops.
    assert _section(first.text, "activity").count("attended a workshop") == 19
    assert "joined the programme or a cohort" in first.text
    assert "1–20 of 26" in first.text
    # The next page keeps the viewer's zone.
    assert (
        f'href="/learners/{programme.sliven_learner}?tz=Europe/Sofia&amp;activity=20"' in first.text
    )
    second = await client.get(
        f"/learners/{programme.sliven_learner}", params={"tz": "Europe/Sofia", "activity": 20}
    )
    assert _section(second.text, "activity").count("attended a workshop") == 6
    assert "joined the programme or a cohort" not in second.text
    assert "21–26 of 26" in second.text


async def test_an_unknown_time_zone_is_said_beside_its_field(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    await _activity_at_midnight(session_maker, programme.sliven_learner)
    await sign_in(client, session_maker)
    page = await client.get(f"/learners/{programme.sliven_learner}", params={"tz": "Mars/Olympus"})
    assert page.status_code == 422
    assert 'id="tz-errors"' in page.text and "Mars/Olympus" not in _section(page.text, "activity")
    assert "Jan 31, 2026" in _section(page.text, "activity")  # shown on UTC's clock


async def test_a_learners_activity_is_for_their_cohorts_mediators_only(
    client: AsyncClient,
    other_client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
) -> None:
    await _activity_at_midnight(session_maker, programme.madrid_learner)
    await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["MAD1"])
    own = await client.get(f"/learners/{programme.madrid_learner}")
    assert own.status_code == 200 and "attended a workshop" in _section(own.text, "activity")
    await sign_in(other_client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    beyond = await other_client.get(f"/learners/{programme.madrid_learner}")
    assert beyond.status_code == 404 and "attended a workshop" not in beyond.text
    await sign_in(other_client, session_maker, TokenRole.VIEWER)
    viewer = await other_client.get(f"/learners/{programme.madrid_learner}")
    assert viewer.status_code == 403 and "attended a workshop" not in viewer.text


def _profile(html: str) -> str:
    """The page's profile card (``<dl>``)."""
    start = html.index('<dl class="card">')
    return html[start : html.index("</dl>", start)]


def _section(html: str, name: str) -> str:
    """The page's ``<section id=name>``."""
    start = html.index(f'id="{name}"')
    return html[start : html.index("</section>", start)]
