"""Validation of ``reply_markup`` as the Bot API server checks it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.standin.errors import BotAPIError, bad_request

MAX_BUTTONS = 100
MAX_CALLBACK_DATA_BYTES = 64
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
    "disabled",
)
_BUTTON_DECORATIONS = ("icon_custom_emoji_id", "style")
_MARKUP_JSON_ERROR = "can't parse reply keyboard markup JSON object"


def _button_error(message: str) -> BotAPIError:
    return bad_request(f"can't parse inline keyboard button: {message}")


def _check_url(url: object) -> None:
    if not isinstance(url, str):
        raise _button_error('Field "url" must be of type String')
    parts = urlsplit(url.strip())
    valid = parts.scheme == "tg" or (parts.scheme in ("http", "https") and bool(parts.hostname))
    if not valid or any(char.isspace() for char in url.strip()):
        raise bad_request("BUTTON_URL_INVALID")


def _inline_button(button: object) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise _button_error('Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise _button_error('Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise _button_error("exactly one of the optional fields must be used")
    action = actions[0]
    if action == "callback_data":
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url":
        _check_url(button["url"])
    stored = {"text": button["text"], action: button[action]}
    stored.update({name: button[name] for name in _BUTTON_DECORATIONS if name in button})
    return stored


def _rows(markup: dict[str, Any], field: str) -> list[list[Any]]:
    rows = markup[field]
    if not isinstance(rows, list):
        raise bad_request(f'field "{field}" must be an Array')
    if not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" must be an Array of Arrays')
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    return rows


def check_reply_markup(markup: object) -> dict[str, Any] | None:
    """Validate ``markup`` and return what a sent message shows: its inline keyboard, or None.

    Reply keyboards, ``remove_keyboard`` and ``force_reply`` are accepted and not shown in the
    message, as Telegram does.
    """
    if not isinstance(markup, dict):
        raise bad_request(_MARKUP_JSON_ERROR)
    if "inline_keyboard" in markup:
        rows = _rows(markup, "inline_keyboard")
        return {"inline_keyboard": [[_inline_button(button) for button in row] for row in rows]}
    if "keyboard" in markup:
        for row in _rows(markup, "keyboard"):
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text.strip():
                    raise bad_request(
                        'can\'t parse keyboard button: Field "text" must be non-empty'
                    )
        return None
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return None
    raise bad_request(_MARKUP_JSON_ERROR)
