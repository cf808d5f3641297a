"""Filters shared by the feature routers.

Every filter here is a coroutine: aiogram runs a plain function, and the plain ``resolve`` of a
magic filter (``F.text``) given to ``register`` as it is, in a worker thread each time a handler
is checked, and an update is checked against dozens of handlers (``tests/bot/test_no_threads.py``).
"""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.filters import Filter
from aiogram.types import TelegramObject
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
