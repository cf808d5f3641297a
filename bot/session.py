"""aiogram's HTTP session: response models held on to, and requests sent as JSON.

For every answer aiogram validates ``Response[<the method's result type>]``; pydantic keeps the
classes it makes for such generic models only weakly, so after each full garbage collection the
next answer builds its class again: about 8 ms of CPU (measured), 13–22% of the bot's CPU under
a load test. Holding each class here makes it a lookup. (aiogram 3.x; worth a fix upstream, where
``check_response`` could cache the parametrized class itself.)

aiogram sends every method as a form, each parameter a string and every object JSON inside it,
and the form is percent-encoded byte by byte in Python (``urllib.parse.quote``): a step's edit,
a few hundred characters of text and its keyboard, took 0.3–0.4 ms to encode, about as much as
the rest of building the request. The Bot API takes the same parameters as a JSON body, so a
method without files is sent so; one that uploads a file goes as aiogram sends it (multipart).
(Worth proposing upstream: ``AiohttpSession.build_form_data`` could send JSON when there are no
files.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot

_JSON_HEADERS = {"Content-Type": "application/json"}


class TelegramSession(AiohttpSession):
    """An ``AiohttpSession`` whose response models live as long as the process, and which sends a
    method without files as JSON."""

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

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> str | None:
        """The method's parameters as a JSON object, as the form would carry them (defaults
        resolved, empty ones left out); None when it uploads a file."""
        files: dict[str, InputFile] = {}
        values: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":  # the form leaves out what is empty
                continue
            values[key] = prepared
        return None if files else self.json_dumps(values)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=_JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as response:
                content = await response.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            message = f"{type(error).__name__}: {error}"
            raise TelegramNetworkError(method=method, message=message) from error
        checked = self.check_response(
            bot=bot, method=method, status_code=response.status, content=content
        )
        return cast(TelegramType, checked.result)
