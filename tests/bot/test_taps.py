"""Taps counted end to end: how many a learner needs, taking the obvious way forward each time.

A simulated learner reads the newest message and does what it offers first: a Continue button,
the right answer, the next step or question, the lesson it is after in the catalogue, "All
lessons", and writes /lessons only when nothing on screen leads on. Every press and every message
the learner writes is a tap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import BroadcastKind
from learntogether.runtime import BotParts
from learntogether.services import broadcasts
from learntogether.services.actors import SYSTEM
from tests.content.samples import survey
from tests.delivery.workers import WorkerFactory
from tests.factories import create_learner, import_sample_curriculum
from tests.standin import BotAPIStandIn, SimUser, button_texts

JSON = dict[str, Any]
FORWARD = ("Start ▶", "Next ▶", "Start the quiz ▶", "Start the survey ▶")
LIKERT_ANSWER = "4 · Agree"
MAX_TAPS = 40


def _text(value: str) -> dict[str, str]:
    return {"en": value}


def five_step_lesson() -> JSON:
    """Five steps and four single-choice questions, each with a right and a wrong option."""

    def question(number: int) -> JSON:
        return {
            "key": f"q{number}",
            "kind": "single",
            "text": _text(f"Question number {number}?"),
            "options": [
                {"text": _text("Right"), "correct": True, "feedback": _text("Yes, right.")},
                {"text": _text("Wrong"), "feedback": _text("No, not that.")},
            ],
            "explanation": _text(f"Explanation {number}."),
        }

    return {
        "title": _text("Five steps"),
        "audience": ["teacher"],
        "minutes": 5,
        "locales": ["en"],
        "steps": [{"text": _text(f"Step text {number}.")} for number in range(1, 6)],
        "quiz": {"pass_score": 75, "questions": [question(number) for number in range(1, 5)]},
        "sources": [{"title": "A source", "publisher": "A publisher", "year": 2024}],
    }


def short_lesson(title: str) -> JSON:
    return {
        "title": _text(title),
        "audience": ["teacher"],
        "minutes": 2,
        "locales": ["en"],
        "steps": [{"text": _text(f"The first screen of {title}.")}],
        "sources": [{"title": "A source", "publisher": "A publisher", "year": 2024}],
    }


class Learner:
    """Takes the obvious way forward and counts the taps it took."""

    def __init__(self, standin: BotAPIStandIn, user: SimUser, *, after: str) -> None:
        self.standin = standin
        self.user = user
        self.after = after
        """The title of the lesson the learner is going to, as its catalogue button shows it."""
        self.taps = 0
        self.seen: list[str] = []

    async def settled(self, before: str | None = None) -> None:
        """Wait until the chat changed from ``before`` and the bot has stopped calling the
        stand-in (long polls aside)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while before is not None and repr(self.user.messages) == before:
            assert loop.time() < deadline, f"nothing happened after {self.seen}"
            await asyncio.sleep(0.02)
        quiet_since, count = loop.time(), -1
        while loop.time() - quiet_since < 0.3:
            now = len([call for call in self.standin.calls if call.method != "getUpdates"])
            if now != count:
                quiet_since, count = loop.time(), now
            await asyncio.sleep(0.03)

    def newest(self) -> JSON:
        return self.user.messages[-1] if self.user.messages else {}

    async def until(self, arrived: Callable[[JSON], bool]) -> int:
        """Tap on until the newest message is ``arrived``; the number of taps it took."""
        await self.settled()
        while not arrived(self.newest()):
            assert self.taps < MAX_TAPS, f"lost after {self.taps} taps: {self.seen}"
            before = repr(self.user.messages)
            await self.step()
            await self.settled(before)
        return self.taps

    async def step(self) -> None:
        self.taps += 1
        buttons = button_texts(self.newest())
        choice = self.choose(buttons)
        self.seen.append(choice or "/lessons")
        if choice is None:
            await self.user.send("/lessons")
        else:
            await self.user.press(choice)

    def choose(self, buttons: list[str]) -> str | None:
        def first(match: Callable[[str], bool]) -> str | None:
            return next((button for button in buttons if match(button)), None)

        for match in (
            lambda button: button.startswith("Continue"),
            lambda button: button in ("Right", LIKERT_ANSWER),
            lambda button: button in FORWARD,
            lambda button: self.after in button,
            lambda button: "The mixed classroom" in button,
            lambda button: button == "All lessons",
        ):
            found = first(match)
            if found is not None:
                return found
        return None


def assert_every_call_went_through(standin: BotAPIStandIn) -> None:
    """No edit refused as "message is not modified", no button left unanswered."""
    refused = [
        call
        for method in ("editMessageText", "editMessageReplyMarkup")
        for call in standin.calls_of(method)
        if not call.ok and "not modified" in str(call.response.get("description"))
    ]
    assert refused == []
    assert standin.unanswered_callback_queries() == []


async def test_a_five_step_lesson_with_four_questions_takes_at_most_11_taps_from_the_reminder(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    start_worker: WorkerFactory,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(
        session_maker,
        tmp_path / "lessons",
        {"01-five-steps.yaml": five_step_lesson(), "02-next-one.yaml": short_lesson("Next one")},
    )
    learner = await create_learner(session_maker, 9101)
    user = standin.add_user(9101, first_name="Tia", language_code="en")
    start_worker()
    async with session_maker() as session:
        await broadcasts.create_for_learners(
            session, kind=BroadcastKind.REMINDER, user_ids=[learner.id], actor=SYSTEM
        )
        await session.commit()
    # The reminder is the lesson's first screen, with one button to start it there.
    reminder = await user.wait_for(
        lambda message: "Five steps · step 1 of 5" in message.get("text", ""), timeout=10
    )
    assert "Step text 1." in reminder["text"]
    assert button_texts(reminder) == ["Start ▶"]

    tia = Learner(standin, user, after="Next one")
    taps = await tia.until(lambda message: "Next one · step 1 of 1" in message.get("text", ""))
    assert tia.seen[0] == "Start ▶"
    assert taps <= 11, f"{taps} taps: {tia.seen}"
    assert_every_call_went_through(standin)


async def test_a_nine_statement_survey_takes_at_most_10_taps(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    keys = [f"s{number}" for number in range(1, 10)]
    await import_sample_curriculum(
        session_maker,
        tmp_path / "lessons",
        {"01-pre.yaml": survey("pre", keys), "02-next-one.yaml": short_lesson("Next one")},
    )
    await create_learner(session_maker, 9102)
    user = standin.add_user(9102, first_name="Uma", language_code="en")
    uma = Learner(standin, user, after="Survey pre")
    await uma.until(lambda message: "Survey pre · step 1 of 1" in message.get("text", ""))
    opened = uma.taps
    uma.after = "Next one"
    taps = await uma.until(lambda message: "Thank you for your answers" in message.get("text", ""))
    assert uma.seen[opened] == "Start the survey ▶"
    assert taps - opened <= 10, f"{taps - opened} taps: {uma.seen[opened:]}"
    assert_every_call_went_through(standin)


async def test_a_lesson_without_a_quiz_ends_with_the_next_lesson_first(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(
        session_maker,
        tmp_path / "lessons",
        {
            "01-first-one.yaml": short_lesson("First one"),
            "02-next-one.yaml": short_lesson("Next one"),
        },
    )
    await create_learner(session_maker, 9103)
    user = standin.add_user(9103, first_name="Vi", language_code="en")
    vi = Learner(standin, user, after="First one")
    await vi.until(lambda message: "First one · step 1 of 1" in message.get("text", ""))
    await user.press("Finish the lesson ✅")
    finished = await user.wait_for(lambda message: "Lesson finished." in message["text"])
    assert button_texts(finished) == ["Continue: Next one", "All lessons"]
