"""Which routers look at a press: only those whose buttons it may be; the others are not\nentered at all."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, Message, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import create_dispatcher
from bot.callbacks import GoToStep, LanguageChoice
from bot.filters import PressOf, PressRouter, only_its_own_presses
from learntogether.config import Settings
from learntogether.i18n import create_i18n
from learntogether.runtime import BotParts
from tests.content.samples import every_kind_lesson, lesson
from tests.factories import create_learner, import_sample_curriculum
from tests.standin import BotAPIStandIn, button_texts


def _press(data: CallbackData) -> CallbackQuery:
    user = User(id=7101, is_bot=False, first_name="Ana")
    message = Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=7101, type="private"))
    return CallbackQuery(
        id="1", from_user=user, chat_instance="c", message=message, data=data.pack()
    )


async def _looking(routers: list[Router], data: CallbackData) -> list[str]:
    """The routers whose own filters let the press through (the learner is not asked about)."""
    query = _press(data)
    looking = []
    for router in routers:
        passed = True
        for found in router.callback_query._handler.filters or ():
            if isinstance(found.callback, PressOf):
                passed = await found.callback(query)
        if passed and router.callback_query.handlers:
            looking.append(router.name)
    return looking


async def test_a_press_is_looked_at_only_by_the_routers_whose_buttons_it_may_be(
    bot_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    dispatcher = create_dispatcher(
        bot_settings, session_maker=session_maker, i18n=create_i18n(bot_settings.default_locale)
    )
    routers = list(dispatcher.sub_routers)
    step = await _looking(routers, GoToStep(progress_id=1, version_id=2, index=1))
    # Learning, and the routers with a handler for any press (the fallback's stale buttons).
    assert step == ["learning", "fallback"]
    assert "onboarding" in await _looking(routers, LanguageChoice(code="bg"))
    assert "learning" in await _looking(routers, LanguageChoice(code="bg"))


def test_a_router_with_a_handler_for_other_presses_looks_at_every_press() -> None:
    router = Router()
    router.callback_query.register(lambda query: None, GoToStep.filter())
    router.callback_query.register(lambda query: None)
    only_its_own_presses(router)
    assert not router.callback_query._handler.filters


async def test_a_press_enters_no_router_whose_buttons_it_cannot_be(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    # Entering a router costs aiogram wrappers and copies of the update's data before the
    # router's filter says no; six routers came before learning's for every step.
    lessons = {"01-every-kind.yaml": every_kind_lesson(), "02-what-segregation-is.yaml": lesson()}
    await import_sample_curriculum(session_maker, tmp_path / "lessons", lessons)
    await create_learner(session_maker, 7102)
    ana = standin.add_user(7102, first_name="Ana", language_code="en")
    entered: list[str] = []
    for router in polling_bot.dispatcher.sub_routers:

        def spy(router: Router = router, through: Any = router.propagate_event) -> Any:
            async def propagate_event(update_type: str, event: Any, **kwargs: Any) -> Any:
                if update_type == "callback_query":
                    entered.append(router.name)
                return await through(update_type=update_type, event=event, **kwargs)

            return propagate_event

        router.propagate_event = spy()  # type: ignore[method-assign]
    await ana.send("/lessons")
    catalogue = await ana.next_message()
    await ana.press(button_texts(catalogue)[0])
    await ana.wait_for(lambda m: "Every kind (4 min)" in m["text"])
    await ana.press("🆕 Every kind")
    await ana.wait_for(lambda m: "step 1 of 2" in m["text"])
    entered.clear()
    await ana.press("Next ▶")
    await ana.wait_for(lambda m: "Second step." in m["text"])
    # Only the guide, which looks at every press (no filter of its own), came before.
    assert entered == ["guide", "learning"]
    dispatcher = polling_bot.dispatcher
    assert isinstance(dispatcher, PressRouter)
    skipped = {router.name for router in dispatcher.skip}
    assert {"onboarding", "privacy", "certificates", "help_desk", "recording"} <= skipped
    # A press no router's buttons name still reaches the routers that take any press.
    entered.clear()
    forged = await ana.press_forged("zz:1")
    for _ in range(100):
        answered = standin.calls_of("answerCallbackQuery")
        if any(call.params.get("callback_query_id") == forged for call in answered):
            break
        await asyncio.sleep(0.05)
    assert "fallback" in entered and "onboarding" not in entered
