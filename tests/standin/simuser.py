"""A simulated Telegram user in a private chat with the bot."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from learntogether.telegram_html import utf16_length
from tests.standin.records import JSON

if TYPE_CHECKING:
    from tests.standin.server import BotAPIStandIn

# How long the test API waits, by default, for what the bot does. A passing test stops waiting as
# soon as it happens; the margin is for a loaded machine (CI runs two suites on two shared cores),
# where a reply that takes milliseconds alone can take seconds.
WAIT_SECONDS = 15.0


def _describe(message: JSON) -> str:
    if "text" in message:
        content = repr(message["text"][:80])
    elif "poll" in message:
        content = f"poll {message['poll']['question'][:60]!r}"
    elif "document" in message:
        content = f"document {message['document'].get('file_name')!r}"
    elif "photo" in message:
        content = "photo"
    elif "voice" in message:
        content = f"voice {message.get('caption', '')[:60]!r}"
    elif "audio" in message:
        content = f"audio {message['audio'].get('file_name')!r}"
    else:
        content = "message"
    buttons = [
        button["text"]
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for button in row
    ]
    return f"#{message['message_id']} {content}" + (f" buttons={buttons}" if buttons else "")


class SimUser:
    """A user of the bot: writes to it, presses buttons, votes, blocks it; sees its messages.

    Made by ``BotAPIStandIn.add_user``. Its private chat with the bot has the user's id.
    """

    def __init__(
        self,
        standin: BotAPIStandIn,
        user_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None,
        username: str | None,
    ) -> None:
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.last_name = last_name
        self.username = username
        self.blocked = False
        self._standin = standin
        self._chat_messages: dict[int, JSON] = {}
        self._from_bot: list[int] = []
        self._deleted: list[JSON] = []
        self._sent_log: list[JSON] = []
        self._cursor = 0
        self._last_message_id = 0
        self.changes = 0
        """How many times the bot sent to or changed the chat (a message sent, edited, deleted)."""

    @property
    def user(self) -> JSON:
        """The user as a Telegram ``User`` object."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        user.update({key: value for key, value in optional.items() if value is not None})
        return user

    @property
    def chat(self) -> JSON:
        """The private chat with the bot as a Telegram ``Chat`` object."""
        chat: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        optional = {"last_name": self.last_name, "username": self.username}
        chat.update({key: value for key, value in optional.items() if value is not None})
        return chat

    @property
    def messages(self) -> list[JSON]:
        """Messages the bot sent to the user, in order, as they are now (edits included)."""
        return [self._chat_messages[i] for i in self._from_bot if i in self._chat_messages]

    @property
    def deleted_messages(self) -> list[JSON]:
        """Messages deleted with deleteMessage, as they were when deleted."""
        return list(self._deleted)

    def message(self, message_id: int) -> JSON:
        """A message of the chat as it is now; AssertionError when there is none."""
        message = self._find(message_id)
        if message is None:
            raise AssertionError(f"No message #{message_id} in the chat with user {self.id}")
        return message

    async def send(self, text: str, reply_to: JSON | None = None) -> JSON:
        """Write ``text`` to the bot (a ``message`` update); return the Message. ``reply_to``:
        a message of the chat this one replies to (Telegram's reply, quoting it).

        A text starting with "/" gets a ``bot_command`` entity over its first word. A user who
        blocked the bot unblocks it by writing, as in Telegram.
        """
        content: JSON = {"text": text}
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        return self._send_content(content)

    async def send_voice(self, content: bytes, duration: int, mime_type: str = "audio/ogg") -> JSON:
        """Record a voice note of ``duration`` seconds (as the app reports it) and send it.

        The bot gets a ``message`` with ``voice`` {file_id, file_unique_id, duration, mime_type,
        file_size}; ``getFile`` and the file route then give it ``content``.
        """
        return self._send_file("voice", content, "voice.ogg", mime_type, duration=duration)

    async def send_audio(
        self, content: bytes, duration: int, file_name: str, mime_type: str
    ) -> JSON:
        """Send a music file (an ``audio`` message: what a user attaches from the phone's files)."""
        return self._send_file(
            "audio", content, file_name, mime_type, duration=duration, file_name=file_name
        )

    async def send_document(self, content: bytes, file_name: str, mime_type: str) -> JSON:
        """Send a file as a ``document`` message."""
        return self._send_file("document", content, file_name, mime_type, file_name=file_name)

    def _send_file(
        self, kind: str, content: bytes, filename: str, mime_type: str, **fields: Any
    ) -> JSON:
        """Keep the file where getFile finds it and send a message carrying it as ``kind``."""
        stored = self._standin._user_file(self, kind, content, filename, mime_type)
        attached = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            **fields,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return self._send_content({kind: attached})

    def _send_content(self, content: JSON) -> JSON:
        """Send the bot a ``message`` update with ``content``; a user who blocked the bot
        unblocks it by writing, as in Telegram."""
        if self.blocked:
            self.unblock()
        message: JSON = {
            "message_id": self._take_message_id(),
            "from": self.user,
            "chat": self.chat,
            "date": int(time.time()),
            **content,
        }
        self._store(message, from_bot=False)
        self._standin._enqueue("message", message)
        return message

    async def press(self, button: str, message: JSON | int | None = None) -> str:
        """Press an inline button, found by text or callback_data; return the callback query id.

        Looks in ``message`` (a Message or its id) or else the latest message to the user with
        an inline keyboard, and sends the bot a ``callback_query`` with the message as it is now.
        """
        target = self._keyboard_message(message)
        buttons = [b for row in target["reply_markup"]["inline_keyboard"] for b in row]
        found = next((b for b in buttons if b["text"] == button), None) or next(
            (b for b in buttons if b.get("callback_data") == button), None
        )
        available = [(b["text"], b.get("callback_data") or b.get("url")) for b in buttons]
        if found is None:
            raise AssertionError(
                f"No button {button!r} in message #{target['message_id']}; "
                f"available (text, data): {available}"
            )
        if "callback_data" not in found:
            raise AssertionError(f"Button {button!r} has no callback_data to send: {found}")
        update = self._standin._new_callback_query(self, target, found["callback_data"])
        return str(update["callback_query"]["id"])

    def press_update(self, button: str, message: JSON | int | None = None) -> JSON:
        """The ``callback_query`` update of pressing ``button`` (as ``press`` finds it), recorded
        so that the bot can answer it but not queued: for a test that posts it to a webhook worker
        of its choice."""
        target = self._keyboard_message(message)
        buttons = [b for row in target["reply_markup"]["inline_keyboard"] for b in row]
        found = next((b for b in buttons if b["text"] == button and "callback_data" in b), None)
        if found is None:
            raise AssertionError(f"No button {button!r} with callback_data: {button_texts(target)}")
        return self._standin._new_callback_query(self, target, found["callback_data"], queue=False)

    async def press_forged(self, data: str, message: JSON | int | None = None) -> str:
        """Send a callback query with ``data`` no button carries (a forged or mangled client's),
        from ``message`` or the latest message with an inline keyboard; return its id."""
        update = self._standin._new_callback_query(self, self._keyboard_message(message), data)
        return str(update["callback_query"]["id"])

    async def answer_poll(self, message_or_poll_id: JSON | str, option_ids: list[int]) -> None:
        """Vote in a non-anonymous poll the bot sent (an empty list retracts the vote).

        Sends the bot a ``poll_answer`` update, then a ``poll`` update with the new counts.
        """
        target = message_or_poll_id
        poll_id = target["poll"]["id"] if isinstance(target, dict) else target
        record = self._standin.polls.get(poll_id)
        if record is None or record.chat_id != self.id:
            raise AssertionError(f"No poll {poll_id!r} in the chat with user {self.id}")
        message = self.message(record.message_id)
        poll = message["poll"]
        options = poll["options"]
        if poll["is_anonymous"]:
            raise AssertionError("The poll is anonymous: Telegram sends the bot no poll_answer")
        if poll["is_closed"]:
            raise AssertionError("The poll is closed")
        if len(set(option_ids)) != len(option_ids) or not all(
            0 <= i < len(options) for i in option_ids
        ):
            raise AssertionError(f"Invalid option ids {option_ids} for {len(options)} options")
        if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
            raise AssertionError("The poll allows only one answer")
        if self.id in record.votes and not poll["allows_revoting"]:
            raise AssertionError("The poll does not allow changing the answer")
        if option_ids:
            record.votes[self.id] = sorted(option_ids)
        else:
            record.votes.pop(self.id, None)
        counts = [0] * len(options)
        for chosen in record.votes.values():
            for index in chosen:
                counts[index] += 1
        new_poll = {
            **poll,
            "options": [
                {**option, "voter_count": count}
                for option, count in zip(options, counts, strict=True)
            ],
            "total_voter_count": len(record.votes),
        }
        self._replace({**message, "poll": new_poll})
        self._standin._enqueue(
            "poll_answer",
            {
                "poll_id": poll_id,
                "user": self.user,
                "option_ids": sorted(option_ids),
                "option_persistent_ids": [options[i]["persistent_id"] for i in sorted(option_ids)],
            },
        )
        self._standin._enqueue("poll", new_poll)

    def block(self) -> None:
        """Block the bot: sends to the chat fail with 403; the bot gets ``my_chat_member``."""
        if not self.blocked:
            self.blocked = True
            self._standin._enqueue("my_chat_member", self._member_update("member", "kicked"))

    def unblock(self) -> None:
        """Unblock the bot; the bot gets ``my_chat_member`` back to member."""
        if self.blocked:
            self.blocked = False
            self._standin._enqueue("my_chat_member", self._member_update("kicked", "member"))

    async def next_message(
        self,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109 - the test API takes a timeout
    ) -> JSON:
        """The next message the bot sent to the user after the last one returned, as sent.

        Waits up to ``timeout`` seconds; AssertionError with what arrived otherwise.
        """

        def take() -> JSON | None:
            if self._cursor < len(self._sent_log):
                self._cursor += 1
                return self._sent_log[self._cursor - 1]
            return None

        return await self._standin._wait_until(
            take, timeout, lambda: self._timeout_report("No new message", timeout)
        )

    async def wait_for(
        self,
        predicate: Callable[[JSON], bool],
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109 - the test API takes a timeout
    ) -> JSON:
        """The first message to the user, as it is now, that satisfies ``predicate``.

        Waits up to ``timeout`` seconds; AssertionError with what arrived otherwise.
        """

        def find() -> JSON | None:
            return next((m for m in self.messages if predicate(m)), None)

        return await self._standin._wait_until(
            find, timeout, lambda: self._timeout_report("No matching message", timeout)
        )

    # Used by the stand-in ------------------------------------------------------------------

    def _take_message_id(self) -> int:
        self._last_message_id += 1
        return self._last_message_id

    def _find(self, message_id: int) -> JSON | None:
        return self._chat_messages.get(message_id)

    def _store(self, message: JSON, from_bot: bool) -> None:
        self._chat_messages[message["message_id"]] = message
        if from_bot:
            self.changes += 1
            self._from_bot.append(message["message_id"])
            self._sent_log.append(message)

    def _replace(self, message: JSON) -> None:
        self._chat_messages[message["message_id"]] = message
        self.changes += 1

    def _delete(self, message_id: int) -> None:
        self._deleted.append(self._chat_messages.pop(message_id))
        self.changes += 1

    def _member_update(self, old: str, new: str) -> JSON:
        bot = self._standin.bot_user

        def member(status: str) -> dict[str, Any]:
            return {
                "user": bot,
                "status": status,
                **({"until_date": 0} if status == "kicked" else {}),
            }

        return {
            "chat": self.chat,
            "from": self.user,
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def _keyboard_message(self, message: JSON | int | None) -> JSON:
        if message is None:
            for candidate in reversed(self.messages):
                if "inline_keyboard" in candidate.get("reply_markup", {}):
                    return candidate
            raise AssertionError(
                f"No message to user {self.id} has an inline keyboard; messages: "
                f"{[_describe(m) for m in self.messages]}"
            )
        current = self.message(message if isinstance(message, int) else message["message_id"])
        if "inline_keyboard" not in current.get("reply_markup", {}):
            raise AssertionError(f"Message has no inline keyboard: {_describe(current)}")
        return current

    def _timeout_report(self, what: str, timeout: float) -> str:
        described = [_describe(message) for message in self.messages]
        return (
            f"{what} to user {self.id} within {timeout}s. "
            f"Messages so far ({len(described)}, {self._cursor} consumed): {described}"
        )


def button_texts(message: JSON) -> list[str]:
    """The texts of a message's inline buttons, row by row."""
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in keyboard for button in row]
