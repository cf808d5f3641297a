"""Taking lessons end to end through the Bot API stand-in: catalogue, steps, every quiz kind, resume."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.content.schema import LessonDocument
from learntogether.db.models import Answer, LessonProgress, ProgressStatus
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from learntogether.services import lessons
from learntogether.services.actors import Actor
from learntogether.services.tracks import find_track
from tests.content.samples import TRACK, every_kind_lesson, lesson
from tests.factories import create_learner, eventually, import_sample_curriculum
from tests.standin import BotAPIStandIn, SimUser, button_texts

pytestmark = pytest.mark.usefixtures("curriculum")


@pytest.fixture
async def curriculum(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    lessons = {"01-every-kind.yaml": every_kind_lesson(), "02-what-segregation-is.yaml": lesson()}
    await import_sample_curriculum(session_maker, tmp_path / "lessons", lessons)


async def press_and_wait(user: SimUser, button: str, expect: str) -> dict[str, Any]:
    await user.press(button)
    return await user.wait_for(lambda m: expect in m["text"])


async def open_first_lesson(user: SimUser) -> dict[str, Any]:
    await user.send("/lessons")
    catalogue = await user.next_message()
    assert "The mixed classroom" in catalogue["text"]
    await press_and_wait(user, button_texts(catalogue)[0], "Every kind (4 min)")
    return await press_and_wait(user, "🆕 Every kind", "step 1 of 2")


async def at_the_quiz(
    standin: BotAPIStandIn,
    session_maker: async_sessionmaker[AsyncSession],
    telegram_id: int,
    first_name: str,
) -> SimUser:
    """A new learner who opened the first lesson, read it and is at its first question."""
    await create_learner(session_maker, telegram_id)
    user = standin.add_user(telegram_id, first_name=first_name, language_code="en")
    await open_first_lesson(user)
    await press_and_wait(user, "Next ▶", "Second step.")
    await press_and_wait(user, "Start the quiz ▶", "Question 1 of 5")
    return user


async def toggle(user: SimUser, *options: str) -> None:
    """Tick ``options`` of a multiple-choice question, one tap each."""
    for option in options:
        await user.press(f"☐ {option}")
        await user.wait_for(ticked(option))


def ticked(option: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: f"☑ {option}" in button_texts(message)


async def test_whole_lesson_with_every_quiz_kind(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 6001)
    ana = standin.add_user(6001, first_name="Ana", language_code="en")
    first = await open_first_lesson(ana)
    assert "First step." in first["text"]
    await press_and_wait(ana, "Next ▶", "Second step.")
    await press_and_wait(ana, "Start the quiz ▶", "Question 1 of 5")
    # One tap answers and moves on: the feedback comes above the next question.
    second = await press_and_wait(ana, "B", "Question 2 of 5")
    assert second["text"].startswith("✅ Right!\nAbout B.\nB it is.\n\nQuestion 2 of 5\n\nPick A")
    await ana.press("☐ A")
    await ana.wait_for(lambda m: "☑ A" in button_texts(m))
    await ana.press("☐ C")
    await ana.wait_for(lambda m: {"☑ A", "☑ C"} <= set(button_texts(m)))
    third = await press_and_wait(ana, "Submit", "Question 3 of 5")
    assert third["text"].startswith("✅ Right!\n✅ A — About A.\n✅ C — About C.\n\nQuestion 3")
    fourth = await press_and_wait(ana, "False", "Question 4 of 5")
    assert fourth["text"].startswith("❌ Not quite.\nAbout False.\n\nQuestion 4 of 5")
    # A statement to agree with has no right answer: straight on, no "thank you" to press.
    fifth = await press_and_wait(ana, "4 · Agree", "Question 5 of 5")
    assert fifth["text"].startswith("Question 5 of 5")
    await ana.send("I will mix the reading groups.")
    result = await ana.next_message()
    assert "You answered 2 of 3 correctly (67%); the pass mark is 60%." in result["text"]
    assert "Passed!" in result["text"]
    # After a pass, the way forward comes first.
    assert button_texts(result) == ["Continue: What segregation is", "Try again", "All lessons"]
    assert standin.unanswered_callback_queries() == []

    async def stored() -> list[Answer]:
        async with session_maker() as session:
            return list(await session.scalars(select(Answer).order_by(Answer.id)))

    answers = await eventually(stored)
    assert [(a.question_key, a.choice, a.correct) for a in answers] == [
        ("one", [1], True),
        ("many", [0, 2], True),
        ("tf", [1], False),
        ("feel", [4], None),
        ("think", None, None),
    ]
    assert answers[-1].text == "I will mix the reading groups."


async def test_feedback_is_said_once_in_the_message_not_again_in_a_toast(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    bo = await at_the_quiz(standin, session_maker, 6002, "Bo")
    query = await bo.press("A")
    call = await standin.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query
    )
    assert not call.params.get("text")
    shown = await bo.wait_for(lambda m: "Question 2 of 5" in m["text"])
    assert shown["text"].count("About A.") == 1
    assert shown["text"].count("B it is.") == 1


async def test_a_wrong_multiple_choice_shows_each_chosen_option_and_the_right_set(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    jo = await at_the_quiz(standin, session_maker, 6010, "Jo")
    await press_and_wait(jo, "B", "Question 2 of 5")
    await toggle(jo, "A", "B")
    shown = await press_and_wait(jo, "Submit", "Question 3 of 5")
    assert shown["text"].startswith(
        "❌ Not quite.\n✅ A — About A.\n❌ B — About B.\nThe right answers: A, C\n\nQuestion 3"
    )


async def test_after_a_failed_quiz_trying_again_comes_first_then_the_next_lesson(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    ki = await at_the_quiz(standin, session_maker, 6011, "Ki")
    await press_and_wait(ki, "A", "Question 2 of 5")
    await toggle(ki, "B")
    await press_and_wait(ki, "Submit", "Question 3 of 5")
    await press_and_wait(ki, "False", "Question 4 of 5")
    await press_and_wait(ki, "1 · Strongly disagree", "Question 5 of 5")
    result = await press_and_wait(ki, "Skip", "Not passed yet.")
    assert button_texts(result) == ["Try again", "Continue: What segregation is", "All lessons"]


async def test_a_half_answered_quiz_resumes_at_the_next_unanswered_question(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    lu = await at_the_quiz(standin, session_maker, 6012, "Lu")
    await press_and_wait(lu, "B", "Question 2 of 5")
    await lu.send("/lessons")
    catalogue = await lu.next_message()
    await press_and_wait(lu, button_texts(catalogue)[0], "Every kind (4 min)")
    shown = catalogue["message_id"]
    await lu.press("▶️ Every kind", message=shown)
    await lu.wait_for(lambda m: m["message_id"] == shown and "Second step." in m["text"])
    await lu.press("Start the quiz ▶", message=shown)
    resumed = await lu.wait_for(lambda m: m["message_id"] == shown and "Question" in m["text"])
    assert resumed["text"].startswith("Question 2 of 5\n\nPick A and C.")


async def test_resume_after_a_bot_restart(
    standin: BotAPIStandIn, bot_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 6003)
    cy = standin.add_user(6003, first_name="Cy", language_code="en")
    for round_ in range(2):
        parts = build_bot_parts(bot_settings, session_maker)
        assert parts is not None
        task = asyncio.create_task(run_polling(parts, polling_timeout=1))
        try:
            if round_ == 0:
                await open_first_lesson(cy)
                await press_and_wait(cy, "Next ▶", "step 2 of 2")
            else:
                await cy.send("/lessons")
                catalogue = await cy.next_message()
                await press_and_wait(cy, button_texts(catalogue)[0], "Every kind (4 min)")
                shown = catalogue["message_id"]

                def resumed_here(message: dict[str, Any], shown: int = shown) -> bool:
                    return message["message_id"] == shown and "step 2 of 2" in message["text"]

                await cy.press("▶️ Every kind")
                await cy.wait_for(resumed_here)
        finally:
            await parts.dispatcher.stop_polling()
            await asyncio.wait_for(task, timeout=10)


async def test_lesson_republished_midway_keeps_the_started_version(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 6004)
    di = standin.add_user(6004, first_name="Di", language_code="en")
    await open_first_lesson(di)
    changed = every_kind_lesson()
    changed["steps"][1]["text"]["en"] = "A rewritten second step."
    async with session_maker() as session:
        document = LessonDocument.model_validate(
            {**changed, "slug": "every-kind", "track": "demo", "position": 1}
        )
        await lessons.store_published(
            session,
            document=document,
            track=await find_track(session, "demo"),
            actor=Actor.system("t"),
        )
        await session.commit()
    await press_and_wait(di, "Next ▶", "Second step.")


async def test_a_double_tap_on_an_answer_gets_a_polite_answer_and_a_way_on(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    ed = await at_the_quiz(standin, session_maker, 6005, "Ed")
    await ed.press("B")
    query = await ed.press("B")  # the second tap lands before the bot has answered the first
    call = await standin.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query
    )
    assert call.params["text"] == "This button is from an older message. Here is where you are now."
    way_on = await ed.next_message()
    assert button_texts(way_on) == ["Open the lesson", "All lessons"]


async def test_finishing_the_lesson_marks_it_done_in_the_catalogue(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    learner = await create_learner(session_maker, 6006)
    fa = standin.add_user(6006, first_name="Fa", language_code="en")
    await open_first_lesson(fa)
    await press_and_wait(fa, "Next ▶", "Second step.")
    await press_and_wait(fa, "Start the quiz ▶", "Question 1 of 5")
    await press_and_wait(fa, "B", "Question 2 of 5")
    await toggle(fa, "A", "C")
    await press_and_wait(fa, "Submit", "Question 3 of 5")
    await press_and_wait(fa, "True", "Question 4 of 5")
    await press_and_wait(fa, "5 · Strongly agree", "Question 5 of 5")
    await press_and_wait(fa, "Skip", "100%")

    async def completed() -> LessonProgress | None:
        async with session_maker() as session:
            row = await session.scalar(
                select(LessonProgress).where(LessonProgress.user_id == learner.id)
            )
            return row if row is not None and row.status is ProgressStatus.COMPLETED else None

    progress = await eventually(completed)
    assert (progress.best_score, progress.passed) == (100.0, True)
    await fa.send("/lessons")
    catalogue = await fa.next_message()
    assert "1/2" in catalogue["text"]
    assert TRACK["title"]["en"] in catalogue["text"]


async def test_progress_shows_counts_and_a_chart(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 6007)
    gi = standin.add_user(6007, first_name="Gi", language_code="en")
    await open_first_lesson(gi)
    await gi.send("/progress")
    shown = await gi.next_message()
    assert shown["photo"]
    assert standin.photos[-1].content.startswith(b"\x89PNG")
    assert "0 lessons completed" in shown["caption"]
    assert "• The mixed classroom: 0/2" in shown["caption"]
    assert "1 day in a row" in shown["caption"]


async def test_a_poll_question_goes_as_a_native_quiz_poll_and_its_vote_counts(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 6008)
    hu = standin.add_user(6008, first_name="Hu", language_code="en")
    await hu.send("/lessons")
    catalogue = await hu.next_message()
    await press_and_wait(hu, button_texts(catalogue)[0], "What segregation is (5 min)")
    await press_and_wait(hu, "🆕 What segregation is", "step 1 of 2")
    await press_and_wait(hu, "Next ▶", "step 2 of 2")
    await press_and_wait(hu, "Start the quiz ▶", "Answer in the quiz below.")
    poll = await hu.wait_for(lambda m: "poll" in m)
    sent = standin.calls_of("sendPoll")[-1]
    assert (sent.params["type"], sent.params["is_anonymous"]) == ("quiz", False)  # a JSON body
    assert poll["poll"]["question"] == "When was D.H. decided?"
    await hu.answer_poll(poll, [1])
    outcome = await hu.wait_for(lambda m: "Not quite" in m.get("text", ""))
    assert "Grand Chamber, 2007." in outcome["text"]
    assert "Question 2 of 2" in outcome["text"]
    assert button_texts(outcome) == ["True", "False"]
    # The message above the poll no longer asks for an answer that was given.
    stub = catalogue["message_id"]
    await hu.wait_for(lambda m: m["message_id"] == stub and m["text"] == "Question 1 of 2")


async def test_a_screen_the_message_already_shows_is_not_edited_again(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 6013)
    mo = standin.add_user(6013, first_name="Mo", language_code="en")
    await mo.send("/lessons")
    catalogue = await mo.next_message()
    track = await press_and_wait(mo, button_texts(catalogue)[0], "Every kind (4 min)")
    edits = len(standin.calls_of("editMessageText"))
    # The track's button pressed again (a double tap): the message already shows the track.
    data = catalogue["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    query = await mo.press_forged(data, message=track["message_id"])
    await standin.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query
    )
    await asyncio.sleep(0.2)
    assert len(standin.calls_of("editMessageText")) == edits
    # Bold titles and a keyboard compare as Telegram stores them, whatever the HTML spelling.
    assert any(entity["type"] == "bold" for entity in mo.message(track["message_id"])["entities"])


async def test_an_opened_track_says_what_it_is_and_what_its_certificate_takes(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 6601)
    user = standin.add_user(6601, first_name="Ada", language_code="en")
    await user.send("/lessons")
    catalogue = await user.next_message()
    opened = await press_and_wait(user, button_texts(catalogue)[0], "Every kind (4 min)")
    assert opened["text"].startswith(
        "The mixed classroom — 0/2\n\nFor teachers.\n\n"
        "🎓 Certificate: pass all 2 lessons of the track.\n\n"
    )
