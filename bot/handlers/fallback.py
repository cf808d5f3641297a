"""Anything no other handler took: a short, helpful answer instead of silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import registered
from bot.handlers import help_desk
from learntogether.config import Settings
from learntogether.db.models import User


async def not_registered(message: Message) -> None:
    await message.answer(
        _("Please send /start first: choose your language and read the privacy notice.")
    )


async def unknown_message(
    message: Message, session: AsyncSession, learner: User, state: FSMContext, settings: Settings
) -> None:
    """Free text the bot did not understand: a human to ask (``help_desk.offer``)."""
    if not message.text or message.text.startswith("/"):
        await message.answer(_("I did not understand that. Send /help to see what I can do."))
        return
    await help_desk.offer(message, session, learner, state, settings)


async def unknown_button(query: CallbackQuery) -> None:
    """Every button gets an answer, even one from an old message."""
    await query.answer(
        _("This button is no longer active. Send /help to see what I can do."), show_alert=True
    )


async def button_before_registering(query: CallbackQuery) -> None:
    """A button of an onboarding that was left, or lost in a restart: the way back is /start."""
    await query.answer(
        _("Please send /start first: choose your language and read the privacy notice."),
        show_alert=True,
    )


def create_router() -> Router:
    """Include last: it takes every message and button the feature routers left."""
    router = Router(name="fallback")
    router.message.register(unknown_message, registered)
    router.message.register(not_registered)
    router.callback_query.register(unknown_button, registered)
    router.callback_query.register(button_before_registering)
    return router
