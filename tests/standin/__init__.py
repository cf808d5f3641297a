"""A Telegram Bot API stand-in server for tests, with simulated users.

Typical use, with the ``standin`` fixture of ``tests.standin.fixtures``::

    user = standin.add_user(1001, first_name="Ana", language_code="bg")
    # run the bot with TelegramAPIServer.from_base(standin.base_url)
    await user.send("/start")
    reply = await user.next_message()
    await user.press("Next")
    assert standin.unanswered_callback_queries() == []
"""

from learntogether.telegram_html import TelegramHTMLError, parse_html, utf16_length
from tests.standin.errors import BotAPIError
from tests.standin.ratelimit import RateLimiter
from tests.standin.records import (
    CallbackQueryRecord,
    PollRecord,
    RecordedCall,
    StoredFile,
    UploadedFile,
    WebhookDelivery,
)
from tests.standin.server import BotAPIStandIn
from tests.standin.simuser import SimUser, button_texts

__all__ = [
    "BotAPIError",
    "BotAPIStandIn",
    "CallbackQueryRecord",
    "PollRecord",
    "RateLimiter",
    "RecordedCall",
    "SimUser",
    "StoredFile",
    "TelegramHTMLError",
    "UploadedFile",
    "WebhookDelivery",
    "button_texts",
    "parse_html",
    "utf16_length",
]
