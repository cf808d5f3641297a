"""Telegram webhook in the FastAPI app: check the secret, answer at once, handle in background."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Annotated, Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from fastapi import APIRouter, Body, Header
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from learntogether.problems import problem

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


class WebhookFeeder:
    """Feeds updates to the dispatcher as tasks, a bounded number at a time, and keeps every task."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, *, concurrency: int = 32) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def feed(self, update: Update) -> None:
        task = asyncio.create_task(self._handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update: Update) -> None:
        async with self._slots:
            try:
                await self.dispatcher.feed_update(self.bot, update)
            except Exception:
                log.exception("update %s failed", update.update_id)

    async def drain(self) -> None:
        """Wait for updates already accepted, so a shutdown loses none of them."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def create_webhook_router(feeder: WebhookFeeder, *, path: str, secret: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.post(path)
    async def telegram_webhook(
        update: Annotated[dict[str, Any], Body()],
        token: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
    ) -> Response:
        if token is None or not hmac.compare_digest(token.encode(), secret.encode()):
            return problem(401, "Missing or wrong secret token.")
        try:
            parsed = Update.model_validate(update, context={"bot": feeder.bot})
        except ValidationError as error:
            # Not from Telegram (which never sends such a thing): say what is wrong, once.
            log.warning("webhook refused a body that is no update: %s", error.errors()[0]["msg"])
            return problem(400, "The body is not a Telegram update (it needs an update_id).")
        feeder.feed(parsed)
        return JSONResponse({"ok": True})

    return router
