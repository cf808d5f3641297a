"""Errors inside a handler: logged with the update id, and a polite reply without internals."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


async def apologise(event: ErrorEvent) -> None:
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    text = _("Sorry, something went wrong on our side. Please try again in a moment.")
    try:
        if event.update.callback_query is not None:
            await event.update.callback_query.answer(text, show_alert=True)
        elif event.update.message is not None:
            await event.update.message.answer(text)
    except TelegramAPIError:
        log.warning(
            "could not tell the user about the failure of update %s", event.update.update_id
        )


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(apologise)
    return router
