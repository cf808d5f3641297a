"""Inline keyboards, built per call in the learner's language."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils import keyboard
from aiogram.utils.i18n import gettext as _

from bot.callbacks import (
    ConsentChoice,
    EraseChoice,
    LanguageChoice,
    ListenChoice,
    ReadsBest,
    RoleChoice,
    SkipMunicipality,
)
from bot.texts import role_label
from learntogether.db.models import Role
from learntogether.i18n import COMPLETE_LOCALES, LANGUAGE_NAMES


class InlineKeyboardBuilder(keyboard.InlineKeyboardBuilder):
    """aiogram's builder without its copies: it deep-copied every button built so far at each
    button added, and again for the markup (24 hours on the reminder picker: 300 pydantic copies,
    about 15 ms of CPU). Buttons are frozen models, so the rows can share them."""

    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]


def languages(suggested: str | None = None) -> InlineKeyboardMarkup:
    """Every language, the suggested one first and marked."""
    builder = InlineKeyboardBuilder()
    codes = sorted(LANGUAGE_NAMES, key=lambda code: code != suggested)
    for code in codes:
        mark = "✓ " if code == suggested else ""
        builder.button(
            text=f"{mark}{LANGUAGE_NAMES[code]}", callback_data=LanguageChoice(code=code)
        )
    builder.adjust(2)
    return builder.as_markup()


def reads_best(suggested: str | None = None) -> InlineKeyboardMarkup:
    """The complete languages, for the one a learner of a partial language reads best."""
    builder = InlineKeyboardBuilder()
    for code in sorted(COMPLETE_LOCALES, key=lambda code: code != suggested):
        mark = "✓ " if code == suggested else ""
        builder.button(text=f"{mark}{LANGUAGE_NAMES[code]}", callback_data=ReadsBest(code=code))
    builder.adjust(2)
    return builder.as_markup()


def roles() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for role in Role:
        builder.button(text=role_label(role), callback_data=RoleChoice(role=role.value))
    builder.adjust(2)
    return builder.as_markup()


def consent() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("I agree"), callback_data=ConsentChoice(agree=True))
    builder.button(text=_("I do not agree"), callback_data=ConsentChoice(agree=False))
    builder.adjust(1)
    return builder.as_markup()


def skip_municipality() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=SkipMunicipality())
    return builder.as_markup()


def listening() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔊 I'd rather listen"), callback_data=ListenChoice(listen=True))
    builder.button(text=_("📖 I'd rather read"), callback_data=ListenChoice(listen=False))
    builder.adjust(1)
    return builder.as_markup()


def confirm_erase() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, erase my data"), callback_data=EraseChoice(confirm=True))
    builder.button(text=_("Cancel"), callback_data=EraseChoice(confirm=False))
    builder.adjust(1)
    return builder.as_markup()
