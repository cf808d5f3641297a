"""A command, or a button of another screen, ends any conversation that waits for a text, end to
end through the stand-in: what the learner writes next is not taken as the old answer."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import bot.handlers
from bot.callbacks import HelpCancel, WorkshopNow
from bot.conversations import CONVERSATIONS, EXEMPT, LeaveConversation
from bot.handlers.assisted import Workshop
from bot.handlers.help_desk import Asking
from bot.handlers.onboarding import Onboarding
from bot.handlers.recording import Recording
from learntogether.db.models import Event, HelpMessage
from learntogether.runtime import BotParts
from learntogether.services import cohorts
from learntogether.services.actors import Actor
from tests.factories import create_cohort, create_learner
from tests.standin import BotAPIStandIn


@pytest.fixture
async def cohort_with_mediator(session_maker: async_sessionmaker[AsyncSession]) -> None:
    """SLV1 with Rosa (7801) as its mediator and Ana (7802) as a member."""
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    rosa = await create_learner(session_maker, 7801, first_name="Rosa")
    await create_learner(session_maker, 7802, cohort="SLV1", first_name="Ana")
    async with session_maker() as session:
        await cohorts.add_mediator(session, code="SLV1", user_id=rosa.id, actor=Actor.system("t"))
        await session.commit()


async def _questions(session_maker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with session_maker() as session:
        return list(await session.scalars(select(HelpMessage.text)))


@pytest.mark.usefixtures("cohort_with_mediator")
async def test_a_command_ends_the_wait_for_a_question_to_the_mediator(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(7801, first_name="Rosa", language_code="en")
    ana = standin.add_user(7802, first_name="Ana", language_code="en")
    await ana.send("¡Ayuda!")
    asked = await ana.next_message()
    assert asked["text"].startswith("What would you like to ask your mediator?")
    await ana.send("/progress")
    await ana.wait_for(lambda m: m["text"].startswith("Your progress"))
    await ana.send("Thank you, all clear now")
    # Not a question any more: the bot did not understand it, and offers to pass it on.
    offer = await ana.wait_for(lambda m: m["text"].startswith("I did not understand that."))
    assert "Thank you" not in offer["text"]
    assert await _questions(session_maker) == []
    assert not any("Ana asks" in m.get("text", "") for m in rosa.messages)


@pytest.mark.usefixtures("cohort_with_mediator")
async def test_the_cancel_button_of_the_question_keeps_to_its_own_conversation(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    ana = standin.add_user(7802, first_name="Ana", language_code="en")
    await ana.send("¡Ayuda!")
    asked = await ana.next_message()
    await ana.press("Cancel", message=asked)
    await ana.wait_for(lambda m: m["text"] == "All right: nothing was sent.")
    assert await _questions(session_maker) == []


@pytest.mark.usefixtures("cohort_with_mediator")
async def test_a_button_of_another_screen_ends_the_wait_for_a_broadcasts_text(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    rosa = standin.add_user(7801, first_name="Rosa", language_code="en")
    await rosa.send("/cohort")
    overview = await rosa.wait_for(lambda m: "📣 Message the group" in str(m.get("reply_markup")))
    await rosa.press("📣 Message the group", message=overview)
    await rosa.wait_for(lambda m: m["text"].startswith("Write the message for the group."))
    await rosa.press("👋 Nudge the quiet ones", message=overview)
    await rosa.wait_for(lambda m: m["text"].endswith("Nothing to send."))
    seen = max(m["message_id"] for m in rosa.messages)
    await rosa.send("See you all on Friday")
    reply = await rosa.wait_for(lambda m: m["message_id"] > seen + 1)
    assert reply["text"].startswith("I did not understand that.")
    assert not any(m["text"] == "This is what the group will see:" for m in rosa.messages)


@pytest.mark.usefixtures("cohort_with_mediator")
async def test_a_command_ends_the_wait_for_a_workshops_title(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(7801, first_name="Rosa", language_code="en")
    await rosa.send("/cohort")
    overview = await rosa.wait_for(lambda m: "📍 Workshop check-in" in str(m.get("reply_markup")))
    await rosa.press("📍 Workshop check-in", message=overview)
    await rosa.wait_for(lambda m: m["text"].startswith("What is the workshop called?"))
    await rosa.send("/progress")
    await rosa.wait_for(lambda m: m["text"].startswith("Your progress"))
    await rosa.send("Parents' evening")
    await rosa.wait_for(lambda m: m["text"].startswith("I did not understand that."))
    assert not any("When does it start" in m["text"] for m in rosa.messages)
    async with session_maker() as session:
        assert (await session.scalars(select(Event))).all() == []


def _state_groups() -> set[type[StatesGroup]]:
    found: set[type[StatesGroup]] = set()
    for module in pkgutil.iter_modules(bot.handlers.__path__):
        loaded = importlib.import_module(f"bot.handlers.{module.name}")
        found |= {
            value
            for value in vars(loaded).values()
            if isinstance(value, type)
            and issubclass(value, StatesGroup)
            and value is not StatesGroup
            and value.__module__ == loaded.__name__
        }
    return found


def test_every_conversation_of_the_handlers_is_ended_by_elsewhere_or_exempt() -> None:
    listed = {conversation.states for conversation in CONVERSATIONS} | set(EXEMPT)
    assert _state_groups() == listed


async def _after(state: State, text: str | None = None, *, pressed: str = "") -> str | None:
    """The state left once the middleware saw a message ``text`` (else a press of a button
    with the data ``pressed``) while ``state`` waited."""
    context = FSMContext(MemoryStorage(), StorageKey(bot_id=1, chat_id=1, user_id=1))
    await context.set_state(state)
    message: Message | CallbackQuery = Message.model_validate(
        {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": text}
    )
    if text is None:
        user = {"id": 1, "is_bot": False, "first_name": "Rosa"}
        message = CallbackQuery.model_validate(
            {"id": "1", "from": user, "chat_instance": "1", "data": pressed}
        )

    async def handler(_event: Any, _data: dict[str, Any]) -> None:
        return None

    await LeaveConversation()(handler, message, {"raw_state": state.state, "state": context})
    return await context.get_state()


async def test_onboarding_is_never_ended_by_a_command() -> None:
    assert await _after(Onboarding.role, "/progress") == Onboarding.role.state


async def test_only_a_command_ends_a_conversation_not_the_text_it_waits_for() -> None:
    assert await _after(Asking.question, "/progress") is None
    assert await _after(Asking.question, "When is the workshop?") == Asking.question.state


async def test_a_flows_own_button_carries_it_on_with_or_without_values() -> None:
    # "It starts now" has no values: its data is the prefix alone.
    assert await _after(Workshop.when, pressed=WorkshopNow().pack()) == Workshop.when.state
    assert await _after(Recording.consent, pressed="rcc:1") == Recording.consent.state
    # Another flow's button, with or without values, ends it.
    assert await _after(Workshop.when, pressed=HelpCancel().pack()) is None
    assert await _after(Recording.consent, pressed="st:4:2") is None
