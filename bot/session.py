"""aiogram's HTTP session, holding on to the response models it validates answers with.

For every answer aiogram validates ``Response[<the method's result type>]``; pydantic keeps the
classes it makes for such generic models only weakly, so after each full garbage collection the
next answer builds its class again: about 8 ms of CPU (measured), 13–22% of the bot's CPU under
a load test. Holding each class here makes it a lookup. (aiogram 3.x; worth a fix upstream, where
``check_response`` could cache the parametrized class itself.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot


class TelegramSession(AiohttpSession):
    """An ``AiohttpSession`` whose response models live as long as the process."""

    response_types: ClassVar[dict[Any, type[Response[Any]]]] = {}

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self.response_types:
            self.response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
