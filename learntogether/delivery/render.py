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
from learntogether.content.validate import MESSAGE_LIMIT
from learntogether.db.models import BroadcastKind, User
from learntogether.i18n import LANGUAGE_NAMES, Locales
from learntogether.services import catalogue, cohorts, learners, player, recordings, review
from learntogether.services.catalogue import LessonEntry
from learntogether.services.outbox import RESUME_CALLBACK, Claimed
from learntogether.telegram_html import TelegramHTMLError, parse_html, shorten, utf16_length

CONTINUE_TEXT_LIMIT = 60


@dataclass(frozen=True)
class MenuChange:
    """The learner's own command menu, set before the message goes."""

    mediator: bool
    """True: the learner's commands and the mediators'; False: back to everyone's menu."""
    locale: str
    """The UI catalogs the menu is written in (``Locales.catalog``)."""


@dataclass(frozen=True)
class Message:
    text: str
    """Telegram HTML."""
    reply_markup: InlineKeyboardMarkup | None = None
    menu: MenuChange | None = None


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
        written. A mediator-role notice says which groups the learner mediates now and brings
        their command menu along.
        """
        if delivery.kind is BroadcastKind.MEDIATOR_ROLE:
            return await self._mediator_role(session, delivery, locales)
        if delivery.kind is BroadcastKind.REVIEW:
            return await self.review_invitation(session, delivery, locales)
        if delivery.kind is BroadcastKind.RECORDING_REVIEW:
            return await self._recording_review(session, delivery, locales)
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
            text = self._signed(pick_text(delivery.text, locales.content), delivery, locales)
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
        parts = [header, player.language_notice(rendered, self.i18n, locales.catalog), step]
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

    async def _mediator_role(
        self, session: AsyncSession, delivery: Claimed, locales: Locales
    ) -> Message:
        names = await cohorts.mediated_by(session, user_id=delivery.learner.id)
        menu = MenuChange(mediator=bool(names), locale=locales.catalog)
        if not names:
            text = self.i18n.gettext(
                "You no longer mediate a group. /cohort, /broadcast, /nudge and /record have left "
                "your command menu.",
                locale=locales.catalog,
            )
            return Message(text, menu=menu)
        text = self.i18n.gettext(
            "You are now a mediator of {cohorts}.\n/cohort shows who is behind and opens a "
            "workshop check-in, /broadcast sends the group a message, /nudge nudges those who "
            "went quiet, /record records a lesson step in your language. They are in your command "
            "menu.",
            locale=locales.catalog,
        ).format(cohorts=html.escape(", ".join(names)))
        return Message(text, menu=menu)

    async def _recording_review(
        self, session: AsyncSession, delivery: Claimed, locales: Locales
    ) -> Message | Unsendable:
        notice = await recordings.review_notice(
            session, broadcast_id=delivery.broadcast_id, chain=locales.content
        )
        if notice is None:
            return Unsendable("the recording is gone")
        if notice.approved:
            template = self.i18n.gettext(
                "Your recording of <b>{lesson}</b>, step {step} ({language}), was approved: "
                "learners now hear it in the lesson. Thank you!",
                locale=locales.catalog,
            )
        else:
            template = self.i18n.gettext(
                "Your recording of <b>{lesson}</b>, step {step} ({language}), was not approved.",
                locale=locales.catalog,
            )
        text = template.format(
            lesson=html.escape(notice.lesson_title),
            step=notice.step,
            language=html.escape(LANGUAGE_NAMES.get(notice.locale, notice.locale)),
        )
        if notice.comment:
            text += "\n\n" + self.i18n.gettext(
                "<i>From the programme team:</i> {comment}", locale=locales.catalog
            ).format(comment=html.escape(notice.comment))
        return Message(text)

    def _signed(self, text: str, delivery: Claimed, locales: Locales) -> str:
        """A mediator's broadcast says who wrote it, when there is room for the line."""
        if delivery.sender is None:
            return text
        signed = self.i18n.gettext(
            "<i>From your mediator {name}:</i>\n\n{text}", locale=locales.catalog
        ).format(name=html.escape(delivery.sender), text=text)
        return signed if len(signed) <= MESSAGE_LIMIT else text

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
