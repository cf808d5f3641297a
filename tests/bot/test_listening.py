"""Listening end to end through the Bot API stand-in: a learner who would rather listen gets a
recorded step as a voice note (uploaded once per bot, then sent by file_id), and text steps
around it still come and go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Role, User
from learntogether.i18n import create_i18n
from learntogether.runtime import BotParts
from learntogether.services import learners
from learntogether.services.reports.participation import participation
from learntogether.services.reports.query import GroupBy
from tests.bot.steps import begin_in_english, finish_onboarding
from tests.content.samples import lesson
from tests.factories import create_learner, eventually, find_user, import_sample_curriculum
from tests.oggopus import ogg_opus
from tests.standin import BotAPIStandIn, SimUser, button_texts
from tests.standin.records import UploadedFile

RECORDING = ogg_opus(4.5)

pytestmark = pytest.mark.usefixtures("curriculum")


@pytest.fixture
async def curriculum(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    """The sample lesson (en, bg) with its second step recorded in Bulgarian."""
    recorded = lesson(audience=["teacher", "parent"])
    recorded["steps"][1]["audio"] = {"bg": "audio/court.bg.ogg"}
    (tmp_path / "demo" / "audio").mkdir(parents=True)
    (tmp_path / "demo" / "audio" / "court.bg.ogg").write_bytes(RECORDING)
    await import_sample_curriculum(
        session_maker, tmp_path, {"01-what-segregation-is.yaml": recorded}
    )


def bulgarian(message: str) -> str:
    return create_i18n().gettext(message, locale="bg")


async def parent(
    session_maker: async_sessionmaker[AsyncSession],
    telegram_id: int,
    *,
    listens: bool,
    locale: str = "bg",
    reads: str | None = None,
) -> None:
    """A parent who joined in ``locale`` (reading ``reads`` best, for Romani) and chose to
    listen, or to read."""
    learner = await create_learner(session_maker, telegram_id, locale=locale, role=Role.PARENT)
    async with session_maker() as session:
        stored = await session.get(User, learner.id)
        assert stored is not None
        await learners.set_locale(session, learner=stored, locale=locale, reads=reads)
        await learners.set_listening(session, learner=stored, prefers_audio=listens)
        await session.commit()


async def open_the_lesson(user: SimUser) -> dict[str, Any]:
    """/lessons, the track, the lesson: its first step (text: it has no recording)."""
    await user.send("/lessons")
    catalogue = await user.next_message()
    await user.press(button_texts(catalogue)[0])
    await user.wait_for(lambda m: "Какво е сегрегация" in " ".join(button_texts(m)))
    await user.press("🆕 Какво е сегрегация")
    return await user.wait_for(lambda m: "Сегрегацията" in m.get("text", ""))


def is_voice(message: dict[str, Any]) -> bool:
    return "voice" in message


async def test_a_listening_parent_hears_the_recorded_step_and_reads_the_others(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await parent(session_maker, 7001, listens=True)
    ana = standin.add_user(7001, first_name="Ана", language_code="bg")
    first = await open_the_lesson(ana)
    assert not is_voice(first)

    await ana.press(bulgarian("Next ▶"))
    voice = await ana.wait_for(is_voice)

    assert voice["voice"]["duration"] == 5
    assert voice["voice"]["mime_type"] == "audio/ogg"
    assert voice["caption"].startswith("🔊 Какво е сегрегация")
    assert "\n" not in voice["caption"]
    # The same buttons as the text step would have: its link, back, on.
    assert button_texts(voice) == ["Прочетете", bulgarian("◀ Back"), bulgarian("Start the quiz ▶")]
    # The text step it replaced is gone, not left with stale buttons.
    assert first["message_id"] not in [message["message_id"] for message in ana.messages]
    [uploaded] = standin.voices
    assert uploaded.content == RECORDING

    # Back to the text step, and forward again: the voice is sent by its file_id.
    await ana.press(bulgarian("◀ Back"))
    await ana.wait_for(lambda m: "Сегрегацията" in m.get("text", ""))
    assert not any(is_voice(message) for message in ana.messages)
    await ana.press(bulgarian("Next ▶"))
    again = await ana.wait_for(is_voice)
    assert again["voice"]["file_id"] == voice["voice"]["file_id"]

    # From the voice note into the quiz: a text message again.
    await ana.press(bulgarian("Start the quiz ▶"))
    await ana.wait_for(lambda m: "D.H." in m.get("text", "") or "poll" in m)
    assert not any(is_voice(message) for message in ana.messages)

    # A second listener gets the same file_id: no second upload.
    await parent(session_maker, 7002, listens=True)
    boris = standin.add_user(7002, first_name="Борис", language_code="bg")
    await open_the_lesson(boris)
    await boris.press(bulgarian("Next ▶"))
    heard = await boris.wait_for(is_voice)

    assert heard["voice"]["file_id"] == voice["voice"]["file_id"]
    assert len(standin.voices) == 1
    # What the learners were sent: a call the stand-in refused (a flood limit under a loaded
    # machine) and its retry are one voice note, not two.
    sent = [call.params["voice"] for call in standin.calls_of("sendVoice") if call.ok]
    assert [type(value) for value in sent] == [UploadedFile, str, str]

    # Reach: three steps heard (Ана twice, Борис once), beside the lessons completed.
    async def heard_so_far() -> int | None:
        async with session_maker() as session:
            table = await participation(session, group_by=GroupBy.ROLE)
        row = next((row for row in table.rows if row["role"] == "parent"), None)
        return int(row["listened"]) if row and row["listened"] == 3 else None

    assert await eventually(heard_so_far) == 3


async def test_a_reading_parent_gets_the_recorded_step_as_text(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await parent(session_maker, 7003, listens=False)
    vera = standin.add_user(7003, first_name="Вера", language_code="bg")
    await open_the_lesson(vera)

    await vera.press(bulgarian("Next ▶"))
    await vera.wait_for(lambda m: "Съдът реши през 2007 г." in m.get("text", ""))

    assert standin.calls_of("sendVoice") == []


async def test_an_english_listener_gets_no_bulgarian_recording(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await parent(session_maker, 7004, listens=True, locale="en")
    emil = standin.add_user(7004, first_name="Emil", language_code="en")
    await emil.send("/lessons")
    catalogue = await emil.next_message()
    await emil.press(button_texts(catalogue)[0])
    await emil.wait_for(lambda m: "🆕 What segregation is" in button_texts(m))
    await emil.press("🆕 What segregation is")
    await emil.wait_for(lambda m: "step 1 of 2" in m.get("text", ""))
    await emil.press("Next ▶")
    await emil.wait_for(lambda m: "The court ruled in 2007." in m.get("text", ""))

    assert standin.calls_of("sendVoice") == []


async def test_parents_are_asked_when_they_join_and_anyone_can_switch_in_settings(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    petra = standin.add_user(7005, first_name="Petra", language_code="en")
    await begin_in_english(petra)
    await finish_onboarding(petra, role="Parent", municipality="Sliven")
    question = await petra.wait_for(lambda m: "Would you rather listen" in m.get("text", ""))
    assert button_texts(question) == ["🔊 I'd rather listen", "📖 I'd rather read"]

    await petra.press("🔊 I'd rather listen")
    await petra.wait_for(lambda m: "will come as voice messages" in m.get("text", ""))
    stored = await find_user(session_maker, 7005)
    assert stored is not None
    assert stored.prefers_audio

    await petra.send("/settings")
    menu = await petra.wait_for(lambda m: "Lessons: listened to where recorded" in m["text"])
    assert "📖 I'd rather read" in button_texts(menu)
    await petra.press("📖 I'd rather read")
    await petra.wait_for(lambda m: "Lessons: read" in m["text"])
    stored = await find_user(session_maker, 7005)
    assert stored is not None
    assert not stored.prefers_audio


async def test_a_teacher_is_not_asked_when_they_join(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    tom = standin.add_user(7006, first_name="Tom", language_code="en")
    await begin_in_english(tom)
    await finish_onboarding(tom, role="Teacher", municipality="Sliven")
    await tom.send("/help")
    await tom.wait_for(lambda m: "Here is what I can do" in m.get("text", ""))

    assert not any("Would you rather listen" in m.get("text", "") for m in tom.messages)


async def test_a_double_tap_into_a_recorded_step_sends_one_voice_note(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await parent(session_maker, 7007, listens=True)
    dana = standin.add_user(7007, first_name="Дана", language_code="bg")
    first = await open_the_lesson(dana)

    await dana.press(bulgarian("Next ▶"), first)
    await dana.press(bulgarian("Next ▶"), first)
    await dana.wait_for(is_voice)

    async def both_answered() -> bool | None:
        return not standin.unanswered_callback_queries() or None

    await eventually(both_answered)
    assert len(standin.calls_of("sendVoice")) == 1
    assert [message["message_id"] for message in dana.messages if is_voice(message)] == [
        standin.calls_of("sendVoice")[0].result["message_id"]
    ]


async def test_a_listener_reopening_the_lesson_at_a_recorded_step_is_told_its_language(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """A Romani parent who reads Bulgarian: the lesson is not in Romani, and the caption of the
    voice note they come back to says so, as the text step above it did."""
    await parent(session_maker, 7011, listens=True, locale="rom", reads="bg")
    mira = standin.add_user(7011, first_name="Мира", language_code="bg")
    first = await open_the_lesson(mira)
    notice = first["text"].split("\n\n")[1]
    assert "на български" in notice, first["text"]  # "not yet in Romani; here in Bulgarian"
    await mira.press("Angle ▶")  # Romani has this one
    heard = await mira.wait_for(is_voice)
    assert notice not in heard["caption"]  # moving on inside the lesson: said once is enough

    await mira.send("/lessons")
    catalogue = await mira.wait_for(lambda m: m["message_id"] > heard["message_id"])
    await mira.press(button_texts(catalogue)[0])
    lessons = await mira.wait_for(
        lambda m: (
            any("Какво е сегрегация" in text for text in button_texts(m))
            and m["message_id"] > heard["message_id"]
        )
    )
    await mira.press(next(t for t in button_texts(lessons) if "Какво е сегрегация" in t))
    again = await mira.wait_for(lambda m: is_voice(m) and m["message_id"] > heard["message_id"])
    assert again["caption"].startswith("🔊 ") and notice in again["caption"]
