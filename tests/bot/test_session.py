"""The bot's session keeps the response models it validates with across garbage collections,
and sends a method without files as JSON."""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from aiogram.methods.base import Response
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import web

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


async def test_a_method_goes_as_json_and_an_upload_as_a_form_with_the_same_parameters() -> None:
    # The form was percent-encoded byte by byte in Python: 0.3-0.4 ms a step's edit.
    seen: list[tuple[str, dict[str, Any]]] = []

    async def answer(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            seen.append((request.content_type, await request.json()))
        else:
            form = await request.post()
            seen.append(
                (request.content_type, {k: getattr(v, "filename", v) for k, v in form.items()})
            )
        method = request.match_info["method"]
        return web.json_response(
            {"ok": True, "result": MESSAGE if method == "sendDocument" else True}
        )

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    session = TelegramSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))
    bot = Bot(
        token="42:" + "A" * 35,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Next ▶", callback_data="gs:1:2:1")]]
    )
    try:
        await bot(EditShown(chat_id=7, message_id=1, text="Ще · next", reply_markup=keyboard))
        await bot(AnswerCallbackQuery(callback_query_id="q1", text=""))
        await bot(SendDocument(chat_id=7, document=BufferedInputFile(b"%PDF", "c.pdf")))
    finally:
        await session.close()
        await runner.cleanup()

    assert seen[0] == (
        "application/json",
        {
            "chat_id": 7,
            "message_id": 1,
            "text": "Ще · next",
            "parse_mode": "HTML",
            "reply_markup": {
                "inline_keyboard": [[{"text": "Next ▶", "callback_data": "gs:1:2:1"}]]
            },
        },
    )
    # An empty text is left out, as the form leaves it out.
    assert seen[1] == ("application/json", {"callback_query_id": "q1"})
    kind, fields = seen[2]
    assert kind == "multipart/form-data"
    assert fields["chat_id"] == "7" and fields["document"].startswith("attach://")
    assert "c.pdf" in fields.values()
