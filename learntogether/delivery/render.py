"""A delivery row as the message its learner reads: their languages, and the button a nudge has.

Broadcasts, reminders and nudges follow the same locale policy as the bot's replies and lessons
(``i18n.learner_locales``): the learner's language, their cohort's, ``LT_DEFAULT_LOCALE``, English.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.db.models import BroadcastKind, User
from learntogether.i18n import Locales
from learntogether.services import catalogue, learners, player
from learntogether.services.catalogue import LessonEntry
from learntogether.services.outbox import RESUME_CALLBACK, Claimed
from learntogether.telegram_html import TelegramHTMLError, parse_html, shorten, utf16_length

CONTINUE_TEXT_LIMIT = 60
MESSAGE_LIMIT = 4096


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
    """Texts in the learner's languages: the broadcast's own, or the personal reminder's."""

    def __init__(self, i18n: I18n, *, default_locale: str) -> None:
        self.i18n = i18n
        self.default_locale = default_locale

    async def locales(
        self, session: AsyncSession, deliveries: Sequence[Claimed]
    ) -> dict[int, Locales]:
        """Each recipient's languages, by learner id, in one query for the whole batch."""
        return await learners.locales_of(
            session,
            [delivery.learner for delivery in deliveries],
            default_locale=self.default_locale,
        )

    async def render(
        self, session: AsyncSession, delivery: Claimed, locales: Locales
    ) -> Message | Unsendable:
        """The message for ``delivery``'s learner, whose languages are ``locales``.

        A personal reminder is the learner's next lesson's first screen (or the step they left it
        at) with a Start button; a nudge names the next lesson with a ``Continue: <title>`` button
        (a plain Continue when none is left); a cohort's reminder with its own text goes as
        written.
        """
        personal = not any(value.strip() for value in delivery.text.values())
        leads_on = delivery.kind is BroadcastKind.NUDGE or (
            delivery.kind is BroadcastKind.REMINDER and personal
        )
        lesson = None
        user = None
        if personal or leads_on:
            user = await session.get(User, delivery.learner.id)
            if user is None:
                return Unsendable("the learner is gone")
            lesson = await catalogue.suggested_lesson(session, learner=user, chain=locales.content)
        if not personal:
            text = pick_text(delivery.text, locales.content)
        elif lesson is None or user is None:
            return Unsendable("no lesson left to suggest: the learner finished them all")
        elif delivery.kind is BroadcastKind.REMINDER:
            preview = await player.preview_lesson(
                session, learner=user, lesson_id=lesson.lesson_id, chain=locales.content
            )
            if preview is None:
                return Unsendable("the learner's next lesson is not offered any more")
            return self.first_screen(preview, locales)
        else:
            # No text of its own: a nudge towards the learner's next lesson.
            text = self.i18n.gettext(
                "Your next lesson: <b>{title}</b>", locale=locales.catalog
            ).format(title=html.escape(lesson.title))
        return Message(text, self.resume_keyboard(locales, lesson) if leads_on else None)

    def first_screen(self, preview: player.StepPreview, locales: Locales) -> Message:
        """The daily reminder: the screen the learner's next lesson opens at, as the player
        shows it, with one button that opens the lesson there."""

        def gettext(message: str) -> str:
            return self.i18n.gettext(message, locale=locales.catalog)

        rendered = preview.lesson
        header = gettext("<b>{title}</b> · step {number} of {count}").format(
            title=html.escape(rendered.title),
            number=preview.step_index + 1,
            count=len(rendered.steps),
        )
        step = rendered.steps[preview.step_index].text
        parts = [header, player.language_notice(rendered, gettext), step]
        text = "\n\n".join(part for part in parts if part)
        try:
            too_long = utf16_length(parse_html(text)[0]) > MESSAGE_LIMIT
        except TelegramHTMLError:
            too_long = True
        if too_long:
            text = step  # a step alone always fits: lesson validation sees to it
        label = gettext("Start ▶") if preview.step_index == 0 else gettext("Continue ▶")
        return Message(
            text,
            InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=RESUME_CALLBACK)]]
            ),
        )

    def resume_keyboard(self, locales: Locales, lesson: LessonEntry | None) -> InlineKeyboardMarkup:
        """``Continue: <title>`` (or a plain Continue with no lesson left); the bot opens the
        learner's next lesson, as it is when pressed."""
        if lesson is not None:
            label = shorten(
                self.i18n.gettext("Continue: {title}", locale=locales.catalog).format(
                    title=lesson.title
                ),
                CONTINUE_TEXT_LIMIT,
            )
        else:
            label = self.i18n.gettext("Continue", locale=locales.catalog)
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=RESUME_CALLBACK)]]
        )
