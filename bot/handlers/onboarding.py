"""``/start``: language, role, privacy consent, optional municipality, then a first lesson.

Choices before consent live only in the conversation state; nothing about the person is stored
until they agree, and a refusal stores nothing.
"""

from __future__ import annotations

import contextlib
from datetime import time

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards, pickers
from bot.callbacks import (
    ConsentChoice,
    LanguageChoice,
    NoReminders,
    ReadsBest,
    ReminderAt,
    RoleChoice,
    SkipMunicipality,
    TimeZoneChoice,
    ZoneCountry,
)
from bot.filters import Matches, registered
from bot.texts import privacy_notice, saved_place_notice
from bot.views import Screen, continue_keyboard, send, show
from learntogether.config import Settings
from learntogether.db.models import Role, User
from learntogether.deeplinks import start_payload
from learntogether.i18n import (
    COMPLETE_LOCALES,
    LANGUAGE_NAMES,
    PARTIAL_LOCALES,
    SOURCE_LOCALE,
    Locales,
    negotiate_locale,
)
from learntogether.services import catalogue, events, learners, time_zones
from learntogether.services.player import language_name

EVENT_PAYLOAD_PREFIX = "e-"


class Onboarding(StatesGroup):
    language = State()
    reads = State()
    role = State()
    consent = State()
    municipality = State()


def _name(message: Message) -> str:
    return html.quote(message.chat.first_name or "") if message.chat else ""


async def start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    state: FSMContext,
    learner: User | None,
    locales: Locales,
) -> None:
    payload = start_payload(command.args)
    event_code = _event_from_payload(payload)
    cohort_code = await _cohort_from_payload(message, payload, session)
    if learner is not None and learners.has_consented(learner):
        await state.clear()
        if event_code is not None:
            await _check_in(message, session, learner, event_code)
            return
        if cohort_code is not None:
            joined = await learners.join_cohort(session, learner=learner, code=cohort_code)
            if joined.already_member:
                text = _("You are already in the group {name}.")
            else:
                text = _("You joined the group {name}.")
            await message.answer(text.format(name=html.quote(joined.name)))
        lesson = await catalogue.suggested_lesson(session, learner=learner, chain=locales.content)
        if lesson is None:
            text = _(
                "Welcome back, {name}! Send /lessons to continue where you left off, "
                "or /help to see what I can do."
            )
        else:
            text = _(
                "Welcome back, {name}! The button below takes you on where you left off; "
                "/help shows what else I can do."
            )
        await message.answer(
            text.format(name=_name(message)), reply_markup=continue_keyboard(lesson)
        )
        return
    await state.set_state(Onboarding.language)
    await state.update_data(cohort=cohort_code, event=event_code)
    await message.answer(
        _(
            "Hello, {name}! Welcome to <b>To Learn Together</b>: short lessons for teachers, "
            "school staff, mediators and parents on making school work for every child, "
            "Roma children included.\n\nWhich language would you like to learn in?"
        ).format(name=_name(message)),
        reply_markup=keyboards.languages(locales.ui),
    )


async def _cohort_from_payload(
    message: Message, payload: str | None, session: AsyncSession
) -> str | None:
    """The cohort code of a ``c-<code>`` invite link, or None (telling the learner when it is bad)."""
    if not payload or not payload.startswith(learners.COHORT_PAYLOAD_PREFIX):
        return None
    code = payload.removeprefix(learners.COHORT_PAYLOAD_PREFIX)
    try:
        await learners.find_cohort(session, code)
    except learners.CohortNotFound:
        await message.answer(
            _(
                "This invite link is not valid or has expired. You can still start on your own; "
                "ask your mediator for a new link."
            )
        )
        return None
    return code


def _event_from_payload(payload: str | None) -> str | None:
    """The workshop code of an ``e-<code>`` check-in link (checked when the learner is known)."""
    if not payload or not payload.startswith(EVENT_PAYLOAD_PREFIX):
        return None
    return payload.removeprefix(EVENT_PAYLOAD_PREFIX)


async def _check_in(message: Message, session: AsyncSession, learner: User, code: str) -> None:
    try:
        checked = await events.check_in(session, learner=learner, code=code)
    except events.CheckInClosed:
        await message.answer(
            _(
                "This check-in link is not valid or the workshop's check-in is not open now. "
                "Your mediator can check you in."
            )
        )
        return
    if checked.already:
        text = _("You are already checked in to {title}.")
    else:
        text = _("You are checked in to {title}. Thank you for coming!")
    text = text.format(title=html.quote(checked.title))
    if checked.joined:
        # Their mediators see them from now on: the learner is told, not left to guess.
        text += "\n" + _(
            "You are in the group {name} now too: its mediators see your progress and can "
            "write to you."
        ).format(name=html.quote(checked.cohort_name))
    await message.answer(text)


async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    state: FSMContext,
    session: AsyncSession,
    learner: User | None,
    settings: Settings,
    i18n: I18n,
) -> None:
    await state.update_data(locale=callback_data.code, reads=None)
    chosen = await learners.locales(
        session,
        learner,
        default_locale=settings.default_locale,
        chosen=callback_data.code,
        invite_cohort=(await state.get_data()).get("cohort"),
    )
    with i18n.use_locale(chosen.catalog):
        await query.answer()
        if callback_data.code in PARTIAL_LOCALES:
            await state.set_state(Onboarding.reads)
            await _edit(
                query,
                *_reads_best_question(callback_data.code, chosen, query.from_user.language_code),
            )
            return
        await state.set_state(Onboarding.role)
        await _edit(query, _("Which of these describes you best?"), keyboards.roles())


def _reads_best_question(
    code: str, chosen: Locales, telegram: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    """A partial language (Romani) chosen: which complete one fills in what it lacks. Suggested:
    the cohort's language, else Telegram's, else English."""
    candidates = [
        *(other for other in chosen.content[1:] if other != SOURCE_LOCALE),
        negotiate_locale(telegram),
        SOURCE_LOCALE,
    ]
    suggested = next(other for other in candidates if other in COMPLETE_LOCALES)
    text = _(
        "{language} is not complete yet: some texts are not translated. Which language do you "
        "read best? Whatever is missing in {language} I will show in that language."
    ).format(language=language_name(code, _))
    return text, keyboards.reads_best(suggested)


async def choose_reads_best(
    query: CallbackQuery,
    callback_data: ReadsBest,
    state: FSMContext,
    session: AsyncSession,
    learner: User | None,
    settings: Settings,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    await state.update_data(reads=callback_data.code)
    await state.set_state(Onboarding.role)
    chosen = await learners.locales(
        session,
        learner,
        default_locale=settings.default_locale,
        chosen=data.get("locale"),
        invite_cohort=data.get("cohort"),
        reads=callback_data.code,
    )
    with i18n.use_locale(chosen.catalog):
        await query.answer()
        await _edit(query, _("Which of these describes you best?"), keyboards.roles())


async def choose_role(query: CallbackQuery, callback_data: RoleChoice, state: FSMContext) -> None:
    await state.update_data(role=callback_data.role)
    await state.set_state(Onboarding.consent)
    await query.answer()
    # Two whole paragraphs, each translated on its own: the notice is also shown by /privacy.
    await _edit(query, privacy_notice() + "\n\n" + _("Do you agree?"), keyboards.consent())


async def give_consent(
    query: CallbackQuery,
    callback_data: ConsentChoice,
    state: FSMContext,
    session: AsyncSession,
    locales: Locales,
) -> None:
    data = await state.get_data()
    if not callback_data.agree:
        await state.clear()
        await query.answer()
        await _edit(
            query, _("Nothing about you has been stored. If you change your mind, send /start.")
        )
        return
    learner = await learners.register(
        session,
        telegram_id=query.from_user.id,
        first_name=query.from_user.first_name,
        locale=locales.ui,
        role=Role(data.get("role") or Role.TEACHER),
        cohort_code=data.get("cohort"),
        reads_locale=data.get("reads"),
    )
    await state.set_state(Onboarding.municipality)
    await query.answer(_("Thank you!"))
    await _edit(
        query,
        _(
            "Thank you! In which municipality do you work or live? Type its name, or skip: it only "
            "helps your mediator and the programme see where people take part."
        ),
        keyboards.skip_municipality(),
    )
    if isinstance(query.message, Message):
        # So that a typed answer can take the Skip button away.
        await state.update_data(municipality_question=query.message.message_id)
    if data.get("event") and isinstance(query.message, Message):
        await _check_in(query.message, session, learner, data["event"])


async def give_municipality(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    learner: User | None,
    locales: Locales,
    bot: Bot,
) -> None:
    question = (await state.get_data()).get("municipality_question")
    await state.clear()
    if learner is None:
        return
    stored = await learners.set_municipality(session, learner=learner, municipality=message.text)
    if notice := saved_place_notice(message.text, stored):
        await message.answer(notice)
    if question is not None:
        # Answered by typing: the question's Skip button would only confuse now.
        with contextlib.suppress(TelegramBadRequest):
            await bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=question, reply_markup=None
            )
    await send(message, _reminder_question(learner, locales))


async def skip_municipality(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    learner: User | None,
    locales: Locales,
) -> None:
    await state.clear()
    await query.answer()
    if learner is not None and isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await send(query.message, _reminder_question(learner, locales))


def _reminder_question(learner: User, locales: Locales) -> Screen:
    """The question "When shall I remind you?": so that reminders on always have a time."""
    current = learners.settings_of(learner)
    zone = None if learners.needs_zone(learner) else current.timezone
    return pickers.hours("o", zone=zone, locale=locales.formatting, quiet=current.quiet_hours)


async def choose_reminder_time(
    query: CallbackQuery,
    callback_data: ReminderAt,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    at = time(callback_data.minutes // 60, callback_data.minutes % 60)
    try:
        await learners.set_reminders(session, learner=learner, at=at)
    except learners.ReminderInQuietHours as refused:
        current = learners.settings_of(learner)
        note = pickers.quiet_refusal(at, refused.quiet)
        await query.answer()
        await show(
            query,
            pickers.hours(
                "o",
                zone=current.timezone,
                locale=locales.formatting,
                quiet=refused.quiet,
                note=note,
            ),
        )
        return
    if learners.needs_zone(learner):
        # No cohort to take a clock from: the learner's country, not UTC.
        await query.answer()
        await show(query, pickers.countries("o", locale=locales.formatting, everywhere=False))
        return
    await _finish(query, session, learner, locales)


async def no_reminders(
    query: CallbackQuery, session: AsyncSession, learner: User, locales: Locales
) -> None:
    await learners.set_reminders(session, learner=learner, enabled=False)
    await _finish(query, session, learner, locales)


async def choose_country(
    query: CallbackQuery,
    callback_data: ZoneCountry,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    chosen = await pickers.take_country(
        query,
        session,
        learner,
        flow="o",
        country=callback_data.country,
        locale=locales.formatting,
    )
    if chosen:
        await _finish(query, session, learner, locales)


async def choose_zone(
    query: CallbackQuery,
    callback_data: TimeZoneChoice,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    await learners.set_reminders(
        session, learner=learner, timezone=callback_data.zone, country=callback_data.country
    )
    await _finish(query, session, learner, locales)


async def _finish(
    query: CallbackQuery, session: AsyncSession, learner: User, locales: Locales
) -> None:
    """The end of onboarding, in the message of the last question: the reminder as set, and a
    first lesson."""
    await query.answer()
    current = learners.settings_of(learner)
    if current.reminders_enabled and current.reminder_time is not None:
        said = _("I will remind you every day at {time} ({zone} time).").format(
            time=pickers.clock(current.reminder_time),
            zone=time_zones.city_name(current.timezone, locales.formatting),
        )
    else:
        said = _("No reminders: you can turn them on in /settings.")
    lesson = await catalogue.suggested_lesson(session, learner=learner, chain=locales.content)
    if lesson is None:
        text = _("You are all set! Send /lessons to see the lessons.")
    else:
        text = _(
            "You are all set! A good first lesson for you: <b>{title}</b> ({minutes} min)."
        ).format(title=html.quote(lesson.title), minutes=lesson.minutes)
    await _edit(query, f"{said}\n\n{text}", continue_keyboard(lesson))
    if learner.role is Role.PARENT and isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Would you rather listen to the lessons? Where a step is recorded in your "
                "language, I can send it as a voice message."
            ),
            reply_markup=keyboards.listening(),
        )


async def _edit(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    await show(query, Screen(text, markup))


async def language_command(message: Message, learner: User | None) -> None:
    current = learner.locale if learner else None
    await message.answer(
        _("Which language would you like to learn in?"), reply_markup=keyboards.languages(current)
    )


async def change_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    await learners.set_locale(session, learner=learner, locale=callback_data.code)
    changed = await learners.locales(session, learner, default_locale=settings.default_locale)
    with i18n.use_locale(changed.catalog):
        await query.answer()
        if callback_data.code in PARTIAL_LOCALES:
            await _edit(
                query,
                *_reads_best_question(callback_data.code, changed, query.from_user.language_code),
            )
            return
        await _edit(query, _language_done(learner))


async def change_reads_best(
    query: CallbackQuery,
    callback_data: ReadsBest,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    await learners.set_locale(
        session, learner=learner, locale=learner.locale or SOURCE_LOCALE, reads=callback_data.code
    )
    changed = await learners.locales(session, learner, default_locale=settings.default_locale)
    with i18n.use_locale(changed.catalog):
        await query.answer()
        await _edit(query, _language_done(learner))


def _language_done(learner: User) -> str:
    language = LANGUAGE_NAMES.get(learner.locale or SOURCE_LOCALE, SOURCE_LOCALE)
    if learner.reads_locale is None or learner.locale not in PARTIAL_LOCALES:
        return _("Done: I will speak to you in {language}.").format(language=language)
    return _(
        "Done: I will speak to you in {language}, and what is missing in it in {reads}."
    ).format(language=language, reads=LANGUAGE_NAMES[learner.reads_locale])


def create_router() -> Router:
    router = Router(name="onboarding")
    router.message.register(start, CommandStart())
    router.callback_query.register(
        choose_language, LanguageChoice.filter(), StateFilter(Onboarding.language)
    )
    router.callback_query.register(
        choose_reads_best, ReadsBest.filter(), StateFilter(Onboarding.reads)
    )
    router.callback_query.register(choose_role, RoleChoice.filter(), StateFilter(Onboarding.role))
    router.callback_query.register(
        give_consent, ConsentChoice.filter(), StateFilter(Onboarding.consent)
    )
    router.message.register(
        give_municipality, StateFilter(Onboarding.municipality), Matches(F.text)
    )
    router.callback_query.register(skip_municipality, SkipMunicipality.filter())
    router.callback_query.register(
        choose_reminder_time, ReminderAt.filter(F.flow == "o"), registered
    )
    router.callback_query.register(no_reminders, NoReminders.filter(F.flow == "o"), registered)
    router.callback_query.register(choose_country, ZoneCountry.filter(F.flow == "o"), registered)
    router.callback_query.register(choose_zone, TimeZoneChoice.filter(F.flow == "o"), registered)
    router.message.register(language_command, Command("language"))
    router.callback_query.register(change_language, LanguageChoice.filter(), registered)
    router.callback_query.register(change_reads_best, ReadsBest.filter(), registered)
    return router
