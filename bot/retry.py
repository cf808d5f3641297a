"""The bot's replies keep within Telegram's limits instead of being refused.

Each message a reply sends takes a slot from the bot's send budget (shared with broadcasts,
which yield to replies; see ``learntogether.sendbudget``) and keeps Telegram's pace in one chat
(a short burst, then one a second). A 429 that still comes is waited out when it is short.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from learntogether.sendbudget import Priority, SendBudget, acquire

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

# A learner waits a few seconds at most; longer limits are for the delivery outbox to handle.
MAX_WAIT_SECONDS = 5
ATTEMPTS = 3
# Telegram: "avoid sending more than one message per second" in a chat; short bursts pass.
CHAT_BURST = 3
CHAT_RATE = 1.0
_FORGET_CHATS_AFTER = 1000


def sends_a_message(method: TelegramMethod[TelegramType]) -> bool:
    """Whether ``method`` puts a new message in a chat (what Telegram's send limits count)."""
    name = method.__api_method__
    return name.startswith(("send", "copy", "forward")) and name != "sendChatAction"


class ChatPace:
    """A token bucket per chat: ``burst`` messages at once, then ``rate`` a second."""

    def __init__(
        self,
        *,
        burst: int = CHAT_BURST,
        rate: float = CHAT_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._buckets: dict[int | str, tuple[float, float]] = {}

    def take(self, chat_id: int | str) -> float:
        """Take a message's token (0.0), or the seconds until one is there."""
        now = self._clock()
        tokens, updated = self._buckets.get(chat_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
        if tokens >= 1:
            self._buckets[chat_id] = (tokens - 1, now)
            if len(self._buckets) > _FORGET_CHATS_AFTER:
                self._forget_full(now)
            return 0.0
        self._buckets[chat_id] = (tokens, now)
        return (1 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full_after = self.burst / self.rate
        self._buckets = {
            chat: (tokens, at)
            for chat, (tokens, at) in self._buckets.items()
            if now - at < full_after
        }


class KeepWithinLimits(BaseRequestMiddleware):
    """Gives each message a reply sends its slot (chat pace, then the bot's budget), and retries
    a request that got 429 after the ``retry_after`` Telegram asked for, if it is short."""

    def __init__(
        self,
        budget: SendBudget | None = None,
        *,
        pace: ChatPace | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.budget = budget
        self.pace = pace or ChatPace()
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, ATTEMPTS + 1):
            ticket = await self._wait_for_slot(method) if sends_a_message(method) else None
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == ATTEMPTS or error.retry_after > MAX_WAIT_SECONDS:
                    raise
                log.info(
                    "%s hit a flood limit; retrying in %ss",
                    type(method).__name__,
                    error.retry_after,
                )
                await self._sleep(error.retry_after)
            finally:
                if ticket is not None and self.budget is not None:
                    await self.budget.sent(ticket)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait_for_slot(self, method: TelegramMethod[TelegramType]) -> str | None:
        """Wait for the chat's pace and the budget's slot; the budget's ticket for the message."""
        chat_id = getattr(method, "chat_id", None)
        if isinstance(chat_id, int | str):
            while (wait := self.pace.take(chat_id)) > 0:
                await self._sleep(wait)
        if self.budget is None:
            return None
        return await acquire(self.budget, Priority.REPLY, sleep=self._sleep)
