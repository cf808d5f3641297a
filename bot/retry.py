"""Replies inside a conversation wait out Telegram's short flood limits instead of failing."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

# A learner waits a few seconds at most; longer limits are for the delivery outbox to handle.
MAX_WAIT_SECONDS = 5
ATTEMPTS = 3


class WaitOutFloodLimits(BaseRequestMiddleware):
    """Retries a request that got 429 after the ``retry_after`` Telegram asked for, if it is short."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, ATTEMPTS + 1):
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
                await asyncio.sleep(error.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover
