"""``/settings``: language, role, municipality, reminders, time zone, quiet hours, and whether
to listen to recorded lessons."""

from __future__ import annotations

from datetime import time

from aiogram import F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards, pickers
from bot.callbacks import (
    Flow,
    ListenChoice,
    PickCountry,
    PickHour,
    QuietHoursChoice,
    ReminderAt,
    ReminderHour,
    RoleChoice,
    SettingsMenu,
    TimeZoneChoice,
    ZoneCountry,
)
from bot.filters import registered, typed_text
from bot.keyboards import InlineKeyboardBuilder
from bot.texts import role_label, saved_place_notice
from bot.views import Screen, send, show
from learntogether.db.models import Role, User
from learntogether.i18n import LANGUAGE_NAMES, PARTIAL_LOCALES, Locales
from learntogether.services import learners

QUIET_PRESETS = ((22, 8), (21, 9), (20, 7))


class EditingSettings(StatesGroup):
    municipality = State()


def _clock(value: time | None) -> str:
    return value.strftime("%H:%M") if value else "—"


def menu(learner: User, locales: Locales) -> Screen:
    current = learners.settings_of(learner)
    if not current.reminders_enabled:
        reminders = _("off")
    elif current.reminder_time is None:
        reminders = _("on, no time chosen yet")
    else:
        reminders = _("every day at {time}").format(time=_clock(current.reminder_time))
    quiet = (
        _("none")
        if current.quiet_hours is None
        else f"{_clock(current.quiet_hours[0])}–{_clock(current.quiet_hours[1])}"
    )
    text = _(
        "<b>Your settings</b>\n"
        "Language: {language}\nRole: {role}\nMunicipality: {municipality}\n"
        "Reminders: {reminders}\nTime zone: {zone}\nQuiet hours: {quiet}\nLessons: {lessons}"
    ).format(
        language=(
            f"{LANGUAGE_NAMES[locales.ui]} → {LANGUAGE_NAMES[learner.reads_locale]}"
            if learner.reads_locale in LANGUAGE_NAMES and locales.ui in PARTIAL_LOCALES
            else LANGUAGE_NAMES[locales.ui]
        ),
        role=role_label(current.role) if current.role else "—",
        municipality=html.quote(current.municipality or "—"),
        reminders=reminders,
        zone=current.timezone,
        quiet=quiet,
        lessons=(_("listened to where recorded") if current.prefers_audio else _("read as text")),
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Language"), callback_data=SettingsMenu(part="lang"))
    builder.button(text=_("Role"), callback_data=SettingsMenu(part="role"))
    builder.button(text=_("Municipality"), callback_data=SettingsMenu(part="place"))
    toggle = _("Turn reminders off") if current.reminders_enabled else _("Turn reminders on")
    builder.button(text=toggle, callback_data=SettingsMenu(part="toggle"))
    builder.button(text=_("Reminder time"), callback_data=SettingsMenu(part="time"))
    builder.button(text=_("Time zone"), callback_data=SettingsMenu(part="zone"))
    builder.button(text=_("Quiet hours"), callback_data=SettingsMenu(part="quiet"))
    listen = _("📖 I'd rather read") if current.prefers_audio else _("🔊 I'd rather listen")
    builder.button(text=listen, callback_data=SettingsMenu(part="listen"))
    builder.adjust(2)
    return Screen(text, builder.as_markup())


async def _show(query: CallbackQuery, screen: Screen) -> None:
    await query.answer()
    await show(query, screen)


async def show_settings(message: Message, learner: User, locales: Locales) -> None:
    screen = menu(learner, locales)
    await send(message, screen)


async def open_part(
    query: CallbackQuery,
    callback_data: SettingsMenu,
    session: AsyncSession,
    learner: User,
    state: FSMContext,
    locales: Locales,
) -> None:
    part = callback_data.part
    if part == "back":
        await _show(query, menu(learner, locales))
        return
    if part == "toggle":
        if not learner.reminders_enabled and learner.reminder_time is None:
            # "Reminders on" always has a time: choosing it turns them on.
            await _show(query, hour_picker(learner, locales.formatting))
            return
        await learners.set_reminders(
            session, learner=learner, enabled=not learner.reminders_enabled
        )
        await _show(query, menu(learner, locales))
        return
    if part == "listen":
        await learners.set_listening(
            session, learner=learner, prefers_audio=not learner.prefers_audio
        )
        await _show(query, menu(learner, locales))
        return
    if part == "place":
        await state.set_state(EditingSettings.municipality)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Type the name of your municipality, or send a dash (-) to remove it.")
            )
        return
    if part == "lang":
        await _show(
            query,
            Screen(
                _("Which language would you like to learn in?"), keyboards.languages(learner.locale)
            ),
        )
        return
    if part == "role":
        await _show(query, Screen(_("Which of these describes you best?"), keyboards.roles()))
        return
    if part == "time":
        await _show(query, hour_picker(learner, locales.formatting))
        return
    if part == "zone":
        await _show(query, pickers.countries("s", locale=locales.formatting, everywhere=False))
        return
    builder = InlineKeyboardBuilder()
    for start, end in QUIET_PRESETS:
        builder.button(
            text=f"{start:02d}:00–{end:02d}:00",
            callback_data=QuietHoursChoice(start=start, end=end),
        )
    builder.button(text=_("No quiet hours"), callback_data=QuietHoursChoice(start=0, end=0))
    builder.adjust(3)
    await _show(query, Screen(_("When should I never send you messages?"), builder.as_markup()))


def hour_picker(learner: User, locale: str, note: str | None = None, flow: Flow = "s") -> Screen:
    current = learners.settings_of(learner)
    return pickers.hours(
        flow, zone=current.timezone, locale=locale, quiet=current.quiet_hours, note=note
    )


async def pick_hour(
    query: CallbackQuery, callback_data: PickHour, learner: User, locales: Locales
) -> None:
    await _show(query, hour_picker(learner, locales.formatting, flow=callback_data.flow))


async def choose_hour(query: CallbackQuery, callback_data: ReminderHour) -> None:
    """Both flows: the hour chosen, the minutes next."""
    await _show(query, pickers.minutes(callback_data.flow, callback_data.hour))


async def pick_country(query: CallbackQuery, callback_data: PickCountry, locales: Locales) -> None:
    """Both flows: the programme's countries, or every European one."""
    screen = pickers.countries(
        callback_data.flow, locale=locales.formatting, everywhere=callback_data.everywhere
    )
    await _show(query, screen)


async def choose_role(
    query: CallbackQuery,
    callback_data: RoleChoice,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    await learners.set_role(session, learner=learner, role=Role(callback_data.role))
    await _show(query, menu(learner, locales))


async def choose_time(
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
        await _show(
            query,
            hour_picker(learner, locales.formatting, note=pickers.quiet_refusal(at, refused.quiet)),
        )
        return
    await _show(query, menu(learner, locales))


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
        flow="s",
        country=callback_data.country,
        locale=locales.formatting,
    )
    if chosen:
        await _show(query, menu(learner, locales))


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
    await _show(query, menu(learner, locales))


async def choose_quiet(
    query: CallbackQuery,
    callback_data: QuietHoursChoice,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    hours = (
        None
        if callback_data.start == callback_data.end
        else (time(callback_data.start), time(callback_data.end))
    )
    try:
        await learners.set_reminders(session, learner=learner, quiet_hours=hours)
    except learners.ReminderInQuietHours as refused:
        await query.answer(
            _(
                "These quiet hours ({start}–{end}) would cover your reminder at {time}. Change "
                "the reminder time first, or choose other quiet hours."
            ).format(
                start=pickers.clock(refused.quiet[0]),
                end=pickers.clock(refused.quiet[1]),
                time=pickers.clock(refused.at),
            ),
            show_alert=True,
        )
        return
    await _show(query, menu(learner, locales))


async def choose_listening(
    query: CallbackQuery, callback_data: ListenChoice, session: AsyncSession, learner: User
) -> None:
    """The answer to the question parents get when they join (``onboarding.ask_listening``)."""
    await learners.set_listening(session, learner=learner, prefers_audio=callback_data.listen)
    if callback_data.listen:
        said = _(
            "Done: lesson steps recorded in your language will come as voice messages. "
            "You can change this in /settings."
        )
    else:
        said = _("Done: you will read the lessons. You can change this in /settings.")
    await _show(query, Screen(said))


async def type_municipality(
    message: Message, session: AsyncSession, learner: User, state: FSMContext, locales: Locales
) -> None:
    await state.clear()
    value = None if (message.text or "").strip() == "-" else message.text
    stored = await learners.set_municipality(session, learner=learner, municipality=value)
    if notice := saved_place_notice(value, stored):
        await message.answer(notice)
    await show_settings(message, learner, locales)


def create_router() -> Router:
    router = Router(name="settings")
    router.message.filter(registered)
    router.callback_query.filter(registered)
    router.message.register(show_settings, Command("settings"))
    router.callback_query.register(open_part, SettingsMenu.filter())
    router.callback_query.register(choose_role, RoleChoice.filter())
    router.callback_query.register(pick_hour, PickHour.filter())
    router.callback_query.register(choose_hour, ReminderHour.filter())
    router.callback_query.register(pick_country, PickCountry.filter())
    router.callback_query.register(choose_time, ReminderAt.filter(F.flow == "s"))
    router.callback_query.register(choose_country, ZoneCountry.filter(F.flow == "s"))
    router.callback_query.register(choose_zone, TimeZoneChoice.filter(F.flow == "s"))
    router.callback_query.register(choose_quiet, QuietHoursChoice.filter())
    router.callback_query.register(choose_listening, ListenChoice.filter())
    router.message.register(
        type_municipality,
        StateFilter(EditingSettings.municipality),
        typed_text,
    )
    return router
