"""The inline keyboard builder the bot's screens use."""

from __future__ import annotations

import pytest
from aiogram.utils import keyboard

from bot.callbacks import ReminderHour
from bot.keyboards import InlineKeyboardBuilder


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
