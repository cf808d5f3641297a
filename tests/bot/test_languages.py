"""One locale policy end to end: replies, lessons, broadcasts and nudges in the same languages.

A learner reads their own language, then their cohort's, then ``LT_DEFAULT_LOCALE``'s, then
English: in what the bot answers and in what the delivery worker sends alike.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.texts import privacy_notice
from learntogether.config import Settings
from learntogether.db.models import BroadcastKind, User
from learntogether.i18n import create_i18n
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from learntogether.services import broadcasts
from learntogether.services.actors import SYSTEM
from learntogether.services.outbox import RESUME_CALLBACK
from tests.content.samples import lesson
from tests.delivery.conftest import committed_broadcast
from tests.delivery.workers import WorkerFactory
from tests.factories import (
    create_cohort,
    create_learner,
    eventually,
    find_user,
    import_sample_curriculum,
)
from tests.standin import BotAPIStandIn, button_texts, parse_html


def romani_else_bulgarian(message: str) -> str:
    """A UI string as a Romani learner in a Bulgarian cohort should read it."""
    i18n = create_i18n()
    romani = i18n.gettext(message, locale="rom")
    return romani if romani != message else i18n.gettext(message, locale="bg")


def plain(html: str) -> str:
    return parse_html(html)[0]


async def nudge(session_maker: async_sessionmaker[AsyncSession], learner: User) -> None:
    async with session_maker() as session:
        await broadcasts.create_for_learners(
            session, kind=BroadcastKind.NUDGE, user_ids=[learner.id], actor=SYSTEM
        )
        await session.commit()


def is_nudge(message: dict[str, Any]) -> bool:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return any(button.get("callback_data") == RESUME_CALLBACK for row in rows for button in row)


async def test_romani_learner_in_a_bulgarian_cohort_reads_bulgarian_in_lessons_broadcasts_and_nudges(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    start_worker: WorkerFactory,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")  # Bulgarian
        await session.commit()
    learner = await create_learner(session_maker, 8101, locale="rom", cohort="SLV1")
    # Telegram's language plays no part once the learner chose theirs.
    mira = standin.add_user(8101, first_name="Mira", language_code="en")

    await mira.send("/lessons")
    catalogue = await mira.next_message()
    assert "Смесената класна стая" in catalogue["text"]
    await mira.press(button_texts(catalogue)[0])
    track = await mira.wait_for(lambda m: "Какво е сегрегация" in str(button_texts(m)))
    await mira.press(next(text for text in button_texts(track) if "Какво е сегрегация" in text))
    step = await mira.wait_for(lambda m: "Сегрегацията разделя децата." in m["text"])
    header = romani_else_bulgarian("<b>{title}</b> · step {number} of {count}")
    assert plain(header.format(title="Какво е сегрегация", number=1, count=2)) in step["text"]

    start_worker()
    texts = {"en": "Workshop on Friday", "bg": "Работилница в петък"}
    await committed_broadcast(session_maker, texts)
    broadcast = await mira.wait_for(lambda m: m["text"] in texts.values())
    assert broadcast["text"] == texts["bg"]

    await nudge(session_maker, learner)
    nudged = await mira.wait_for(is_nudge)
    expected = romani_else_bulgarian("Your next lesson: <b>{title}</b>")
    assert nudged["text"] == plain(expected.format(title="Какво е сегрегация"))
    (continue_button,) = button_texts(nudged)
    expected = romani_else_bulgarian("Continue: {title}")
    assert continue_button == expected.format(title="Какво е сегрегация")
    assert expected != "Continue: {title}"


async def test_romani_newcomer_by_a_bulgarian_invite_link_reads_bulgarian_where_romani_lacks(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")  # Bulgarian
        await session.commit()
    # Telegram says English: the invite link's cohort still comes before it is any use.
    mira = standin.add_user(8301, first_name="Mira", language_code="en")
    await mira.send("/start c-SLV1")
    await mira.next_message()
    await mira.press("Romani (partial)")
    await mira.wait_for(
        lambda m: "✓ Български" in button_texts(m) and "Romani (partial)" not in button_texts(m)
    )  # the language read best
    await mira.press("✓ Български")
    question = romani_else_bulgarian("Which of these describes you best?")
    assert question != "Which of these describes you best?"
    roles = await mira.wait_for(lambda m: m["text"] == question)
    await mira.press(button_texts(roles)[0])
    notice = await mira.wait_for(lambda m: "/mydata" in m["text"])
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale("rom>bg"):
        expected_notice = privacy_notice()
    assert expected_notice.startswith("<b>Вашата поверителност</b>")
    assert notice["text"].startswith(plain(expected_notice))
    await mira.press(button_texts(notice)[0])  # agree
    await mira.wait_for(lambda m: len(button_texts(m)) == 1)  # the municipality's skip
    learner = await eventually(lambda: find_user(session_maker, 8301))
    assert learner.locale == "rom"


async def test_default_locale_speaks_to_a_learner_without_a_language_in_a_cohort_without_one(
    standin: BotAPIStandIn,
    bot_settings: Settings,
    start_worker: WorkerFactory,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    spanish = lesson(partial=["es"])
    spanish["title"]["es"] = "Qué es la segregación"
    spanish["steps"][0]["text"]["es"] = "La <b>segregación</b> separa a los niños."
    await import_sample_curriculum(
        session_maker, tmp_path / "lessons", {"01-what-segregation-is.yaml": spanish}
    )
    async with session_maker() as session:
        cohort = await create_cohort(session, code="BRU1", name="Brussels teachers")
        cohort.locale = None
        await session.commit()
    learner = await create_learner(session_maker, 8201, cohort="BRU1")
    async with session_maker() as session:
        speechless = await session.get(User, learner.id)
        assert speechless is not None
        speechless.locale = None  # as an assisted participant enrolled without one can be
        await session.commit()
    leo = standin.add_user(8201, first_name="Leo", language_code="de")
    settings = bot_settings.model_copy(update={"default_locale": "es"})
    parts = build_bot_parts(settings, session_maker)
    assert parts is not None
    polling = asyncio.create_task(run_polling(parts, polling_timeout=1))
    try:
        await leo.send("/help")
        help_text = await leo.next_message()
        assert help_text["text"].startswith(
            create_i18n().gettext("Here is what I can do:", locale="es")
        )
        await leo.send("/lessons")
        catalogue = await leo.next_message()
        await leo.press(button_texts(catalogue)[0])
        track = await leo.wait_for(lambda m: "Qué es la segregación" in str(button_texts(m)))
        await leo.press(next(t for t in button_texts(track) if "Qué es la segregación" in t))
        await leo.wait_for(lambda m: "La segregación separa a los niños." in m["text"])
    finally:
        await parts.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)

    start_worker(default_locale="es")
    texts = {"en": "Workshop on Friday", "es": "Taller el viernes"}
    await committed_broadcast(session_maker, texts, cohort="BRU1")
    broadcast = await leo.wait_for(lambda m: m["text"] in texts.values())
    assert broadcast["text"] == texts["es"]


def english_with_a_bulgarian_translation() -> dict[str, str]:
    """Phrases of the English interface (and of the sample lesson) that have a Bulgarian
    translation, each mapped to the string it comes from: none may reach a learner who reads
    Romani then Bulgarian. Phrases are the text between placeholders and tags, of three words
    or more, and not also in the Bulgarian or Romani translation."""
    i18n = create_i18n()
    sources: dict[str, tuple[str, str]] = {}
    for message in i18n.locales["bg"]._catalog:  # type: ignore[attr-defined]
        english = message if isinstance(message, str) else message[0]
        if not english:
            continue
        bulgarian = i18n.gettext(english, locale="bg")
        romani = i18n.gettext(english, locale="rom")
        if bulgarian != english:
            sources[english] = (bulgarian, romani if romani != english else "")
    for text in ("Segregation separates children.", "The court ruled in 2007."):
        sources[text] = ("", "")
    phrases: dict[str, str] = {}
    for english, translations in sources.items():
        for piece in re.split(r"\{[^}]*\}|<[^>]+>|\n", english):
            phrase = piece.strip(" .,:;!?()—–-")
            if len(phrase.split()) >= 3 and not any(phrase in other for other in translations):
                phrases[phrase] = english
    return phrases


def said_to_the_learner(standin: BotAPIStandIn, after: int) -> list[str]:
    """Every text the bot sent or showed since call ``after``: messages, edits, buttons, alerts,
    polls, captions."""
    said: list[str] = []
    for call in standin.calls[after:]:
        params = call.params
        for field in ("text", "caption", "question"):
            if isinstance(params.get(field), str):
                said.append(
                    plain(params[field]) if call.method != "answerCallbackQuery" else params[field]
                )
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if isinstance(markup, dict):
            said.extend(
                button.get("text", "")
                for row in markup.get("inline_keyboard", [])
                for button in row
            )
        for option in params.get("options") or []:
            said.append(option.get("text", "") if isinstance(option, dict) else str(option))
    return said


async def test_a_romani_learner_in_a_bulgarian_cohort_never_gets_english_where_bulgarian_exists(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    start_worker: WorkerFactory,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")  # Bulgarian
        await session.commit()
    # Telegram says English: it must play no part.
    mira = standin.add_user(8401, first_name="Mira", language_code="en")

    # Onboarding: Romani, which is partial, then the language read best.
    await mira.send("/start c-SLV1")
    greeting = await mira.next_message()
    assert "Romani (partial)" in button_texts(greeting)
    # The greeting asks for the language in Telegram's, before there is a choice: what follows
    # is checked.
    chosen_from = len(standin.calls)
    await mira.press("Romani (partial)")
    reads = await mira.wait_for(
        lambda m: "✓ Български" in button_texts(m) and "Romani (partial)" not in button_texts(m)
    )
    assert "Română" in button_texts(reads) and "Romani (partial)" not in button_texts(reads)
    await mira.press("✓ Български")
    roles = await mira.wait_for(lambda m: len(button_texts(m)) == 8)
    await mira.press(button_texts(roles)[0])
    notice = await mira.wait_for(lambda m: "/mydata" in m["text"])
    await mira.press(button_texts(notice)[0])  # agree
    await mira.wait_for(lambda m: len(button_texts(m)) == 1)  # the municipality's skip
    await mira.press(button_texts(mira.messages[-1])[0])
    await mira.wait_for(lambda m: "18" in button_texts(m))
    await mira.press("18")
    await mira.wait_for(lambda m: "18:00" in button_texts(m))
    await mira.press("18:00")
    done = await mira.wait_for(lambda m: "Какво е сегрегация" in str(button_texts(m)))
    learner = await eventually(lambda: find_user(session_maker, 8401))
    assert (learner.locale, learner.reads_locale) == ("rom", "bg")

    # A lesson, its honest notice and its quiz.
    await mira.press(button_texts(done)[0])
    step = await mira.wait_for(lambda m: "Сегрегацията разделя децата." in m["text"])
    # The languages are named by the catalog the sentence came from, never a Bulgarian sentence
    # with the Romani catalog's "romani" in it.
    sentence = "<i>This lesson is not yet in {language}; here it is in {shown}.</i>"
    i18n = create_i18n()
    catalog = "rom" if i18n.gettext(sentence, locale="rom") != sentence else "bg"
    notice_text = i18n.gettext(sentence, locale=catalog).format(
        language=i18n.gettext("Romani", locale=catalog),
        shown=i18n.gettext("Bulgarian", locale=catalog),
    )
    assert plain(notice_text) in step["text"]
    assert catalog == "rom" or "не е на ромски" in step["text"]
    await mira.press(button_texts(step)[-1])  # next
    second = await mira.wait_for(lambda m: "Съдът реши през 2007 г." in m["text"])
    await mira.press(button_texts(second)[-1])  # start the quiz
    await standin.wait_for_call("sendPoll")

    # /settings, its reminder and time zone pickers.
    await mira.send("/settings")
    menu = await mira.wait_for(lambda m: len(button_texts(m)) == 8)
    await mira.press(button_texts(menu)[4])  # the reminder time
    hours = await mira.wait_for(lambda m: "07" in button_texts(m))
    await mira.press(button_texts(hours)[-1])  # back to the settings
    menu = await mira.wait_for(lambda m: len(button_texts(m)) == 8)
    await mira.press(button_texts(menu)[5])  # the time zone
    await mira.wait_for(lambda m: "Испания" in button_texts(m))

    # A broadcast and a nudge.
    start_worker()
    texts = {"en": "Workshop on Friday", "bg": "Работилница в петък"}
    await committed_broadcast(session_maker, texts)
    await mira.wait_for(lambda m: m.get("text") == texts["bg"])
    await nudge(session_maker, learner)
    await mira.wait_for(is_nudge)

    phrases = english_with_a_bulgarian_translation()
    english = [
        (phrase, source, text)
        for text in said_to_the_learner(standin, chosen_from)
        for phrase, source in phrases.items()
        if phrase in text
    ]
    assert english == [], english
