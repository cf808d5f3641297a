"""The daily reminder's time, by hour and minute, and the time zone, by country then city.

Screens only: /settings and onboarding both show them, each with its own handlers (``flow`` in
the callback data says whose), so that a choice goes back where it came from.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache

from aiogram.types import CallbackQuery, InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import (
    Flow,
    NoReminders,
    PickCountry,
    PickHour,
    ReminderAt,
    ReminderHour,
    SettingsMenu,
    TimeZoneChoice,
    ZoneCountry,
)
from bot.keyboards import InlineKeyboardBuilder
from bot.views import Screen, show
from learntogether.db.models import User
from learntogether.services import learners, time_zones
from learntogether.services.quiet_hours import covers

MINUTE_STEP = 5
QUIET_MARK = "🌙"


def clock(value: time) -> str:
    return value.strftime("%H:%M")


def _back(builder: InlineKeyboardBuilder, flow: Flow) -> None:
    if flow == "s":
        builder.row(
            InlineKeyboardButton(
                text=_("◀ Settings"), callback_data=SettingsMenu(part="back").pack()
            )
        )


def hours(
    flow: Flow,
    *,
    zone: str | None,
    locale: str,
    quiet: tuple[time, time] | None,
    note: str | None = None,
) -> Screen:
    """Twenty-four hours on the clock of ``zone`` (named by its city in ``locale``; None: not
    known yet); those wholly inside quiet hours are marked with a moon."""
    builder = InlineKeyboardBuilder()
    builder.add(*_hour_buttons(flow, quiet))
    builder.adjust(6)
    if flow == "o":
        builder.row(
            InlineKeyboardButton(
                text=_("No reminders, thanks"), callback_data=NoReminders(flow=flow).pack()
            )
        )
    _back(builder, flow)
    if zone is None:
        question = _(
            "When shall I remind you? Choose the hour, then the minutes, on your own clock "
            "(I will ask your country next)."
        )
    else:
        question = _(
            "When shall I remind you? Choose the hour ({zone} time), then the minutes."
        ).format(zone=time_zones.city_name(zone, locale))
    if quiet is not None:
        question += "\n" + _("{mark} quiet hours: {start}–{end}").format(
            mark=QUIET_MARK, start=clock(quiet[0]), end=clock(quiet[1])
        )
    text = f"{note}\n\n{question}" if note else question
    return Screen(text, builder.as_markup())


@lru_cache(maxsize=256)
def _hour_buttons(flow: Flow, quiet: tuple[time, time] | None) -> tuple[InlineKeyboardButton, ...]:
    """The hours of the clock as buttons, those wholly inside quiet hours marked: the same for
    everyone with the same quiet hours (every learner in onboarding), so built once (buttons are
    frozen models)."""
    buttons = []
    for hour in range(24):
        asleep = quiet is not None and all(
            covers(time(hour, minute), start=quiet[0], end=quiet[1]) for minute in (0, 59)
        )
        buttons.append(
            InlineKeyboardButton(
                text=f"{hour:02d}{' ' + QUIET_MARK if asleep else ''}",
                callback_data=ReminderHour(flow=flow, hour=hour).pack(),
            )
        )
    return tuple(buttons)


def minutes(flow: Flow, hour: int) -> Screen:
    builder = InlineKeyboardBuilder()
    for minute in range(0, 60, MINUTE_STEP):
        builder.button(
            text=f"{hour:02d}:{minute:02d}",
            callback_data=ReminderAt(flow=flow, minutes=hour * 60 + minute),
        )
    builder.adjust(4)
    builder.row(
        InlineKeyboardButton(text=_("◀ Another hour"), callback_data=PickHour(flow=flow).pack())
    )
    return Screen(_("And the minutes?"), builder.as_markup())


def countries(flow: Flow, *, locale: str, everywhere: bool) -> Screen:
    """The programme's countries (or every European one), by name in the reader's language."""
    codes = time_zones.european_countries() if everywhere else time_zones.PROGRAMME_COUNTRIES
    builder = InlineKeyboardBuilder()
    for code, name in time_zones.countries_by_name(codes, locale):
        builder.button(text=name, callback_data=ZoneCountry(flow=flow, country=code))
    builder.adjust(2)
    if not everywhere:
        builder.row(
            InlineKeyboardButton(
                text=_("Another country ▶"),
                callback_data=PickCountry(flow=flow, everywhere=True).pack(),
            )
        )
    _back(builder, flow)
    return Screen(
        _("Which country are you in? Your reminders follow its clock."), builder.as_markup()
    )


def cities(flow: Flow, *, country: str, locale: str) -> Screen:
    """A country with several clocks: which city's."""
    builder = InlineKeyboardBuilder()
    for zone in time_zones.zones_of(country):
        builder.button(
            text=time_zones.city_name(zone, locale),
            callback_data=TimeZoneChoice(flow=flow, country=country, zone=zone),
        )
    builder.adjust(1)
    builder.row(
        InlineKeyboardButton(
            text=_("◀ Another country"),
            callback_data=PickCountry(flow=flow, everywhere=False).pack(),
        )
    )
    return Screen(
        _("{country} has several time zones. Which city's clock is yours?").format(
            country=time_zones.country_name(country, locale)
        ),
        builder.as_markup(),
    )


def quiet_refusal(at: time, quiet: tuple[time, time]) -> str:
    """Why a reminder time was refused: it falls in quiet hours (nothing is moved silently)."""
    return _(
        "I cannot remind you at {time}: that is inside your quiet hours ({start}–{end}), when I "
        "send you nothing. Choose another time, or change your quiet hours first."
    ).format(time=clock(at), start=clock(quiet[0]), end=clock(quiet[1]))


async def take_country(
    query: CallbackQuery,
    session: AsyncSession,
    learner: User,
    *,
    flow: Flow,
    country: str,
    locale: str,
) -> bool:
    """A country chosen for the clock: True when it has one zone, now the learner's; else its
    cities are shown to choose from (or a country the bot does not know is answered), False."""
    zones = time_zones.zones_of(country)
    if not zones:
        # Not a button the bot made: answered as the fallback answers such buttons.
        await query.answer(
            _("This button is no longer active. Send /help to see what I can do."), show_alert=True
        )
        return False
    if len(zones) != 1:
        await query.answer()
        await show(query, cities(flow, country=country, locale=locale))
        return False
    await learners.set_reminders(session, learner=learner, timezone=zones[0], country=country)
    return True
