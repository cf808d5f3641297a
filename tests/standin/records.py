"""What the stand-in records for tests to inspect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


@dataclass
class StoredFile:
    """A file the bot sent (sendDocument, sendPhoto) or a user sent it, with its bytes."""

    file_id: str
    file_unique_id: str
    kind: str
    filename: str
    mime_type: str
    content: bytes
    chat_id: int
    message_id: int = 0
    from_user: bool = False
    """Sent by a simulated user, not by the bot."""


@dataclass(frozen=True)
class RecordedCall:
    """One Bot API call: canonical method name, decoded parameters and the answer sent."""

    method: str
    params: JSON
    status: int
    response: JSON
    time: float

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` of a successful call (None for a failed one)."""
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        """Telegram's error description of a failed call."""
        return self.response.get("description")


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook: the HTTP status, or None and an error."""

    update_id: int
    status: int | None
    error: str | None = None


@dataclass
class CallbackQueryRecord:
    """A callback query a simulated user caused, and how the bot answered it."""

    id: str
    user_id: int
    data: str
    message_id: int
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    pressed_at: float | None = None
    """When the user pressed, and when the bot answered (the stand-in's clock)."""
    answered_at: float | None = None


@dataclass
class PollRecord:
    """A poll the bot sent: where it is and who voted for which options."""

    poll_id: str
    chat_id: int
    message_id: int
    votes: dict[int, list[int]] = field(default_factory=dict)
