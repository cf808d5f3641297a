"""The command menu, per language, and the /help text built from the same list.

Mediators get a menu of their own in their chat (``BotCommandScopeChat``) with the mediators'
commands too, set when they become one and removed when they mediate nothing any more.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from learntogether.i18n import SUPPORTED_LOCALES, telegram_language_code

log = logging.getLogger(__name__)


def learner_commands() -> list[tuple[str, str]]:
    """(command, description) in the current locale; the order is the menu's."""
    return [
        ("lessons", _("Lessons for you, and where you left off")),
        ("progress", _("What you have done so far")),
        ("start", _("Start, or join a group with an invite link")),
        ("settings", _("Language, role, reminders and quiet hours")),
        ("language", _("Change the language")),
        ("help", _("What I can do")),
        ("privacy", _("How your data is used")),
        ("mydata", _("See all your data")),
        ("delete", _("Erase your data")),
    ]


def mediator_commands() -> list[tuple[str, str]]:
    """The commands mediators have on top of the learners' ones."""
    return [
        ("cohort", _("Your groups: who is behind, workshop check-in")),
        ("broadcast", _("Send a message to a group")),
        ("nudge", _("Nudge the members who have gone quiet")),
        ("console", _("A sign-in link to the web console")),
        ("record", _("Read a lesson step aloud in your language")),
    ]


async def register_commands(bot: Bot, i18n: I18n) -> None:
    """One menu per language Telegram can name (ISO 639-1), and the English one as the default."""
    with i18n.context():
        for locale in SUPPORTED_LOCALES:
            code = telegram_language_code(locale)
            if code is None:
                continue  # Romani has no two-letter code: its learners get the default list.
            await bot.set_my_commands(_menu(i18n, locale), language_code=code)
        await bot.set_my_commands(_menu(i18n, i18n.default_locale))
    log.info("command menus registered")


def _menu(i18n: I18n, locale: str, *, mediator: bool = False) -> list[BotCommand]:
    with i18n.use_locale(locale):
        commands = learner_commands() + (mediator_commands() if mediator else [])
        return [BotCommand(command=name, description=text) for name, text in commands]


class ChatMenus:
    """One chat's own menu: the learner's and the mediators' commands in the chat's language,
    or none again (the chat then sees the menu of its language). The delivery worker calls it
    with the mediator-role notice."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def __call__(self, bot: Bot, chat_id: int, *, mediator: bool, locale: str) -> None:
        scope = BotCommandScopeChat(chat_id=chat_id)
        if not mediator:
            await bot.delete_my_commands(scope=scope)
            return
        with self.i18n.context():
            commands = _menu(self.i18n, locale, mediator=True)
        await bot.set_my_commands(commands, scope=scope)
