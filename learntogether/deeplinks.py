"""``t.me`` links that open the bot with a payload: cohort invites and workshop check-ins."""

from __future__ import annotations

import io
import logging
import re

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError

from learntogether.config import Settings

log = logging.getLogger(__name__)


# What a t.me link's start parameter can hold: 1 to 64 of A-Z, a-z, 0-9, _ and -.
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def deep_link(username: str, payload: str) -> str:
    return f"https://t.me/{username}?start={payload}"


def start_payload(args: str | None) -> str | None:
    """The payload of ``/start``, or None for none or for one no link could carry (forged)."""
    return args if args is not None and _PAYLOAD.fullmatch(args) else None


def qr_png(link: str) -> bytes:
    """A QR code of ``link`` to print or show on a screen (medium error correction)."""
    import segno  # loaded with the first QR code, not at start

    image = io.BytesIO()
    segno.make(link, error="m").save(image, kind="png", scale=10, border=4)
    return image.getvalue()


async def resolve_bot_username(settings: Settings) -> str | None:
    """``LT_BOT_USERNAME``, else the Bot API's getMe; None when neither can say."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.bot_token is None:
        return None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    bot = Bot(settings.bot_token.get_secret_value(), session=session)
    try:
        me = await bot.get_me()
    except (TelegramAPIError, OSError) as error:
        log.warning("cannot ask the Bot API for the bot's username: %s", error)
        return None
    finally:
        await session.close()
    return me.username
