"""The error answer of a Bot API method."""

from __future__ import annotations

from typing import Any


class BotAPIError(Exception):
    """A refused call: the HTTP status, Telegram's description and an optional ``retry_after``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram answers with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(message: str) -> BotAPIError:
    """A 400 answer with Telegram's ``"Bad Request: "`` prefix."""
    return BotAPIError(400, f"Bad Request: {message}")
