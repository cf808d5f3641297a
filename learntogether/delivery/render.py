"""A delivery row as the message its learner reads: their language, and the button a nudge has."""

from __future__ import annotations

import html
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import locale_chain, pick_text
from learntogether.db.models import BroadcastKind, User
from learntogether.i18n import negotiate_locale
from learntogether.services import catalogue, learners
from learntogether.services.outbox import RESUME_CALLBACK, Claimed


@dataclass(frozen=True)
class Message:
    text: str
    """Telegram HTML."""
    reply_markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Unsendable:
    """Nothing to send this learner (e.g. a personal reminder with no lesson left)."""

    reason: str


class Renderer:
    """Texts in the learner's language: the broadcast's own, or the personal reminder's."""

    def __init__(self, i18n: I18n, *, default_locale: str) -> None:
        self.i18n = i18n
        self.default_locale = default_locale

    def ui_locale(self, locale: str | None) -> str:
        return negotiate_locale(locale, default=self.default_locale)

    async def render(self, session: AsyncSession, delivery: Claimed) -> Message | Unsendable:
        learner = delivery.learner
        if any(value.strip() for value in delivery.text.values()):
            text = pick_text(delivery.text, locale_chain(learner.locale, self.default_locale))
        else:
            # No text of its own: the learner's personal reminder of their next lesson.
            user = await session.get(User, learner.id)
            if user is None:
                return Unsendable("the learner is gone")
            chain = await learners.content_locales(session, user)
            lesson = await catalogue.suggested_lesson(session, learner=user, chain=chain)
            if lesson is None:
                return Unsendable("no lesson left to suggest: the learner finished them all")
            text = self.i18n.gettext(
                "Your next lesson: <b>{title}</b>", locale=self.ui_locale(learner.locale)
            ).format(title=html.escape(lesson.title))
        markup = (
            self.resume_keyboard(learner.locale) if delivery.kind is BroadcastKind.NUDGE else None
        )
        return Message(text, markup)

    def resume_keyboard(self, locale: str | None) -> InlineKeyboardMarkup:
        label = self.i18n.gettext("Continue", locale=self.ui_locale(locale))
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=RESUME_CALLBACK)]]
        )
