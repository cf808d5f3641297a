"""Filters shared by the feature routers.

Every filter here is a coroutine: aiogram runs a plain function, and the plain ``resolve`` of a
magic filter (``F.text``) given to ``register`` as it is, in a worker thread each time a handler
is checked, and an update is checked against dozens of handlers (``tests/bot/test_no_threads.py``).
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, TelegramObject
from magic_filter import MagicFilter

from learntogether.db.models import User
from learntogether.services import learners


async def registered(_event: object, learner: User | None = None) -> bool:
    """The person agreed to the current privacy notice; features need that."""
    return learners.has_consented(learner)


class Matches(Filter):
    """A magic filter (``F.text``, ``F.data == ...``) checked in the event loop."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)


typed_text = Matches(F.text & ~F.text.startswith("/"))
"""A text message that is not a command."""


class PressOf(Filter):
    """A press of a button whose callback data has one of ``prefixes`` (by separator)."""

    def __init__(self, prefixes: dict[str, frozenset[str]]) -> None:
        self.prefixes = prefixes

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data or ""
        return any(data.partition(sep)[0] in names for sep, names in self.prefixes.items())


def only_its_own_presses(router: Router) -> None:
    """Let ``router`` look at a press only when its buttons' prefixes say one of its handlers
    may take it: else aiogram unpacks the press's data for each of its handlers in turn (every
    press went through some thirty of them). A router with a handler for other presses (a magic
    filter, no filter) or with routers of its own looks at every press, as before."""
    if router.sub_routers:
        return
    prefixes: dict[str, set[str]] = {}
    for handler in router.callback_query.handlers:
        kinds = [
            found.callback.callback_data
            for found in handler.filters or ()
            if isinstance(found.callback, CallbackQueryFilter)
        ]
        if not kinds:
            return
        for kind in kinds:
            prefixes.setdefault(kind.__separator__, set()).add(kind.__prefix__)
    if prefixes:
        router.callback_query.filter(
            PressOf({sep: frozenset(names) for sep, names in prefixes.items()})
        )
