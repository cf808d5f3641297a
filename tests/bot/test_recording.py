"""Mediators record lesson steps in the chat; an admin approves or rejects them through the API.

End to end: the bot polls the Bot API stand-in, the admin API runs over httpx, the delivery
worker tells the recorder. ``record_step`` walks a mediator through /record, so a test of
listening can start from a recording approved here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.app import create_app
from learntogether.config import Settings
from learntogether.db.models import (
    AuditLog,
    Media,
    RecordingStatus,
    StepRecording,
    User,
)
from learntogether.delivery import DeliveryWorker
from learntogether.i18n import create_i18n
from learntogether.runtime import BotParts
from learntogether.services import cohorts
from learntogether.services.actors import Actor
from tests.bot.test_listening import open_the_lesson, parent
from tests.content.samples import lesson
from tests.factories import (
    create_api_token,
    create_cohort,
    create_learner,
    import_sample_curriculum,
)
from tests.oggopus import ogg_opus
from tests.standin import BotAPIStandIn, SimUser, button_texts

LESSON = "what-segregation-is"
RECORDINGS = "/api/v1/recordings"


@pytest.fixture
async def rosa(
    standin: BotAPIStandIn, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> SimUser:
    """Rosa (7701) mediates SLV1; the sample track is published (its lesson for parents too)."""
    await import_sample_curriculum(
        session_maker,
        tmp_path / "lessons",
        {"01-what-segregation-is.yaml": lesson(audience=["teacher", "parent"])},
    )
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    learner = await create_learner(session_maker, 7701, first_name="Rosa")
    async with session_maker() as session:
        await cohorts.add_mediator(
            session, code="SLV1", user_id=learner.id, actor=Actor.system("test")
        )
        await session.commit()
    return standin.add_user(7701, first_name="Rosa", language_code="en")


@pytest.fixture
async def api(session_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncClient]:
    """The admin API, with an admin's token."""
    app = create_app(Settings(_env_file=None), session_maker=session_maker)
    token = await create_api_token(session_maker)
    async with AsyncClient(
        transport=ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


async def record_step(
    user: SimUser, *, step: str, language: str, dialect: str | None = None
) -> dict[str, Any]:
    """/record → the sample track → its lesson → ``step`` → ``language`` (→ ``dialect``) →
    agree; returns the message asking for the voice note."""
    before = max((message["message_id"] for message in user.messages), default=0)

    async def shown(expect: str) -> dict[str, Any]:
        return await user.wait_for(
            lambda m: m["message_id"] > before and expect in m.get("text", "")
        )

    await user.send("/record")
    tracks = await shown("Which track?")
    assert button_texts(tracks) == ["The mixed classroom"]
    await user.press("The mixed classroom", tracks)
    await user.press("What segregation is", await shown("Which lesson?"))
    await user.press(step, await shown("which step will you record?"))
    await user.press(language, await shown("In which language will you record it?"))
    if dialect is not None:
        await shown("Romani is spoken")
        await user.send(dialect)
    await user.press("I agree", await shown("Do you agree that it is published"))
    return await shown("hold the microphone button")


def thanked_after(asked: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A message after ``asked`` saying the recording waits for review."""
    return lambda m: (
        m["message_id"] > asked["message_id"]
        and "waits for the programme team" in m.get("text", "")
    )


async def files_kept(session_maker: async_sessionmaker[AsyncSession]) -> int:
    async with session_maker() as session:
        return await session.scalar(select(func.count()).select_from(Media)) or 0


async def recordings_stored(session_maker: async_sessionmaker[AsyncSession]) -> list[StepRecording]:
    async with session_maker() as session:
        return list(await session.scalars(select(StepRecording).order_by(StepRecording.id)))


async def test_a_mediator_records_a_step_in_romani_and_an_admin_approves_it_into_the_lesson(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    delivery: DeliveryWorker,
    rosa: SimUser,
    api: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    step = await record_step(rosa, step="2", language="Romani (partial)", dialect="Kalderash")
    assert "up to 3" in str(step["text"])
    voice = ogg_opus(6.0)
    await rosa.send_voice(voice, duration=6)
    thanks = await rosa.wait_for(lambda m: "waits for the programme team" in m.get("text", ""))
    assert button_texts(thanks) == ["Withdraw it"]

    [recording] = await recordings_stored(session_maker)
    assert (recording.step_index, recording.locale, recording.dialect) == (1, "rom", "Kalderash")
    assert (recording.status, recording.credit) == (RecordingStatus.PENDING, "Rosa")

    queue = (await api.get(RECORDINGS, params={"status": "pending"})).json()
    assert [(item["lesson"], item["step"], item["locale"]) for item in queue["items"]] == [
        (LESSON, 2, "rom")
    ]
    heard = await api.get(f"{RECORDINGS}/{recording.id}/audio")
    assert (heard.status_code, heard.headers["content-type"], heard.content) == (
        200,
        "audio/ogg",
        voice,
    )
    approved = await api.post(
        f"{RECORDINGS}/{recording.id}/approve", json={"comment": "Clear & warm."}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["published_version"] == 2

    lesson = (await api.get(f"/api/v1/lessons/{LESSON}/versions/2")).json()
    assert lesson["version"]["status"] == "published"
    audio = lesson["document"]["steps"][1]["audio"]
    assert audio["rom"]["sha256"] == recording.audio_sha256
    assert lesson["document"]["steps"][0].get("audio", {}) == {}

    told = await rosa.wait_for(lambda m: "was approved" in m.get("text", ""), timeout=10)
    assert told["text"] == (
        "Your recording of What segregation is, step 2 (Romani (partial)), was approved: "
        "learners now hear it in the lesson. Thank you!\n\nFrom the programme team: Clear & warm."
    )
    async with session_maker() as session:
        actions = list(
            await session.scalars(
                select(AuditLog.action).where(AuditLog.entity.in_(["recording", "lesson"]))
            )
        )
    assert {"approved", "new_draft", "publish"} <= set(actions)


async def test_a_rejected_recording_loses_its_audio_and_the_recorder_reads_why(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    delivery: DeliveryWorker,
    rosa: SimUser,
    api: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await record_step(rosa, step="1", language="Български")
    await rosa.send_voice(ogg_opus(3.0), duration=3)
    await rosa.wait_for(lambda m: "waits for the programme team" in m.get("text", ""))
    [recording] = await recordings_stored(session_maker)

    rejected = await api.post(
        f"{RECORDINGS}/{recording.id}/reject", json={"comment": "Too much <noise>."}
    )
    assert rejected.json()["status"] == "rejected"
    told = await rosa.wait_for(lambda m: "was not approved" in m.get("text", ""), timeout=10)
    assert told["text"].endswith("From the programme team: Too much <noise>.")
    assert (await api.get(f"{RECORDINGS}/{recording.id}/audio")).status_code == 404
    again = await api.post(f"{RECORDINGS}/{recording.id}/approve", json={})
    assert again.status_code == 409
    assert await files_kept(session_maker) == 0


async def test_the_recorder_withdraws_a_pending_recording_and_its_bytes_are_gone(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    rosa: SimUser,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await record_step(rosa, step="1", language="Français")
    await rosa.send_voice(ogg_opus(2.0), duration=2)
    thanks = await rosa.wait_for(lambda m: "waits for the programme team" in m.get("text", ""))
    await rosa.press("Withdraw it", thanks)
    await rosa.wait_for(lambda m: m.get("text") == "Your recording was withdrawn and deleted.")

    [recording] = await recordings_stored(session_maker)
    assert (recording.status, recording.audio_sha256) == (RecordingStatus.WITHDRAWN, None)
    assert await files_kept(session_maker) == 0


async def test_an_oversized_or_foreign_recording_is_refused_and_nothing_is_kept(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    rosa: SimUser,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await record_step(rosa, step="1", language="Română")
    # Telegram says it lasts 4 minutes: refused before it is downloaded.
    await rosa.send_voice(ogg_opus(2.0), duration=240)
    refused = await rosa.wait_for(lambda m: "too long" in m.get("text", ""))
    assert "up to 3 minutes" in refused["text"]
    assert standin.downloads == []
    # A "voice note" that is not OGG/Opus, and a document: refused, nothing kept.
    await rosa.send_voice(b"RIFF....WAVEfmt ", duration=3)
    await rosa.wait_for(lambda m: "not a voice note I can keep" in m.get("text", ""))
    await rosa.send_document(b"%PDF-1.7", "step.pdf", "application/pdf")
    await rosa.wait_for(lambda m: m.get("text", "").startswith("Please send a voice note"))

    assert await recordings_stored(session_maker) == []
    assert await files_kept(session_maker) == 0


async def test_someone_who_mediates_nothing_cannot_record(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    rosa: SimUser,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await create_learner(session_maker, 7702, first_name="Eve")
    eve = standin.add_user(7702, first_name="Eve", language_code="en")
    await eve.send("/record")
    assert (await eve.next_message())["text"] == "Recording lessons is for mediators."


async def test_erasing_a_mediator_withdraws_pending_recordings_and_uncredits_published_ones(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    rosa: SimUser,
    api: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    for step in (1, 2):
        asked = await record_step(rosa, step=str(step), language="Nederlands")
        await rosa.send_voice(ogg_opus(2.0 + step), duration=2 + step)
        await rosa.wait_for(thanked_after(asked))
    published, pending = await recordings_stored(session_maker)
    assert (await api.post(f"{RECORDINGS}/{published.id}/approve", json={})).status_code == 200

    await rosa.send("/delete")
    await rosa.press(
        "Yes, erase my data",
        await rosa.wait_for(lambda m: "Erase your data?" in m.get("text", "")),
    )
    await rosa.wait_for(lambda m: "Your data has been erased" in m.get("text", ""))

    published, pending = await recordings_stored(session_maker)
    assert (published.status, published.credit, published.recorder_id) == (
        RecordingStatus.APPROVED,
        None,
        None,
    )
    assert published.audio_sha256 is not None
    assert (pending.status, pending.audio_sha256) == (RecordingStatus.WITHDRAWN, None)
    async with session_maker() as session:
        kept = list(await session.scalars(select(Media.sha256)))
        assert kept == [published.audio_sha256]
        assert (await session.scalar(select(User).where(User.first_name == "Rosa"))) is None


async def romani_parent(
    standin: BotAPIStandIn, session_maker: async_sessionmaker[AsyncSession], telegram_id: int
) -> SimUser:
    """A parent who speaks Romani, reads Bulgarian best and would rather listen."""
    await parent(session_maker, telegram_id, listens=True, locale="rom", reads="bg")
    return standin.add_user(telegram_id, first_name="Mira", language_code="bg")


async def hear_second_step(user: SimUser) -> dict[str, Any]:
    """/lessons → the track → the lesson → Next: the second step's message."""
    await open_the_lesson(user)
    await user.press(create_i18n().gettext("Next ▶", locale="rom>bg"))
    return await user.wait_for(lambda m: "voice" in m)


async def test_an_approved_romani_recording_is_heard_by_romani_parents_and_by_the_next_recorder(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    rosa: SimUser,
    api: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    voice = ogg_opus(6.0)
    asked = await record_step(rosa, step="2", language="Romani (partial)", dialect="Kalderash")
    await rosa.send_voice(voice, duration=6)
    await rosa.wait_for(thanked_after(asked))
    [recording] = await recordings_stored(session_maker)
    assert (await api.post(f"{RECORDINGS}/{recording.id}/approve", json={})).status_code == 200

    mira = await romani_parent(standin, session_maker, 7711)
    heard = await hear_second_step(mira)
    [uploaded] = standin.voices
    assert uploaded.content == voice
    lena = await romani_parent(standin, session_maker, 7712)
    again = await hear_second_step(lena)
    assert again["voice"]["file_id"] == heard["voice"]["file_id"]

    # Rosa opens the step to record it again: the Romani recording plays first, by its file_id.
    await rosa.send("/record")
    await rosa.press(
        "The mixed classroom", await rosa.wait_for(lambda m: "Which track?" in m.get("text", ""))
    )
    await rosa.press(
        "What segregation is", await rosa.wait_for(lambda m: "Which lesson?" in m.get("text", ""))
    )
    await rosa.press("2", await rosa.wait_for(lambda m: "which step" in m.get("text", "")))
    languages = await rosa.wait_for(lambda m: "🔊" in " ".join(button_texts(m)))
    assert "Romani (partial) 🔊" in button_texts(languages)
    assert "Български" in button_texts(languages)
    await rosa.press("Romani (partial) 🔊", languages)
    played = await rosa.wait_for(lambda m: "voice" in m)
    assert played["voice"]["file_id"] == heard["voice"]["file_id"]
    assert len(standin.voices) == 1


async def test_a_voice_note_after_the_conversation_was_lost_is_not_kept(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    rosa: SimUser,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    """A restart without Redis forgets which step was being recorded: the note is not guessed."""
    await record_step(rosa, step="1", language="Español")
    key = StorageKey(bot_id=standin.bot_id, chat_id=rosa.id, user_id=rosa.id)
    await polling_bot.dispatcher.storage.set_data(key, {})
    await rosa.send_voice(ogg_opus(2.0), duration=2)
    await rosa.wait_for(lambda m: "Send /record to choose again" in m.get("text", ""))
    assert await recordings_stored(session_maker) == []
    assert await files_kept(session_maker) == 0


async def test_a_command_or_another_screens_button_ends_the_wait_for_a_recording(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    rosa: SimUser,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    """A mediator who goes on to something else is not recording any more: a later voice note
    (an answer to an open question, say) is not taken as the step's recording."""
    key = StorageKey(bot_id=standin.bot_id, chat_id=rosa.id, user_id=rosa.id)
    await record_step(rosa, step="1", language="Español")
    await rosa.send("/lessons")
    catalogue = await rosa.wait_for(lambda m: "🆕 The mixed classroom" in button_texts(m))
    assert await polling_bot.dispatcher.storage.get_state(key) is None

    await record_step(rosa, step="2", language="Español")
    await rosa.press("🆕 The mixed classroom", catalogue)
    await rosa.wait_for(lambda m: any("What segregation is" in b for b in button_texts(m)))
    assert await polling_bot.dispatcher.storage.get_state(key) is None
    before = max(message["message_id"] for message in rosa.messages)
    await rosa.send_voice(ogg_opus(2.0), duration=2)
    reply = await rosa.wait_for(lambda m: m["message_id"] > before)
    assert "waits for the programme team" not in reply.get("text", ""), reply
    assert await recordings_stored(session_maker) == []
    assert await files_kept(session_maker) == 0
