"""A delivery row as the message its learner reads: their languages, and the buttons it has.

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
from learntogether.services import catalogue, learners, review
from learntogether.services.catalogue import LessonEntry
from learntogether.services.outbox import RESUME_CALLBACK, Claimed
from learntogether.telegram_html import shorten

CONTINUE_TEXT_LIMIT = 60


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

        A personal reminder and a nudge carry a ``Continue: <title>`` button to the learner's
        next lesson (a nudge a plain Continue when none is left); a cohort's reminder with its own
        text goes as written.
        """
        if delivery.kind is BroadcastKind.REVIEW:
            return await self.review_invitation(session, delivery, locales)
        personal = not any(value.strip() for value in delivery.text.values())
        leads_on = delivery.kind is BroadcastKind.NUDGE or (
            delivery.kind is BroadcastKind.REMINDER and personal
        )
        lesson = None
        if personal or leads_on:
            user = await session.get(User, delivery.learner.id)
            if user is None:
                return Unsendable("the learner is gone")
            lesson = await catalogue.suggested_lesson(session, learner=user, chain=locales.content)
        if not personal:
            text = pick_text(delivery.text, locales.content)
        elif lesson is None:
            return Unsendable("no lesson left to suggest: the learner finished them all")
        else:
            # No text of its own: the learner's personal reminder of their next lesson.
            text = self.i18n.gettext(
                "Your next lesson: <b>{title}</b>", locale=locales.catalog
            ).format(title=html.escape(lesson.title))
        return Message(text, self.resume_keyboard(locales, lesson) if leads_on else None)

    async def review_invitation(
        self, session: AsyncSession, delivery: Claimed, locales: Locales
    ) -> Message | Unsendable:
        """A round of spaced review: how many questions from which lesson, Start or Skip."""
        found = await review.invitation(session, delivery_id=delivery.id, chain=locales.content)
        if found is None:
            return Unsendable("the review is over or gone")
        _n = self.i18n.gettext  # named so that extraction (``-k _n:1,2``) keeps both forms
        text = _n(
            "Two minutes to review? {count} question from <b>{title}</b> that was tricky last "
            "time.",
            "Two minutes to review? {count} questions from <b>{title}</b> that were tricky last "
            "time.",
            found.questions,
            locale=locales.catalog,
        ).format(count=found.questions, title=html.escape(found.lesson_title))
        start = self.i18n.gettext("Start the review ▶", locale=locales.catalog)
        skip = self.i18n.gettext("Skip this time", locale=locales.catalog)
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=start, callback_data=f"{review.START_PREFIX}:{found.review_id}"
                    )
                ],
                [
                    InlineKeyboardButton(
                        text=skip, callback_data=f"{review.SKIP_PREFIX}:{found.review_id}"
                    )
                ],
            ]
        )
        return Message(text, keyboard)

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
