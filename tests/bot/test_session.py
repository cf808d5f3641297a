"""The bot's session keeps the response models it validates with across garbage collections."""

from __future__ import annotations

import gc
import json
import weakref

from aiogram import Bot
from aiogram.methods import SendMessage
from aiogram.methods.base import Response

from bot.session import TelegramSession

ANSWER = {
    "ok": True,
    "result": {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 7, "type": "private"},
        "text": "hi",
    },
}


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
