"""The bot's session keeps the response models it validates with across garbage collections."""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

from aiogram import Bot
from aiogram.methods import EditMessageText, SendMessage
from aiogram.methods.base import Response
from aiogram.types import Message

from bot.session import TelegramSession
from bot.views import EditShown

MESSAGE = {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, "text": "hi"}
ANSWER = {"ok": True, "result": MESSAGE}


async def test_a_response_model_outlives_a_full_garbage_collection() -> None:
    session = TelegramSession()
    bot = Bot(token="42:" + "A" * 35, session=session)
    method = SendMessage(chat_id=7, text="hi")
    try:
        message = session.check_response(bot, method, 200, json.dumps(ANSWER)).result
        model = weakref.ref(Response[method.__returning__])  # type: ignore[name-defined]
        gc.collect()

        assert message is not None and message.text == "hi"
        assert model() is not None
        assert Response[method.__returning__] is model()  # type: ignore[name-defined]
    finally:
        await session.close()


async def test_an_edit_whose_message_is_not_read_back_is_kept_as_json() -> None:
    session = TelegramSession()
    bot = Bot(token="42:" + "A" * 35, session=session)
    keyboard = {"inline_keyboard": [[{"text": "Next ▶", "callback_data": "gs:1:2:1"}]]}
    message: dict[str, Any] = {**MESSAGE, "reply_markup": keyboard}
    answer = json.dumps({"ok": True, "result": message})
    try:
        edited = EditMessageText(chat_id=7, message_id=1, text="hi")
        shown = EditShown(chat_id=7, message_id=1, text="hi")
        assert isinstance(session.check_response(bot, edited, 200, answer).result, Message)
        kept: object = session.check_response(bot, shown, 200, answer).result
        assert kept == message
        inline = json.dumps({"ok": True, "result": True})
        assert session.check_response(bot, shown, 200, inline).result is True
    finally:
        await session.close()
