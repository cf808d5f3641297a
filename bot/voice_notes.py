"""Voice notes users send: announced by Telegram, fetched from it only when a service wants them."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile, Message, Voice
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.audio import MEGABYTE, AudioProblem
from learntogether.services import media
from learntogether.services.media import AudioRefused
from learntogether.services.voice import VoiceNote


def voice_note(bot: Bot, voice: Voice) -> VoiceNote:
    """The voice note as Telegram announced it; its bytes are downloaded (getFile, then the file
    URL of ``LT_TELEGRAM_API_URL``) only once what was announced passes the checks."""

    async def download() -> bytes:
        stream = await bot.download(voice.file_id)
        assert stream is not None  # no destination given: aiogram returns the bytes
        return stream.read()

    return VoiceNote(duration=voice.duration, file_size=voice.file_size, download=download)


async def play(message: Message, bot: Bot, session: AsyncSession, sha256: str) -> None:
    """Send a kept recording as a voice note: by the ``file_id`` this bot got the first time it
    sent it, else uploaded (once: the ``file_id`` is kept)."""
    file_id = await media.telegram_file_id(session, bot_id=bot.id, sha256=sha256)
    if file_id is not None:
        await message.answer_voice(file_id)
        return
    data = await media.audio_bytes(session, sha256)
    sent = await message.answer_voice(BufferedInputFile(data, filename=f"{sha256[:12]}.ogg"))
    if sent.voice is not None:
        await media.remember_telegram_file_id(
            session, bot_id=bot.id, sha256=sha256, file_id=sent.voice.file_id
        )


def refusal(refused: AudioRefused) -> str:
    """Why a voice note cannot be kept, in the user's language, with what to do instead."""
    limits = refused.limits
    if refused.problem is AudioProblem.TOO_LONG:
        minutes = max(1, limits.max_seconds // 60)
        return ngettext(
            "That voice note is too long: it may last up to {minutes} minute. Please say it "
            "again, shorter. Nothing was kept.",
            "That voice note is too long: it may last up to {minutes} minutes. Please say it "
            "again, shorter. Nothing was kept.",
            minutes,
        ).format(minutes=minutes)
    if refused.problem is AudioProblem.TOO_LARGE:
        return _(
            "That voice note is too big: it may take up to {size} MB. Please say it again, "
            "shorter. Nothing was kept."
        ).format(size=limits.max_bytes // MEGABYTE)
    return _(
        "That is not a voice note I can keep. Hold the microphone button and speak, please. "
        "Nothing was kept."
    )
