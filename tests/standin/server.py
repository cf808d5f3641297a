"""A Telegram Bot API stand-in: a real HTTP server the bot talks to as to api.telegram.org."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import mimetypes
import secrets
import string
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from learntogether.telegram_html import TelegramHTMLError, parse_html, utf16_length
from tests.standin.errors import BotAPIError, bad_request
from tests.standin.markup import check_reply_markup
from tests.standin.params import Params, decode, read_multipart, read_request
from tests.standin.ratelimit import RateLimiter
from tests.standin.records import (
    JSON,
    CallbackQueryRecord,
    PollRecord,
    RecordedCall,
    StoredFile,
    WebhookDelivery,
)
from tests.standin.simuser import WAIT_SECONDS, SimUser

T = TypeVar("T")
Handler = Callable[[Params], Awaitable[Any]]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_POLL_QUESTION_LENGTH = 300
MAX_POLL_OPTION_LENGTH = 100
MAX_POLL_OPTIONS = 12
MAX_POLL_EXPLANATION_LENGTH = 200
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION_LENGTH = 256
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
"""The cloud Bot API's getFile refuses bigger files: a bot cannot download them."""
# Update types a bot receives when it has not chosen its allowed_updates.
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + "_")
_SECRET_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_-")
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_POLLING_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


class _Signal:
    """Wakes every coroutine waiting on it; waiting after a notification needs a new one."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, within: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), within)


@dataclass(frozen=True)
class _Fault:
    status: int
    description: str
    retry_after: int | None


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None


def _strip(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping the entities."""
    without_leading = text.lstrip()
    shift = utf16_length(text[: len(text) - len(without_leading)])
    stripped = without_leading.rstrip()
    total = utf16_length(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def _chat_of(update: JSON) -> int:
    """The chat (or person) an update comes from; 0 for updates of no one in particular."""
    for kind, payload in update.items():
        if kind != "update_id" and isinstance(payload, dict):
            for holder in ("chat", "from", "user"):
                if isinstance(payload.get(holder), dict):
                    return int(payload[holder]["id"])
    return 0


def _image_size(content: bytes) -> tuple[int, int] | None:
    """The width and height of a PNG, (0, 0) for another image type Telegram takes, or None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return width, height
    if content.startswith((b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or content[8:12] == b"WEBP":
        return 0, 0
    return None


_FILE_ID_PREFIXES = {
    "document": "BQACAgIAAxkDAAI",
    "photo": "AgACAgIAAxkDAAI",
    "voice": "AwACAgIAAxkDAAI",
}


def _document(stored: StoredFile) -> JSON:
    """A Document object of the Bot API for a stored file."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": stored.filename,
        "mime_type": stored.mime_type,
        "file_size": len(stored.content),
    }


def _ogg_opus_duration(content: bytes) -> int | None:
    """Whole seconds of an OGG/Opus file (its last granule less the pre-skip, at 48 kHz), or
    None when it is not one: enough for the stand-in, which decodes nothing."""
    if not content.startswith(b"OggS") or content[28:36] != b"OpusHead":
        return None
    last = content.rfind(b"OggS")
    if last < 0 or len(content) < last + 14:
        return None
    granule = int.from_bytes(content[last + 6 : last + 14], "little", signed=True)
    pre_skip = int.from_bytes(content[38:40], "little")
    return max(0, -(-(granule - pre_skip) // 48000))


class BotAPIStandIn:
    """A Bot API server for tests, run in the test's event loop on 127.0.0.1 and a free port.

    Point the bot at ``base_url`` (``TelegramAPIServer.from_base``). Simulated users
    (``add_user``) write to the bot; ``calls``, ``commands``, ``files`` and each user's
    ``messages`` show what the bot did. Methods validate as Telegram does and answer with its
    error texts; sends are rate limited as Telegram limits them (see ``RateLimiter``).
    """

    def __init__(
        self,
        token: str = "123456789:TEST-token",  # noqa: S107 - a fake token for tests
        bot_username: str = "lt_test_bot",
        bot_first_name: str = "To Learn Together",
        global_rate: int | None = 30,
        per_chat_rate: float | None = 1.0,
        per_chat_burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
        webhook_attempts: int = 3,
        paid_global_rate: int | None = 1000,
        webhook_connections: int = 1,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.limiter = RateLimiter(
            global_rate,
            per_chat_rate,
            per_chat_burst,
            clock=clock,
            paid_global_rate=paid_global_rate,
        )
        self.webhook_attempts = webhook_attempts
        # Telegram posts to a webhook over up to max_connections at once, one update of a chat at
        # a time; the default of one keeps every update strictly in order.
        self.webhook_connections = webhook_connections
        self.users: dict[int, SimUser] = {}
        self.calls: list[RecordedCall] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[str, str] = {}
        """file_path → file_id of the files getFile made downloadable."""
        self.downloads: list[str] = []
        """The file paths downloaded, in order."""
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.polls: dict[str, PollRecord] = {}
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.rate_limit_violations = 0
        self.sent_times: dict[int, list[float]] = {}
        self._pending: deque[JSON] = deque()
        # Telegram's update ids "start from a certain positive number and increase": never from
        # 1 for every bot, so what one test's bot remembered (in Redis) is no other test's update.
        self._update_ids = itertools.count(secrets.randbelow(2**30) + 1)
        self._ids = itertools.count(1)
        self._allowed_updates: frozenset[str] | None = None
        self._webhook: _Webhook | None = None
        self._webhook_tasks: list[asyncio.Task[None]] = []
        self._in_flight: set[int] = set()
        self._busy_chats: set[int] = set()
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._drops: dict[str, int] = {}
        self._poll_generation = 0
        self._updates = _Signal()
        self._activity = _Signal()
        self._closed = False
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "editMessageCaption": self._edit_message_caption,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendPoll": self._send_poll,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "sendVoice": self._send_voice,
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "setMyDescription": self._set_my_description,
                "setMyShortDescription": self._set_my_short_description,
                "getFile": self._get_file,
            }.items()
        }

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 and a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_http)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_download)
        app.router.add_route("*", "/{path:.*}", self._handle_unknown_path)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Wake long polls, stop webhook deliveries and the server."""
        self._closed = True
        self._updates.notify()
        self._activity.notify()
        for task in self._webhook_tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def __aenter__(self) -> BotAPIStandIn:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:PORT`` (for LT_TELEGRAM_API_URL)."""
        if self._port is None:
            raise RuntimeError("the stand-in is not started")
        return f"http://127.0.0.1:{self._port}"

    # Test API ------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "Ana",
        language_code: str | None = "bg",
        last_name: str | None = None,
        username: str | None = None,
    ) -> SimUser:
        """Add a user and its private chat with the bot (chat id == user id)."""
        user = SimUser(self, user_id, first_name, language_code, last_name, username)
        self.users[user_id] = user
        return user

    def calls_of(self, method: str) -> list[RecordedCall]:
        """The recorded calls of one method (any letter case), in order."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109 - the test API takes a timeout
        after: int = 0,
    ) -> RecordedCall:
        """The first call of ``method`` among ``calls[after:]`` that satisfies ``predicate``.

        Waits up to ``timeout`` seconds for it; raises AssertionError listing recent calls.
        """

        def find() -> RecordedCall | None:
            for call in self.calls[after:]:
                if call.method.lower() == method.lower() and (predicate is None or predicate(call)):
                    return call
            return None

        return await self._wait_until(
            find, timeout, lambda: f"No matching {method} call within {timeout}s."
        )

    def fail_next(
        self,
        method: str,
        status: int = 500,
        description: str = "Internal Server Error",
        count: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with this error instead of running them."""
        faults = self._faults.setdefault(method.lower(), deque())
        faults.extend([_Fault(status, description, retry_after)] * count)

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Run the next ``count`` calls of ``method`` at once but answer them ``seconds`` later.

        As when an answer is lost on the way back: the message is there, the client times out
        and cannot tell whether its request arrived.
        """
        self._delays.setdefault(method.lower(), deque()).extend([seconds] * count)

    def drop_next(self, method: str, count: int = 1) -> None:
        """Run the next ``count`` calls of ``method``, then close the connection unanswered.

        As when a connection breaks after Telegram applied the call: the message is there, the
        client sees the server disconnect.
        """
        key = method.lower()
        self._drops[key] = self._drops.get(key, 0) + count

    def unanswered_callback_queries(self) -> list[CallbackQueryRecord]:
        """Callback queries the bot has not answered with answerCallbackQuery."""
        return [query for query in self.callback_queries.values() if not query.answered]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates nor delivered to the webhook."""
        return list(self._pending)

    @property
    def documents(self) -> list[StoredFile]:
        """Files the bot sent with sendDocument, in order."""
        return [
            stored
            for stored in self.files.values()
            if stored.kind == "document" and not stored.from_user
        ]

    @property
    def photos(self) -> list[StoredFile]:
        """Photos the bot sent with sendPhoto, in order."""
        return [
            stored
            for stored in self.files.values()
            if stored.kind == "photo" and not stored.from_user
        ]

    @property
    def voices(self) -> list[StoredFile]:
        """Voice notes the bot uploaded with sendVoice, in order (a file_id sent again is not
        uploaded again, so it is listed once)."""
        return [
            stored
            for stored in self.files.values()
            if stored.kind == "voice" and not stored.from_user
        ]

    # Internals shared with SimUser ---------------------------------------------------------

    def _enqueue(self, kind: str, payload: JSON) -> JSON:
        """Queue an update of ``kind`` unless the bot's allowed_updates exclude it; return it."""
        update = {"update_id": next(self._update_ids), kind: payload}
        allowed = self._allowed_updates
        if kind in _NOT_DELIVERED_BY_DEFAULT if allowed is None else kind not in allowed:
            return update
        self._pending.append(update)
        self._updates.notify()
        self._activity.notify()
        return update

    def _new_id(self) -> int:
        return next(self._ids)

    def _summary(self) -> str:
        if not self.calls:
            return "No Bot API calls were made."
        return "Last calls:\n" + "\n".join(
            f"  {call.method} -> {call.status} {call.description or ''}".rstrip()
            for call in self.calls[-15:]
        )

    async def _wait_until(
        self, check: Callable[[], T | None], within: float, describe: Callable[[], str]
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (result := check()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closed:
                raise AssertionError(f"{describe()}\n{self._summary()}")
            await self._activity.wait(remaining)
        return result

    # HTTP ----------------------------------------------------------------------------------

    async def _handle_http(self, request: web.Request) -> web.Response:
        params = await read_request(request)
        method = request.match_info["method"]
        status, body = await self._call(request.match_info["token"], method, params)
        if self._drops.get(method.lower()):
            self._drops[method.lower()] -= 1
            assert request.transport is not None
            request.transport.close()
        return web.json_response(body, status=status)

    async def _handle_download(self, request: web.Request) -> web.Response:
        """``GET /file/bot<token>/<file_path>``: the bytes of a file getFile made downloadable."""
        path = request.match_info["path"]
        file_id = self.file_paths.get(path)
        if request.match_info["token"] != self.token or file_id is None:
            error = BotAPIError(404, "Not Found")
            return web.json_response(error.payload(), status=error.status)
        self.downloads.append(path)
        self._activity.notify()
        stored = self.files[file_id]
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        error = BotAPIError(404, "Not Found")
        return web.json_response(error.payload(), status=error.status)

    async def _call(self, token: str, method: str, params: JSON) -> tuple[int, JSON]:
        key = method.lower()
        name, handler = self._methods.get(key, (method, None))
        try:
            if token != self.token:
                raise BotAPIError(401, "Unauthorized")
            if handler is None:
                raise BotAPIError(404, "Not Found")
            faults = self._faults.get(key)
            if faults:
                fault = faults.popleft()
                raise BotAPIError(fault.status, fault.description, fault.retry_after)
            body = {"ok": True, "result": await handler(Params(params))}
            status = 200
        except BotAPIError as error:
            status, body = error.status, error.payload()
        self.calls.append(RecordedCall(name, params, status, body, self.limiter.clock()))
        self._activity.notify()
        delays = self._delays.get(key)
        if delays:
            await asyncio.sleep(delays.popleft())
        return status, body

    # Helpers -------------------------------------------------------------------------------

    def _user(self, chat_id: int | None) -> SimUser:
        user = self.users.get(chat_id) if chat_id is not None else None
        if user is None:
            raise bad_request("chat not found")
        return user

    def _chat(self, params: Params) -> SimUser:
        value = params.text("chat_id")
        if not value:
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(value)
        except ValueError:
            raise bad_request("chat not found") from None
        return self._user(chat_id)

    @staticmethod
    def _check_blocked(user: SimUser) -> None:
        if user.blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")

    def _admit(self, chat_id: int, *, paid: bool = False) -> None:
        now, retry_after = self.limiter.try_acquire(chat_id, paid=paid)
        if retry_after:
            self.rate_limit_violations += 1
            raise BotAPIError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self.sent_times.setdefault(chat_id, []).append(now)

    @staticmethod
    def _language(params: Params) -> str:
        language = params.text("language_code") or ""
        valid = len(language) == 2 and language.isascii() and language.isalpha()
        if language and not (valid and language.islower()):
            raise bad_request("invalid language code specified")
        return language

    @staticmethod
    def _format(
        params: Params, text: str, mode_name: str, entities_name: str
    ) -> tuple[str, list[JSON]]:
        """Parse ``text`` with the call's parse mode or explicit entities, then trim it."""
        entities = params.json(entities_name)
        if entities:
            if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
                raise bad_request(f"can't parse {entities_name} JSON object")
            return _strip(text, entities)
        mode = (params.text(mode_name) or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(text)
            except TelegramHTMLError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            entities = []
        else:
            raise bad_request("unsupported parse_mode")
        return _strip(text, entities)

    @staticmethod
    def _markup(params: Params, inline_only: bool = False) -> JSON | None:
        markup = params.json("reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if inline_only and not (isinstance(markup, dict) and "inline_keyboard" in markup):
            raise bad_request("inline keyboard expected")
        return check_reply_markup(markup)

    @staticmethod
    def _reply_to(params: Params, user: SimUser) -> JSON | None:
        reply = params.json("reply_parameters")
        if reply is None:
            legacy = params.integer("reply_to_message_id")
            if legacy is None:
                return None
            reply = {"message_id": legacy}
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        message = user._find(int(reply["message_id"]))
        if message is None:
            if reply.get("allow_sending_without_reply") or params.flag(
                "allow_sending_without_reply"
            ):
                return None
            raise bad_request("message to be replied not found")
        return {key: value for key, value in message.items() if key != "reply_to_message"}

    def _send(self, user: SimUser, content: JSON, params: Params, markup: JSON | None) -> JSON:
        """Check the chat and rate limits, then store a new message from the bot."""
        reply_to = self._reply_to(params, user)
        self._check_blocked(user)
        self._admit(user.id, paid=params.flag("allow_paid_broadcast"))
        message: JSON = {
            "message_id": user._take_message_id(),
            "from": self.bot_user,
            "chat": user.chat,
            "date": int(time.time()),
            **content,
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup is not None:
            message["reply_markup"] = markup
        user._store(message, from_bot=True)
        return message

    def _bot_message(self, user: SimUser, params: Params, missing: str) -> JSON:
        message_id = params.integer("message_id")
        message = user._find(message_id) if message_id is not None else None
        if message is None:
            raise bad_request(missing)
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    @staticmethod
    def _edit(user: SimUser, message: JSON, content: JSON, markup: JSON | None) -> JSON:
        """Store ``message`` with new ``content`` (a falsy value drops the key) and keyboard."""
        unchanged = all(message.get(key) == (value or None) for key, value in content.items())
        if unchanged and message.get("reply_markup") == markup:
            raise bad_request(_NOT_MODIFIED)
        edited = {
            key: value
            for key, value in message.items()
            if key not in content and key != "reply_markup"
        }
        edited.update({key: value for key, value in content.items() if value})
        edited["edit_date"] = int(time.time())
        if markup is not None:
            edited["reply_markup"] = markup
        user._replace(edited)
        return edited

    # Methods: bot, updates, webhook -------------------------------------------------------

    async def _get_me(self, params: Params) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_allowed_updates(self, params: Params) -> None:
        allowed = params.json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(map(str, allowed)) if allowed else None

    def _confirm(self, offset: int | None) -> None:
        pending = self._pending
        if offset is None or offset == 0:
            return
        if offset > 0:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()
        else:
            while len(pending) > -offset:
                pending.popleft()

    async def _get_updates(self, params: Params) -> list[JSON]:
        if self._webhook is not None:
            raise BotAPIError(409, _WEBHOOK_CONFLICT)
        limit = params.integer("limit") or 100
        limit = limit if 1 <= limit <= 100 else 100
        timeout = max(params.integer("timeout") or 0, 0)
        self._set_allowed_updates(params)
        self._confirm(params.integer("offset"))
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._pending and not self._closed and self._webhook is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self._updates.wait(remaining)
            if generation != self._poll_generation:
                raise BotAPIError(409, _POLLING_CONFLICT)
        return list(itertools.islice(self._pending, limit))

    async def _set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(params)
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise bad_request("bad webhook: Wrong HTTP URL specified")
        secret = params.text("secret_token") or None
        if secret is not None and (len(secret) > 256 or not set(secret) <= _SECRET_CHARACTERS):
            raise bad_request("secret token contains unallowed characters")
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self._set_allowed_updates(params)
        self._webhook = _Webhook(url, secret)
        self._webhook_tasks = [task for task in self._webhook_tasks if not task.done()]
        while len(self._webhook_tasks) < self.webhook_connections:
            self._webhook_tasks.append(asyncio.create_task(self._deliver_updates()))
        self._updates.notify()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        self._updates.notify()
        return True

    async def _get_webhook_info(self, params: Params) -> JSON:
        info: JSON = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        webhook = self._webhook
        if webhook is not None:
            info.update(url=webhook.url, max_connections=40)
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
            if webhook.last_error_date is not None:
                info.update(
                    last_error_date=webhook.last_error_date,
                    last_error_message=webhook.last_error_message,
                )
        return info

    def _next_to_deliver(self) -> JSON | None:
        """The oldest pending update not on its way, of a chat with none on its way."""
        for update in self._pending:
            if (
                update["update_id"] not in self._in_flight
                and _chat_of(update) not in self._busy_chats
            ):
                return update
        return None

    async def _deliver_updates(self) -> None:
        """POST pending updates to the webhook in order; retry, keeping undelivered ones."""
        failures = 0
        while (webhook := self._webhook) is not None and not self._closed:
            update = self._next_to_deliver()
            if update is None or failures >= self.webhook_attempts:
                failures = 0
                await self._updates.wait(None)
                continue
            chat = _chat_of(update)
            self._in_flight.add(update["update_id"])
            self._busy_chats.add(chat)
            try:
                status, error = await self._post_update(webhook, update)
            finally:
                self._in_flight.discard(update["update_id"])
                self._busy_chats.discard(chat)
            self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status, error))
            self._activity.notify()
            if status is not None and 200 <= status < 300:
                with contextlib.suppress(ValueError):
                    self._pending.remove(update)
                failures = 0
                self._updates.notify()
                continue
            failures += 1
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error or f"Wrong response from the webhook: {status}"
            if failures < self.webhook_attempts:
                await asyncio.sleep(0.05 * 2 ** (failures - 1))

    async def _post_update(self, webhook: _Webhook, update: JSON) -> tuple[int | None, str | None]:
        assert self._client is not None
        headers = {}
        if webhook.secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        try:
            async with self._client.post(
                webhook.url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if 200 <= response.status < 300:
                    await self._run_webhook_answer(response)
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as error:
            return None, f"{type(error).__name__}: {error}"

    async def _run_webhook_answer(self, response: aiohttp.ClientResponse) -> None:
        """Run the method call a webhook may answer with, as Telegram does."""
        params: JSON = {}
        if response.content_type == "application/json":
            with contextlib.suppress(ValueError):
                body = await response.json()
                params = decode(body) if isinstance(body, dict) else {}
        elif response.content_type == "multipart/form-data":
            params = await read_multipart(
                aiohttp.MultipartReader(response.headers, response.content)
            )
        method = params.pop("method", None)
        if isinstance(method, str) and method:
            await self._call(self.token, method, params)

    # Methods: messages --------------------------------------------------------------------

    async def _send_message(self, params: Params) -> JSON:
        raw = params.text("text")
        if not raw:
            raise bad_request("message text is empty")
        markup = self._markup(params)
        user = self._chat(params)
        text, entities = self._format(params, raw, "parse_mode", "entities")
        self._check_text(text)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._send(user, content, params, markup)

    @staticmethod
    def _check_text(text: str) -> None:
        if not text:
            raise bad_request("message must be non-empty")
        if utf16_length(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")

    async def _edit_message_text(self, params: Params) -> JSON:
        user = self._chat(params)
        message = self._bot_message(user, params, "message to edit not found")
        raw = params.text("text")
        if not raw:
            raise bad_request("message text is empty")
        markup = self._markup(params, inline_only=True)
        text, entities = self._format(params, raw, "parse_mode", "entities")
        self._check_text(text)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        self._check_blocked(user)
        return self._edit(user, message, {"text": text, "entities": entities}, markup)

    async def _edit_message_caption(self, params: Params) -> JSON:
        user = self._chat(params)
        message = self._bot_message(user, params, "message to edit not found")
        if "text" in message:
            raise bad_request("there is no caption in the message to edit")
        markup = self._markup(params, inline_only=True)
        caption = self._caption(params)
        self._check_blocked(user)
        content = {
            "caption": caption.get("caption"),
            "caption_entities": caption.get("caption_entities"),
        }
        return self._edit(user, message, content, markup)

    async def _edit_message_reply_markup(self, params: Params) -> JSON:
        user = self._chat(params)
        message = self._bot_message(user, params, "message to edit not found")
        markup = self._markup(params, inline_only=True)
        self._check_blocked(user)
        return self._edit(user, message, {}, markup)

    async def _delete_message(self, params: Params) -> bool:
        user = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None or user._find(message_id) is None:
            raise bad_request("message to delete not found")
        user._delete(message_id)
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        query = self.callback_queries.get(params.text("callback_query_id") or "")
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.text("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answered_at = self.limiter.clock()
        query.text = text or None
        query.show_alert = params.flag("show_alert")
        query.url = params.text("url")
        return True

    # Methods: commands, menu button, descriptions -----------------------------------------

    def _scope(self, params: Params) -> str:
        scope = params.json("scope", "BotCommandScope")
        if scope is None:
            return "default"
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in _COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        if kind.startswith("chat"):
            chat = self._user(Params(scope).integer("chat_id"))
            kind = f"{kind}:{chat.id}"
            if scope["type"] == "chat_member":
                kind = f"{kind}:{self._user(Params(scope).integer('user_id')).id}"
        return str(kind)

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        scope = self._scope(params)
        language = self._language(params)
        stored = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: BotCommand must be an Object")
            name = str(command.get("command", "")).strip().removeprefix("/")
            description = str(command.get("description", "")).strip()
            if not name:
                raise bad_request("command must be non-empty")
            if len(name) > MAX_COMMAND_LENGTH:
                raise bad_request(f"command length must not exceed {MAX_COMMAND_LENGTH}")
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > MAX_COMMAND_DESCRIPTION_LENGTH:
                raise bad_request(
                    f"command description length must not exceed {MAX_COMMAND_DESCRIPTION_LENGTH}"
                )
            if not set(name) <= _COMMAND_CHARACTERS:
                raise bad_request("BOT_COMMAND_INVALID")
            stored.append({"command": name, "description": description})
        if len(stored) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        if stored:
            self.commands[scope, language] = stored
        else:
            self.commands.pop((scope, language), None)
        return True

    async def _get_my_commands(self, params: Params) -> list[JSON]:
        return self.commands.get((self._scope(params), self._language(params)), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop((self._scope(params), self._language(params)), None)
        return True

    async def _set_chat_menu_button(self, params: Params) -> bool:
        chat_id = params.integer("chat_id")
        if chat_id is not None:
            self._user(chat_id)
        button = params.json("menu_button", "menu button") or {"type": "default"}
        self.menu_buttons[chat_id] = button
        return True

    async def _get_chat_menu_button(self, params: Params) -> JSON:
        chat_id = params.integer("chat_id")
        if chat_id is not None:
            self._user(chat_id)
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}

    async def _set_my_description(self, params: Params) -> bool:
        self.descriptions[self._language(params)] = params.text("description") or ""
        return True

    async def _set_my_short_description(self, params: Params) -> bool:
        self.short_descriptions[self._language(params)] = params.text("short_description") or ""
        return True

    # Methods: polls ------------------------------------------------------------------------

    def _poll_text(self, params: Params, text: str, mode_name: str, entities_name: str) -> JSON:
        """A poll question or option: its text and only the custom emoji Telegram keeps."""
        plain, entities = self._format(params, text, mode_name, entities_name)
        kept = [entity for entity in entities if entity["type"] == "custom_emoji"]
        return {"text": plain, "entities": kept}

    def _poll_options(self, params: Params) -> list[JSON]:
        raw_options = params.json("options")
        if not isinstance(raw_options, list):
            raise bad_request("can't parse options JSON object")
        if len(raw_options) < 2:
            raise bad_request("poll must have at least 2 option")
        if len(raw_options) > MAX_POLL_OPTIONS:
            raise bad_request(f"poll can't have more than {MAX_POLL_OPTIONS} options")
        options = []
        for index, raw in enumerate(raw_options):
            option = raw if isinstance(raw, dict) else {"text": raw}
            if not isinstance(option.get("text"), str):
                raise bad_request('can\'t parse InputPollOption: Field "text" must be a String')
            parsed = self._poll_text(
                Params(option), option["text"], "text_parse_mode", "text_entities"
            )
            if not parsed["text"]:
                raise bad_request("poll options must be non-empty")
            if len(parsed["text"]) > MAX_POLL_OPTION_LENGTH:
                raise bad_request(f"poll options length must not exceed {MAX_POLL_OPTION_LENGTH}")
            stored = {"persistent_id": str(index), "text": parsed["text"], "voter_count": 0}
            if parsed["entities"]:
                stored["text_entities"] = parsed["entities"]
            options.append(stored)
        return options

    @staticmethod
    def _correct_option_ids(params: Params, option_count: int) -> list[int]:
        ids = params.json("correct_option_ids")
        if ids is None:
            single = params.integer("correct_option_id")
            ids = [] if single is None else [single]
        valid = (
            isinstance(ids, list)
            and ids
            and all(isinstance(i, int) and 0 <= i < option_count for i in ids)
            and all(a < b for a, b in itertools.pairwise(ids))
        )
        if not valid:
            raise bad_request("wrong correct option ID specified")
        return list(ids)

    async def _send_poll(self, params: Params) -> JSON:
        markup = self._markup(params)
        user = self._chat(params)
        question = self._poll_text(
            params, params.text("question") or "", "question_parse_mode", "question_entities"
        )
        if not question["text"]:
            raise bad_request("poll question must be non-empty")
        if len(question["text"]) > MAX_POLL_QUESTION_LENGTH:
            raise bad_request(f"poll question length must not exceed {MAX_POLL_QUESTION_LENGTH}")
        options = self._poll_options(params)
        kind = params.text("type") or "regular"
        if kind not in ("regular", "quiz"):
            raise bad_request("unsupported poll type specified")
        poll: JSON = {
            "id": str(5_000_000_000_000_000_000 + self._new_id()),
            "question": question["text"],
            "options": options,
            "total_voter_count": 0,
            "is_closed": params.flag("is_closed"),
            "is_anonymous": params.flag("is_anonymous", default=True),
            "type": kind,
            "allows_multiple_answers": params.flag("allows_multiple_answers"),
            "allows_revoting": params.flag("allows_revoting", default=kind == "regular"),
            "members_only": False,
        }
        if question["entities"]:
            poll["question_entities"] = question["entities"]
        if kind == "quiz":
            correct = self._correct_option_ids(params, len(options))
            poll.update(correct_option_ids=correct, correct_option_id=correct[0])
            explanation, entities = self._format(
                params,
                params.text("explanation") or "",
                "explanation_parse_mode",
                "explanation_entities",
            )
            if utf16_length(explanation) > MAX_POLL_EXPLANATION_LENGTH:
                raise bad_request(
                    f"poll explanation length must not exceed {MAX_POLL_EXPLANATION_LENGTH}"
                )
            if explanation:
                poll["explanation"] = explanation
            if entities:
                poll["explanation_entities"] = entities
        open_period = params.integer("open_period")
        if open_period is not None:
            poll["open_period"] = open_period
        message = self._send(user, {"poll": poll}, params, markup)
        self.polls[poll["id"]] = PollRecord(poll["id"], user.id, message["message_id"])
        return message

    # Methods: files ------------------------------------------------------------------------

    def _caption(self, params: Params) -> JSON:
        caption, entities = self._format(
            params, params.text("caption") or "", "parse_mode", "caption_entities"
        )
        if utf16_length(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        content: JSON = {}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return content

    def _stored_file(self, params: Params, kind: str, chat_id: int) -> StoredFile:
        value = params.upload(kind)
        if value is None:
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, str):
            stored = self.files.get(value)
            if stored is None or stored.kind != kind:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return stored
        if not value.content:
            raise bad_request("file must be non-empty")
        number = self._new_id()
        prefix = _FILE_ID_PREFIXES[kind]
        guessed, _ = mimetypes.guess_type(value.filename)
        return StoredFile(
            file_id=f"{prefix}{number:08d}",
            file_unique_id=f"AgAD{number:08d}",
            kind=kind,
            filename=value.filename,
            mime_type=guessed or value.content_type or "application/octet-stream",
            content=value.content,
            chat_id=chat_id,
        )

    def _send_file(self, user: SimUser, stored: StoredFile, content: JSON, params: Params) -> JSON:
        markup = self._markup(params)
        message = self._send(user, {**content, **self._caption(params)}, params, markup)
        if stored.file_id not in self.files:
            stored.message_id = message["message_id"]
            self.files[stored.file_id] = stored
        return message

    async def _send_document(self, params: Params) -> JSON:
        user = self._chat(params)
        stored = self._stored_file(params, "document", user.id)
        return self._send_file(user, stored, {"document": _document(stored)}, params)

    async def _send_photo(self, params: Params) -> JSON:
        user = self._chat(params)
        stored = self._stored_file(params, "photo", user.id)
        size = _image_size(stored.content)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > 10000 or min(width, height) * 20 < max(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        photo = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(stored.content),
        }
        return self._send_file(user, stored, {"photo": [photo]}, params)

    async def _get_file(self, params: Params) -> JSON:
        """A File with a download path, for a file the bot can reach; none over 20 MB."""
        stored = self.files.get(params.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        folder = {"photo": "photos", "document": "documents"}.get(stored.kind, stored.kind)
        extension = mimetypes.guess_extension(stored.mime_type) or ""
        if stored.kind == "voice":
            extension = ".oga"  # as Telegram names voice notes
        path = f"{folder}/file_{stored.file_unique_id[4:]}{extension}"
        self.file_paths[path] = stored.file_id
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": path,
        }

    async def _send_voice(self, params: Params) -> JSON:
        """A voice note, uploaded or by a voice's file_id. Telegram plays only OGG/Opus as a voice
        note and sends another upload as a document, as it does here."""
        user = self._chat(params)
        stored = self._stored_file(params, "voice", user.id)
        found = _ogg_opus_duration(stored.content)
        if found is None:
            stored.kind = "document"
            stored.file_id = stored.file_id.replace(
                _FILE_ID_PREFIXES["voice"], _FILE_ID_PREFIXES["document"]
            )
            return self._send_file(user, stored, {"document": _document(stored)}, params)
        duration = params.integer("duration")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration if duration is not None else found,
            "mime_type": "audio/ogg",
            "file_size": len(stored.content),
        }
        stored.mime_type = "audio/ogg"
        return self._send_file(user, stored, {"voice": voice}, params)

    # Methods used by SimUser ---------------------------------------------------------------

    def _user_file(
        self, user: SimUser, kind: str, content: bytes, filename: str, mime_type: str
    ) -> StoredFile:
        """Keep a file a user sends, as Telegram keeps it for the bot to download."""
        number = self._new_id()
        stored = StoredFile(
            file_id=f"AwACAgIAAxkBAAI{number:08d}",
            file_unique_id=f"AgAD{number:08d}",
            kind=kind,
            filename=filename,
            mime_type=mime_type,
            content=content,
            chat_id=user.id,
            from_user=True,
        )
        self.files[stored.file_id] = stored
        return stored

    def _new_callback_query(
        self, user: SimUser, message: JSON, data: str, *, queue: bool = True
    ) -> JSON:
        """Record a press and return its ``callback_query`` update, queued unless ``queue`` is off."""
        query_id = str(4_000_000_000_000_000_000 + self._new_id())
        self.callback_queries[query_id] = CallbackQueryRecord(
            query_id, user.id, data, message["message_id"], pressed_at=self.limiter.clock()
        )
        payload = {
            "id": query_id,
            "from": user.user,
            "message": message,
            "chat_instance": f"-{user.id}0",
            "data": data,
        }
        if not queue:
            return {"update_id": next(self._update_ids), "callback_query": payload}
        return self._enqueue("callback_query", payload)
