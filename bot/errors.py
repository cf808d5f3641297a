"""Errors inside a handler: a polite reply without internals, and a log line that fits the case.

A button that no longer fits what is stored (a lesson archived, a cohort gone, a value nobody
offered) is an expected event, answered like any stale button and logged without a traceback;
so is a learner who blocked the bot while it was replying. Anything else is logged with its
traceback and the learner is told something went wrong on our side.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from bot.middlewares import query_answered
from learntogether.services.errors import DomainError

log = logging.getLogger(__name__)


async def apologise(event: ErrorEvent) -> None:
    update, error = event.update, event.exception
    if isinstance(error, TelegramForbiddenError):
        log.info("update %s: the learner blocked the bot while it answered", update.update_id)
        return
    if isinstance(error, DomainError):
        log.info("update %s refused: %s", update.update_id, error.detail)
        text = (
            _("This button is no longer active. Send /help to see what I can do.")
            if update.callback_query is not None
            else _("I did not understand that. Send /help to see what I can do.")
        )
    else:
        log.error("update %s failed", update.update_id, exc_info=error)
        text = _("Sorry, something went wrong on our side. Please try again in a moment.")
    try:
        query = update.callback_query
        if query is not None and not query_answered(query.id):
            await query.answer(text, show_alert=True)
        elif query is not None and query.message is not None:
            await query.message.answer(text)
        elif update.message is not None:
            await update.message.answer(text)
    except TelegramAPIError:
        log.warning("could not tell the user about the failure of update %s", update.update_id)


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(apologise)
    return router
