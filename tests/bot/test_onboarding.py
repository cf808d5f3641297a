"""Onboarding end to end through the Bot API stand-in: language, role, consent, place, first lesson."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Membership, Role, User, UserStatus
from learntogether.runtime import BotParts
from learntogether.services.learners import PRIVACY_VERSION
from tests.factories import create_cohort, eventually, find_user, import_sample_curriculum
from tests.standin import BotAPIStandIn, SimUser, button_texts


@pytest.fixture
async def curriculum(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")


async def onboard(user: SimUser, *, role: str = "Teacher") -> None:
    """Through the English onboarding up to the municipality question."""
    await user.send("/start")
    await user.next_message()
    await user.press("✓ English")
    await user.wait_for(lambda m: m["text"] == "Which of these describes you best?")
    await user.press(role)
    await user.wait_for(lambda m: m["text"].startswith("Your privacy"))
    await user.press("I agree")
    await user.wait_for(lambda m: "In which municipality" in m["text"])


async def test_english_onboarding_stores_choices_and_suggests_a_first_lesson(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    curriculum: None,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    ana = standin.add_user(5001, first_name="Ana", language_code="en")
    await ana.send("/start")
    greeting = await ana.next_message()
    assert greeting["text"].startswith("Hello, Ana! Welcome to To Learn Together")
    assert greeting["reply_markup"]["inline_keyboard"][0][0]["text"] == "✓ English"
    await ana.press("✓ English")
    await ana.wait_for(lambda m: m["text"] == "Which of these describes you best?")
    assert await find_user(session_maker, 5001) is None
    await ana.press("Teacher")
    await ana.wait_for(lambda m: m["text"].startswith("Your privacy"))
    assert "We never ask about or record ethnicity." in ana.messages[-1]["text"]
    # Who reads what a learner writes to open questions is said before they agree.
    assert (
        "What you write to open questions (your reflections) is read only by the mediators of "
        "your groups and the programme team." in ana.messages[-1]["text"]
    )
    await ana.press("I agree")
    question = await ana.wait_for(lambda m: "In which municipality" in m["text"])
    await ana.send("Sliven")
    reminder = await ana.next_message()
    # Answered by typing: the question's Skip button is gone.
    await ana.wait_for(lambda m: m["message_id"] == question["message_id"] and not button_texts(m))
    # No cohort, so no clock yet: the hour first, then the country (not UTC).
    assert reminder["text"].startswith("When shall I remind you?")
    assert "UTC" not in reminder["text"]
    assert "No reminders, thanks" in button_texts(reminder)
    await ana.press("18")
    await ana.wait_for(lambda m: "18:30" in button_texts(m))
    await ana.press("18:30")
    countries = await ana.wait_for(lambda m: m["text"].startswith("Which country are you in?"))
    assert {"Bulgaria", "Spain", "Romania"} <= set(button_texts(countries))
    await ana.press("Spain")
    cities = await ana.wait_for(lambda m: "several time zones" in m["text"])
    assert {"Madrid", "Canary", "Ceuta"} <= set(button_texts(cities))
    await ana.press("Canary")
    suggestion = await ana.wait_for(lambda m: "You are all set!" in m["text"])
    assert suggestion["text"] == (
        "I will remind you every day at 18:30 (Canary time).\n\n"
        "You are all set! A good first lesson for you: What segregation is (5 min)."
    )
    assert button_texts(suggestion) == ["Continue: What segregation is"]
    learner = await eventually(lambda: find_user(session_maker, 5001))
    assert (learner.locale, learner.role, learner.municipality) == ("en", Role.TEACHER, "Sliven")
    assert learner.consent_version == PRIVACY_VERSION
    assert (learner.reminder_time, learner.reminders_enabled) == (time(18, 30), True)
    assert (learner.timezone, learner.country) == ("Atlantic/Canary", "ES")
    assert standin.unanswered_callback_queries() == []


async def test_a_learner_without_a_cohort_in_a_one_zone_country_gets_its_clock(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rui = standin.add_user(5011, first_name="Rui", language_code="en")
    await onboard(rui)
    await rui.press("Skip")
    await rui.wait_for(lambda m: m["text"].startswith("When shall I remind you?"))
    await rui.press("07")
    await rui.wait_for(lambda m: "07:05" in button_texts(m))
    await rui.press("07:05")
    await rui.wait_for(lambda m: m["text"].startswith("Which country are you in?"))
    await rui.press("Another country ▶")
    europe = await rui.wait_for(lambda m: "Portugal" in button_texts(m))
    assert len(button_texts(europe)) > 40
    await rui.press("Italy")
    done = await rui.wait_for(lambda m: "You are all set!" in m["text"])
    assert done["text"].startswith("I will remind you every day at 07:05 (Rome time).")
    learner = await eventually(lambda: find_user(session_maker, 5011))
    assert (learner.timezone, learner.country, learner.reminder_time) == (
        "Europe/Rome",
        "IT",
        time(7, 5),
    )


async def test_refusing_consent_stores_nothing(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    eve = standin.add_user(5002, first_name="Eve", language_code="en")
    await eve.send("/start")
    await eve.next_message()
    await eve.press("✓ English")
    await eve.wait_for(lambda m: m["text"] == "Which of these describes you best?")
    await eve.press("Parent")
    await eve.wait_for(lambda m: m["text"].startswith("Your privacy"))
    await eve.press("I do not agree")
    await eve.wait_for(lambda m: m["text"].startswith("Nothing about you has been stored."))
    assert await find_user(session_maker, 5002) is None


async def test_romani_is_offered_and_chosen_explicitly(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    mira = standin.add_user(5003, first_name="Mira", language_code="bg")
    await mira.send("/start")
    greeting = await mira.next_message()
    offered = button_texts(greeting)
    assert offered[0] == "✓ Български"
    assert "Romani (partial)" in offered
    await mira.press("Romani (partial)")
    reads = await mira.wait_for(
        lambda m: "✓ Български" in button_texts(m) and "Romani (partial)" not in button_texts(m)
    )
    assert button_texts(reads)[0] == "✓ Български"  # Telegram's language suggested
    await mira.press("✓ Български")
    await mira.wait_for(lambda m: len(button_texts(m)) == len(Role))
    await mira.press(
        button_texts(mira.messages[-1])[3]
    )  # roles are listed in order: the fourth is parent
    await mira.wait_for(lambda m: "/mydata" in m["text"])
    await mira.press(button_texts(mira.messages[-1])[0])  # agree
    await mira.wait_for(lambda m: len(button_texts(m)) == 1)  # the municipality's skip
    learner = await eventually(lambda: find_user(session_maker, 5003))
    assert (learner.locale, learner.reads_locale, learner.role) == ("rom", "bg", Role.PARENT)


async def test_invite_link_joins_the_cohort_after_consent(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        cohort = await create_cohort(session, code="SLV1", name="Sliven teachers")
        await session.commit()
    ivo = standin.add_user(5004, first_name="Ivo", language_code="en")
    await ivo.send("/start c-SLV1")
    await ivo.next_message()
    await ivo.press("✓ English")
    await ivo.wait_for(lambda m: m["text"] == "Which of these describes you best?")
    await ivo.press("Teacher")
    await ivo.wait_for(lambda m: m["text"].startswith("Your privacy"))
    await ivo.press("I agree")
    await ivo.wait_for(lambda m: "In which municipality" in m["text"])
    assert [message["text"] for message in ivo.messages].count(
        "You joined the group Sliven teachers."
    ) == 0
    learner = await eventually(lambda: find_user(session_maker, 5004))

    async def membership() -> Membership | None:
        async with session_maker() as session:
            return await session.scalar(select(Membership).where(Membership.user_id == learner.id))

    member = await eventually(membership)
    assert member.cohort_id == cohort.id
    assert (learner.country, learner.municipality) == ("BG", "Sliven")


async def test_bulgarian_onboarding_by_invite_link_is_bulgarian_throughout(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    curriculum: None,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV2", name="Учители от Сливен")
        await session.commit()
    ivan = standin.add_user(5010, first_name="Иван", language_code="bg")
    await ivan.send("/start c-SLV2")
    greeting = await ivan.next_message()
    assert greeting["text"].startswith("Здравейте, Иван! Добре дошли в Да учим заедно")
    assert button_texts(greeting)[0] == "✓ Български"
    await ivan.press("✓ Български")
    await ivan.wait_for(lambda m: m["text"] == "Кое от изброените ви описва най-добре?")
    await ivan.press("Учител")
    await ivan.wait_for(lambda m: m["text"].startswith("Вашата поверителност"))
    await ivan.press("Съгласявам се")
    await ivan.wait_for(lambda m: "В коя община работите или живеете?" in m["text"])
    assert "Пропускане" in button_texts(ivan.messages[-1])
    await ivan.send("Котел")
    reminder = await ivan.next_message()
    # The cohort is Bulgarian: its clock is Sofia's, and no country is asked.
    assert "София" in reminder["text"]
    await ivan.press("19")
    await ivan.wait_for(lambda m: "19:00" in button_texts(m))
    await ivan.press("19:00")
    suggestion = await ivan.wait_for(lambda m: "Всичко е готово!" in m["text"])
    assert suggestion["text"].endswith(
        "Всичко е готово! Подходящ първи урок за вас: Какво е сегрегация (5 мин.)."
    )
    assert button_texts(suggestion) == ["Продължете: Какво е сегрегация"]
    # Every word the bot said, and every button it showed, was Bulgarian.
    latin_words = {
        word
        for message in ivan.messages
        for text in (message["text"], *button_texts(message))
        for word in text.split()
        if word.isascii() and word.isalpha() and len(word) > 3
    }
    assert latin_words <= {"Telegram", "English", "Romani", "Romanes", "Nederlands"}
    learner = await eventually(lambda: find_user(session_maker, 5010))
    assert (learner.locale, learner.role, learner.municipality) == ("bg", Role.TEACHER, "Котел")
    assert standin.unanswered_callback_queries() == []


async def test_invalid_invite_link_says_so_and_starts_normally(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    zoe = standin.add_user(5005, first_name="Zoe", language_code="en")
    await zoe.send("/start c-NOPE")
    warning = await zoe.next_message()
    assert warning["text"].startswith("This invite link is not valid or has expired.")
    greeting = await zoe.next_message()
    assert greeting["text"].startswith("Hello, Zoe!")


async def test_start_again_welcomes_back_and_keeps_the_learner(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    sam = standin.add_user(5006, first_name="Sam", language_code="en")
    await onboard(sam)
    await sam.press("Skip")
    await sam.wait_for(lambda m: m["text"].startswith("When shall I remind you?"))
    await sam.press("No reminders, thanks")
    await sam.wait_for(lambda m: "You are all set!" in m["text"])
    first = await eventually(lambda: find_user(session_maker, 5006))
    assert (first.reminders_enabled, first.reminder_time) == (False, None)
    await sam.send("/start")
    await sam.wait_for(lambda m: m["text"].startswith("Welcome back, Sam!"))
    again = await find_user(session_maker, 5006)
    assert first is not None
    assert again is not None
    assert (again.id, again.consented_at) == (first.id, first.consented_at)


@pytest.mark.usefixtures("curriculum")
async def test_start_again_offers_the_next_lesson_with_one_button(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    tom = standin.add_user(5010, first_name="Tom", language_code="en")
    await onboard(tom)
    await tom.press("Skip")
    await tom.wait_for(lambda m: m["text"].startswith("When shall I remind you?"))
    await tom.press("No reminders, thanks")
    await tom.wait_for(lambda m: "You are all set!" in m["text"])
    await tom.send("/start")
    welcome = await tom.wait_for(lambda m: m["text"].startswith("Welcome back, Tom!"))
    assert welcome["text"] == (
        "Welcome back, Tom! The button below takes you on where you left off; "
        "/help shows what else I can do."
    )
    assert button_texts(welcome) == ["Continue: What segregation is"]
    await tom.press("Continue: What segregation is", message=welcome)
    await tom.wait_for(lambda m: "What segregation is · step 1 of 2" in m["text"])
    assert standin.unanswered_callback_queries() == []


async def test_mydata_sends_the_learners_data_as_json(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    lea = standin.add_user(5007, first_name="Lea", language_code="en")
    await onboard(lea)
    await lea.send("Nova Zagora")
    await lea.next_message()
    await lea.send("/mydata")
    document = await lea.next_message()
    stored = standin.documents[-1]
    data = json.loads(stored.content)
    assert document["document"]["file_name"] == "my-data-to-learn-together.json"
    assert data["profile"]["first_name"] == "Lea"
    assert data["profile"]["municipality"] == "Nova Zagora"
    assert [row["verb"] for row in data["activity"]] == ["joined"]


async def test_delete_erases_personal_data_after_confirmation(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    tom = standin.add_user(5008, first_name="Tom", language_code="en")
    await onboard(tom)
    await tom.send("Yambol")
    await tom.next_message()
    learner = await eventually(lambda: find_user(session_maker, 5008))
    await tom.send("/delete")
    question = await tom.next_message()
    assert "Erase your data?" in question["text"]
    await tom.press("Yes, erase my data")
    await tom.wait_for(lambda m: m["text"].startswith("Your data has been erased."))

    async def erased_row() -> User | None:
        async with session_maker() as session:
            row = await session.get(User, learner.id)
            return row if row is not None and row.status is UserStatus.ERASED else None

    erased = await eventually(erased_row)
    assert await find_user(session_maker, 5008) is None
    assert (erased.status, erased.telegram_id, erased.first_name, erased.municipality) == (
        UserStatus.ERASED,
        None,
        None,
        None,
    )


async def test_blocking_the_bot_marks_the_learner_blocked(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    bo = standin.add_user(5009, first_name="Bo", language_code="en")
    await onboard(bo)
    bo.block()

    async def blocked() -> bool:
        learner = await find_user(session_maker, 5009)
        return learner is not None and learner.status is UserStatus.BLOCKED

    assert await eventually(blocked)


async def test_free_text_before_start_asks_to_start(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    kim = standin.add_user(5010, first_name="Kim", language_code="en")
    await kim.send("hello?")
    reply = await kim.next_message()
    assert (
        reply["text"]
        == "Please send /start first: choose your language and read the privacy notice."
    )


async def test_button_from_an_abandoned_onboarding_gets_a_polite_answer(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    jo = standin.add_user(5011, first_name="Jo", language_code="en")
    await jo.send("/start")
    first = await jo.next_message()
    await jo.press("✓ English")
    await jo.wait_for(lambda m: m["text"] == "Which of these describes you best?")
    await jo.send("/start")
    await jo.next_message()
    query = await jo.press("Teacher", message=jo.message(first["message_id"]))
    await standin.wait_for_call(
        "answerCallbackQuery", lambda call: call.params["callback_query_id"] == query
    )
    answer = standin.calls_of("answerCallbackQuery")[-1]
    assert answer.params["text"] == (
        "Please send /start first: choose your language and read the privacy notice."
    )
    assert standin.unanswered_callback_queries() == []


async def test_commands_are_registered_per_language_but_not_for_romani(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    await standin.wait_for_call("setMyCommands", lambda call: "language_code" not in call.params)
    languages = {key[1] for key in standin.commands}
    assert languages == {"", "en", "bg", "es", "fr", "nl", "ro"}


async def test_a_learner_who_agreed_to_an_older_notice_is_shown_the_new_one(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """The notice now says who hears voice answers and recordings (2027-01): agreeing to the
    one before (2026-12) is not enough."""
    una = standin.add_user(5011, first_name="Una", language_code="en")
    await onboard(una)
    await una.press("Skip")
    await una.wait_for(lambda m: m["text"].startswith("When shall I remind you?"))
    learner = await eventually(lambda: find_user(session_maker, 5011))
    async with session_maker() as session:
        await session.execute(
            update(User).where(User.id == learner.id).values(consent_version="2026-12")
        )
        await session.commit()
    await una.send("/start")
    await una.wait_for(lambda m: m["text"].startswith("Hello, Una!"))
    await una.press("✓ English")
    await una.wait_for(lambda m: m["text"] == "Which of these describes you best?")
    await una.press("Teacher")
    notice = await una.wait_for(lambda m: m["text"].startswith("Your privacy"))
    assert "(your reflections)" in notice["text"]
    assert "If you answer a question by voice, your voice note is kept" in notice["text"]
    await una.press("I agree")
    await una.wait_for(lambda m: "In which municipality" in m["text"])

    async def agreed_anew() -> User | None:
        found = await find_user(session_maker, 5011)
        return found if found is not None and found.consent_version == PRIVACY_VERSION else None

    assert (await eventually(agreed_anew)).id == learner.id


async def test_a_place_typed_in_cyrillic_is_saved_as_the_known_spelling_and_said_so(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    eli = standin.add_user(5031, first_name="Eli", language_code="en")
    await onboard(eli)
    await eli.send("  сливен ")
    notice = await eli.next_message()
    assert notice["text"] == "Saved as Sliven."
    await eli.wait_for(lambda m: m["text"].startswith("When shall I remind you?"))
    learner = await eventually(lambda: find_user(session_maker, 5031))
    assert learner.municipality == "Sliven"


async def test_a_new_place_is_saved_as_typed_without_a_notice(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    dora = standin.add_user(5032, first_name="Dora", language_code="en")
    await onboard(dora)
    await dora.send("Nova Zagora")
    reminder = await dora.next_message()
    assert reminder["text"].startswith("When shall I remind you?")
    assert not any("Saved as" in m["text"] for m in dora.messages)
