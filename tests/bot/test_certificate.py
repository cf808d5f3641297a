"""Completing a track in the bot sends a PDF certificate whose text is in the learner's script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.runtime import BotParts
from tests.factories import create_learner, import_sample_curriculum
from tests.pdf_text import page_text
from tests.standin import BotAPIStandIn


def last_button(message: dict[str, Any]) -> str:
    text: str = message["reply_markup"]["inline_keyboard"][-1][-1]["text"]
    return text


async def test_completing_the_track_sends_a_certificate_with_cyrillic_text(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    await create_learner(session_maker, 8001, locale="bg", first_name="Иван")
    ivan = standin.add_user(8001, first_name="Иван", language_code="bg")
    await ivan.send("/lessons")
    catalogue = await ivan.next_message()
    await ivan.press(catalogue["reply_markup"]["inline_keyboard"][0][0]["text"])
    await ivan.wait_for(lambda m: "🆕 Какво е сегрегация" in str(m.get("reply_markup")))
    await ivan.press("🆕 Какво е сегрегация")
    first_step = await ivan.wait_for(lambda m: "Сегрегацията" in m["text"])
    await ivan.press(last_button(first_step))  # next
    second_step = await ivan.wait_for(lambda m: "2007" in m["text"])
    await ivan.press(last_button(second_step))  # start the quiz: its first question is a quiz poll
    poll = await ivan.wait_for(lambda m: "poll" in m)
    await ivan.answer_poll(poll, [0])
    # The vote's feedback comes with the next question.
    await ivan.wait_for(lambda m: "✅" in m.get("text", "") and "вреди" in m["text"])
    await ivan.press("Вярно")
    document = await ivan.wait_for(lambda m: "document" in m)
    assert "reply_markup" not in document  # no lesson left to continue with
    assert document["document"]["file_name"].startswith("certificate-demo-")
    text = page_text(standin.documents[-1].content)
    assert "Иван" in text
    assert "Смесената класна стая" in text
    assert "Сертификат" in text
