"""Filters shared by the feature routers.

Every filter here is a coroutine: aiogram runs a plain function, and the plain ``resolve`` of a
magic filter (``F.text``) given to ``register`` as it is, in a worker thread each time a handler
is checked, and an update is checked against dozens of handlers (``tests/bot/test_no_threads.py``).
"""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED
from aiogram.dispatcher.event.telegram import TelegramEventObserver
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
        return self.takes(query)

    def takes(self, query: CallbackQuery) -> bool:
        data = query.data or ""
        return any(data.partition(sep)[0] in names for sep, names in self.prefixes.items())


def only_its_own_presses(router: Router) -> PressOf | None:
    """Let ``router`` look at a press only when its buttons' prefixes say one of its handlers
    may take it: else aiogram unpacks the press's data for each of its handlers in turn (every
    press went through some thirty of them). A router with a handler for other presses (a magic
    filter, no filter) or with routers of its own looks at every press, as before.

    The filter set, if any, is returned (``PressRouter`` skips the router with it)."""
    if router.sub_routers:
        return None
    prefixes: dict[str, set[str]] = {}
    for handler in router.callback_query.handlers:
        kinds = [
            found.callback.callback_data
            for found in handler.filters or ()
            if isinstance(found.callback, CallbackQueryFilter)
        ]
        if not kinds:
            return None
        for kind in kinds:
            prefixes.setdefault(kind.__separator__, set()).add(kind.__prefix__)
    if not prefixes:
        return None
    press = PressOf({sep: frozenset(names) for sep, names in prefixes.items()})
    router.callback_query.filter(press)
    return press


class PressRouter(Dispatcher):
    """A ``Dispatcher`` that passes a press by the routers it cannot be for (``skip``, their
    ``PressOf`` filters from ``only_its_own_presses``) without entering them.

    Entering a router costs aiogram a wrapper around its middlewares, closures and a copy of the
    update's data at each call level before its filter says no; a step's press went through six
    routers so (py-spy: a sixth of the time aiogram spends routing). The outcome is the filter's:
    a router is skipped only when it has no outer middleware for presses, and its filter is the
    same check (``PressOf.takes``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.skip: dict[Router, PressOf] = {}

    def route_presses(self, router: Router, press: PressOf | None) -> None:
        if press is not None and not router.callback_query.outer_middleware:
            self.skip[router] = press

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        if update_type != "callback_query" or not isinstance(event, CallbackQuery):
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        # Router._propagate_event (aiogram 3), with the routers the press cannot be for skipped.
        response = UNHANDLED
        if observer:
            passed, data = await observer.check_root_filters(event, **kwargs)
            if not passed:
                return UNHANDLED
            kwargs.update(data)
            response = await observer.trigger(event, **kwargs)
            if response is REJECTED:
                return UNHANDLED
            if response is not UNHANDLED:
                return response
        for router in self.sub_routers:
            press = self.skip.get(router)
            if press is not None and not press.takes(event):
                continue
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response
