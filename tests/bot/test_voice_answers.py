"""Open questions answered by voice, end to end: the learner speaks in the chat, the mediators of
their cohort (and admins) listen through the API, nobody else; /mydata lists it, /delete erases
the bytes; a note too long, too big or not audio at all is refused with nothing kept."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.app import create_app
from learntogether.config import Settings
from learntogether.db.models import Answer, Media, TokenRole
from learntogether.runtime import BotParts
from tests.bot.test_learning import open_first_lesson, press_and_wait, toggle
from tests.content.samples import every_kind_lesson
from tests.factories import (
    create_api_token,
    create_cohort,
    create_learner,
    import_sample_curriculum,
)
from tests.oggopus import ogg_opus
from tests.standin import BotAPIStandIn, SimUser

REFLECTIONS = "/api/v1/reflections"


@pytest.fixture
async def cohorts(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    """The every-kind lesson (its fifth question is open); cohorts SLV1 and PLV1."""
    lessons = {"01-every-kind.yaml": every_kind_lesson()}
    await import_sample_curriculum(session_maker, tmp_path / "lessons", lessons)
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await create_cohort(session, code="PLV1", name="Plovdiv")
        await session.commit()


@pytest.fixture
async def api(session_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncClient]:
    app = create_app(Settings(_env_file=None), session_maker=session_maker)
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def at_the_open_question(
    standin: BotAPIStandIn, session_maker: async_sessionmaker[AsyncSession], telegram_id: int
) -> SimUser:
    """A member of SLV1 who answered the first four questions and is asked the open one."""
    await create_learner(session_maker, telegram_id, cohort="SLV1", first_name="Zlatka")
    user = standin.add_user(telegram_id, first_name="Zlatka", language_code="en")
    await open_first_lesson(user)
    await press_and_wait(user, "Next ▶", "Second step.")
    await press_and_wait(user, "Start the quiz ▶", "Question 1 of 5")
    await press_and_wait(user, "B", "Question 2 of 5")
    await toggle(user, "A", "C")
    await press_and_wait(user, "Submit", "Question 3 of 5")
    await press_and_wait(user, "False", "Question 4 of 5")
    await press_and_wait(user, "4 · Agree", "Question 5 of 5")
    return user


async def stored(session_maker: async_sessionmaker[AsyncSession]) -> tuple[list[Answer], int]:
    """The open answers kept, and how many files media holds."""
    async with session_maker() as session:
        answers = list(await session.scalars(select(Answer).where(Answer.kind == "open")))
        files = await session.scalar(select(func.count()).select_from(Media)) or 0
    return answers, files


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.usefixtures("cohorts")
async def test_a_voice_answer_is_kept_and_heard_by_the_cohorts_mediators_only(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    api: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    zlatka = await at_the_open_question(standin, session_maker, 8101)
    voice = ogg_opus(20.0)
    await zlatka.send_voice(voice, duration=20)
    result = await zlatka.wait_for(lambda m: "Passed!" in m.get("text", ""))
    assert "You answered 2 of 3 correctly" in result["text"]

    [answer], files = await stored(session_maker)
    assert (answer.text, files) == (None, 1)
    assert answer.audio_sha256 is not None
    own = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    listed = (await api.get(REFLECTIONS, headers=bearer(own))).json()["items"]
    assert [(item["id"], item["audio"], item["text"]) for item in listed] == [(answer.id, True, "")]
    heard = await api.get(f"{REFLECTIONS}/{answer.id}/audio", headers=bearer(own))
    assert (heard.status_code, heard.headers["content-type"], heard.content) == (
        200,
        "audio/ogg",
        voice,
    )
    other = await create_api_token(
        session_maker, TokenRole.MEDIATOR, name="plovdiv", cohorts=["PLV1"]
    )
    assert (
        await api.get(f"{REFLECTIONS}/{answer.id}/audio", headers=bearer(other))
    ).status_code == 404
    viewer = await create_api_token(session_maker, TokenRole.VIEWER)
    assert (
        await api.get(f"{REFLECTIONS}/{answer.id}/audio", headers=bearer(viewer))
    ).status_code == 403
    admin = await create_api_token(session_maker)
    assert (
        await api.get(f"{REFLECTIONS}/{answer.id}/audio", headers=bearer(admin))
    ).content == voice


@pytest.mark.usefixtures("cohorts")
async def test_mydata_lists_the_voice_answer_and_delete_erases_its_bytes(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    zlatka = await at_the_open_question(standin, session_maker, 8102)
    await zlatka.send_voice(ogg_opus(5.0), duration=5)
    await zlatka.wait_for(lambda m: "Passed!" in m.get("text", ""))
    [answer], _files = await stored(session_maker)

    await zlatka.send("/mydata")
    await zlatka.wait_for(lambda m: "document" in m)
    exported: dict[str, Any] = json.loads(standin.documents[-1].content)
    [spoken] = [item for item in exported["answers"] if item["question"] == "think"]
    assert spoken["voice_note_sha256"] == answer.audio_sha256

    await zlatka.send("/delete")
    await zlatka.press(
        "Yes, erase my data",
        await zlatka.wait_for(lambda m: "Erase your data?" in m.get("text", "")),
    )
    await zlatka.wait_for(lambda m: "Your data has been erased" in m.get("text", ""))
    [erased], files = await stored(session_maker)
    assert (erased.audio_sha256, erased.text, files) == (None, None, 0)


@pytest.mark.usefixtures("cohorts")
async def test_a_voice_note_announced_as_too_long_is_refused_without_downloading_it(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    zlatka = await at_the_open_question(standin, session_maker, 8103)
    await zlatka.send_voice(ogg_opus(3.0), duration=150)
    refused = await zlatka.wait_for(lambda m: "too long" in m.get("text", ""))
    assert refused["text"] == (
        "That voice note is too long: it may last up to 2 minutes. Please say it again, "
        "shorter. Nothing was kept."
    )
    assert standin.downloads == []
    assert await stored(session_maker) == ([], 0)
    # The question still waits: a shorter note answers it.
    await zlatka.send_voice(ogg_opus(3.0), duration=3)
    await zlatka.wait_for(lambda m: "Passed!" in m.get("text", ""))


@pytest.mark.usefixtures("cohorts")
async def test_a_voice_note_longer_than_announced_or_not_audio_is_refused_after_download(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    zlatka = await at_the_open_question(standin, session_maker, 8104)
    # The app said 30 s; the recording itself lasts 2 min 30 s.
    await zlatka.send_voice(ogg_opus(150.0), duration=30)
    await zlatka.wait_for(lambda m: "may last up to 2 minutes" in m.get("text", ""))
    await zlatka.send_voice(b"ID3\x03 not an ogg file", duration=4)
    await zlatka.wait_for(lambda m: "not a voice note I can keep" in m.get("text", ""))
    assert len(standin.downloads) == 2
    assert await stored(session_maker) == ([], 0)


@pytest.mark.usefixtures("cohorts")
async def test_a_file_or_music_instead_of_words_is_refused_and_nothing_is_kept(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    zlatka = await at_the_open_question(standin, session_maker, 8105)
    await zlatka.send_document(b"%PDF-1.7", "answer.pdf", "application/pdf")
    await zlatka.send_audio(ogg_opus(3.0), 3, "answer.ogg", "audio/ogg")
    asked = "Please answer in your own words: write them, or hold the microphone button"
    await zlatka.wait_for(lambda _m: sum(asked in m.get("text", "") for m in zlatka.messages) == 2)
    assert standin.downloads == []
    assert await stored(session_maker) == ([], 0)
