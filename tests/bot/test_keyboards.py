"""The inline keyboard builder the bot's screens use."""

from __future__ import annotations

from datetime import time

import pytest
from aiogram.utils import keyboard

from bot import pickers
from bot.callbacks import ReminderHour
from bot.keyboards import InlineKeyboardBuilder
from learntogether.i18n import create_i18n


def _hours(builder: keyboard.InlineKeyboardBuilder) -> keyboard.InlineKeyboardBuilder:
    for hour in range(24):
        builder.button(text=f"{hour:02d}", callback_data=ReminderHour(flow="o", hour=hour))
    builder.adjust(6)
    builder.button(text="later")
    return builder


def test_a_keyboard_is_built_as_aiograms_builder_builds_it_without_copying_a_button(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = _hours(keyboard.InlineKeyboardBuilder()).as_markup()

    def no_copies(_value: object) -> None:
        raise AssertionError("a keyboard was deep-copied")

    monkeypatch.setattr(keyboard, "deepcopy", no_copies)
    builder = _hours(InlineKeyboardBuilder())
    markup = builder.as_markup()
    assert markup == expected
    builder.row(*markup.inline_keyboard[0][:1])
    builder.button(text="more")
    assert markup == expected  # a markup given out does not change with the builder


def test_the_hour_picker_marks_quiet_hours_and_is_built_once_for_the_same_quiet_hours() -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale("en"):
        quiet = (time(22, 0), time(7, 0))
        first = pickers.hours("o", zone=None, locale="en", quiet=quiet)
        second = pickers.hours("o", zone=None, locale="en", quiet=quiet)
        awake = pickers.hours("o", zone=None, locale="en", quiet=None)
    assert first.keyboard is not None and second.keyboard is not None
    hours = [button.text for row in first.keyboard.inline_keyboard[:4] for button in row]
    assert hours[6:8] == ["06 🌙", "07"]
    assert hours[21:23] == ["21", "22 🌙"]
    assert first.keyboard.inline_keyboard[0][0] is second.keyboard.inline_keyboard[0][0]
    assert awake.keyboard is not None
    assert all("🌙" not in button.text for row in awake.keyboard.inline_keyboard for button in row)
