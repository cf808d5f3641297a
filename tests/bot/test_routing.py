"""Which routers look at a press: only those whose buttons it may be."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, Message, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import create_dispatcher
from bot.callbacks import GoToStep, LanguageChoice
from bot.filters import PressOf, only_its_own_presses
from learntogether.config import Settings
from learntogether.i18n import create_i18n


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
