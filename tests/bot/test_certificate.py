"""Completing a track in the bot sends a PDF certificate whose text is in the learner's script."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import CertificatePdf
from learntogether.db.models import User
from learntogether.runtime import BotParts
from learntogether.services import certificates
from tests.factories import create_learner, import_sample_curriculum
from tests.pdf_text import page_text
from tests.standin import BotAPIStandIn, SimUser, button_texts


def last_button(message: dict[str, Any]) -> str:
    text: str = message["reply_markup"]["inline_keyboard"][-1][-1]["text"]
    return text


async def pass_sample_lesson(user: SimUser) -> None:
    """Take the sample track's one lesson in Bulgarian and pass it: the track is completed."""
    await user.send("/lessons")
    catalogue = await user.next_message()
    await user.press(catalogue["reply_markup"]["inline_keyboard"][0][0]["text"])
    await user.wait_for(lambda m: "🆕 Какво е сегрегация" in str(m.get("reply_markup")))
    await user.press("🆕 Какво е сегрегация")
    first_step = await user.wait_for(lambda m: "Сегрегацията" in m["text"])
    await user.press(last_button(first_step))  # next
    second_step = await user.wait_for(lambda m: "2007" in m["text"])
    await user.press(last_button(second_step))  # start the quiz: its first question is a quiz poll
    poll = await user.wait_for(lambda m: "poll" in m)
    await user.answer_poll(poll, [0])
    # The vote's feedback comes with the next question.
    await user.wait_for(lambda m: "✅" in m.get("text", "") and "вреди" in m["text"])
    await user.press("Вярно")


async def complete_sample_track(user: SimUser) -> dict[str, Any]:
    """The sample track completed: the question which name to print."""
    await pass_sample_lesson(user)
    return await user.wait_for(lambda m: "🎓" in m.get("text", ""))


async def earn_certificate(user: SimUser) -> dict[str, Any]:
    """The sample track completed and Telegram's name accepted: the certificate's message."""
    await complete_sample_track(user)
    await user.press(f"✓ Печат на „{user.first_name}“")
    return await user.wait_for(lambda m: "document" in m)


async def test_completing_the_track_sends_a_certificate_with_cyrillic_text(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await create_learner(session_maker, 8001, locale="bg", first_name="Иван")
    ivan = standin.add_user(8001, first_name="Иван", language_code="bg")
    document = await earn_certificate(ivan)
    assert "reply_markup" not in document  # no lesson left to continue with
    assert document["document"]["file_name"].startswith("certificate-demo-")
    text = page_text(standin.documents[-1].content)
    assert "Иван" in text
    assert "Смесената класна стая" in text
    assert "Сертификат" in text
    assert "TO LEARN TOGETHER" in text  # LT_PROGRAMME_NAME's default


async def test_progress_lists_certificates_and_sends_each_pdf_again(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await create_learner(session_maker, 8002, locale="bg", first_name="Иван")
    ivan = standin.add_user(8002, first_name="Иван", language_code="bg")
    first = await earn_certificate(ivan)
    await ivan.send("/progress")
    listing = await ivan.wait_for(lambda m: "Смесената класна стая," in m.get("caption", ""))
    assert button_texts(listing) == ["📄 Смесената класна стая"]
    documents = len(standin.documents)
    await ivan.press("📄 Смесената класна стая", listing)
    again = await ivan.wait_for(
        lambda m: "document" in m and m["message_id"] != first["message_id"]
    )
    assert again["document"]["file_name"] == first["document"]["file_name"]
    assert len(standin.documents) == documents + 1
    assert "Иван" in page_text(standin.documents[-1].content)


async def test_a_button_for_someone_elses_certificate_sends_nothing(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await create_learner(session_maker, 8003, locale="bg", first_name="Иван")
    await create_learner(session_maker, 8004, locale="en", first_name="Eve")
    ivan = standin.add_user(8003, first_name="Иван", language_code="bg")
    await earn_certificate(ivan)
    eve = standin.add_user(8004, first_name="Eve", language_code="en")
    await eve.send("/progress")
    shown = await eve.next_message()
    assert "certificates" not in shown.get("caption", "") + shown.get("text", "")
    await eve.send("/lessons")
    catalogue = await eve.next_message()
    documents = len(standin.documents)
    query = await eve.press_forged(CertificatePdf(certificate_id=1).pack(), catalogue)
    answered = await standin.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query
    )
    assert "older message" in answered.params["text"]
    await asyncio.sleep(0.2)
    assert len(standin.documents) == documents


async def test_a_typed_name_is_printed_kept_as_the_learners_data_and_erased_with_it(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await create_learner(session_maker, 8005, locale="bg", first_name="Ваня")
    vanya = standin.add_user(8005, first_name="Ваня", language_code="bg")
    question = await complete_sample_track(vanya)
    assert "Ваня" in question["text"]
    assert button_texts(question) == ["✓ Печат на „Ваня“"]
    await vanya.send("И" * 201)
    await vanya.wait_for(lambda m: "200" in m.get("text", ""))
    assert not any("document" in m for m in vanya.messages)
    await vanya.send("  Иванка   Петрова  ")
    document = await vanya.wait_for(lambda m: "document" in m)
    code = document["document"]["file_name"].rsplit("-", 1)[1].removesuffix(".pdf")
    assert "Иванка Петрова" in page_text(standin.documents[-1].content)
    async with session_maker() as session:
        assert (await certificates.find_certificate(session, code)).name == "Иванка Петрова"

    await vanya.send("/mydata")
    export = await vanya.wait_for(lambda m: "document" in m and "my-data" in str(m))
    data = json.loads(standin.documents[-1].content)
    assert data["profile"]["name_on_certificates"] == "Иванка Петрова"
    assert data["certificates"][0]["name"] == "Иванка Петрова"
    assert export["document"]["file_name"].endswith(".json")

    await vanya.send("/delete")
    warning = await vanya.wait_for(lambda m: "изтрий" in str(m.get("reply_markup")))
    assert "няма да показва името ви" in warning["text"]
    await vanya.press("Да, изтрий данните ми")
    await vanya.wait_for(lambda m: "Данните ви са изтрити" in m.get("text", ""))
    async with session_maker() as session:
        assert (await certificates.find_certificate(session, code)).name is None
        erased = await session.scalar(select(User).where(User.first_name.is_(None)))
        assert erased is not None and erased.certificate_name is None


async def test_a_learner_who_chose_a_name_is_not_asked_again(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    learner = await create_learner(session_maker, 8006, locale="bg", first_name="Ана")
    async with session_maker() as session:
        await session.execute(
            update(User).where(User.id == learner.id).values(certificate_name="Д-р Ана Колева")
        )
        await session.commit()
    ana = standin.add_user(8006, first_name="Ана", language_code="bg")
    await pass_sample_lesson(ana)
    await ana.wait_for(lambda m: "document" in m)
    assert not any("🎓" in m.get("text", "") for m in ana.messages)
    assert "Д-р Ана Колева" in page_text(standin.documents[-1].content)
