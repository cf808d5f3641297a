"""Voice notes users send: announced by Telegram, fetched from it only when a service wants them."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile, InputFile, Message, Voice
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.audio import MEGABYTE, AudioProblem
from learntogether.services import listening
from learntogether.services.media import AudioRefused
from learntogether.services.voice import IncomingVoice


def incoming(bot: Bot, voice: Voice) -> IncomingVoice:
    """The voice note as Telegram announced it; its bytes are downloaded (getFile, then the file
    URL of ``LT_TELEGRAM_API_URL``) only once what was announced passes the checks."""

    async def download() -> bytes:
        stream = await bot.download(voice.file_id)
        assert stream is not None  # no destination given: aiogram returns the bytes
        return stream.read()

    return IncomingVoice(duration=voice.duration, file_size=voice.file_size, download=download)


def upload_of(voice: listening.VoiceNote) -> InputFile | str:
    """What to send a kept recording as: the ``file_id`` this bot got for it, else its bytes."""
    if voice.file_id is not None:
        return voice.file_id
    return BufferedInputFile(voice.data or b"", filename=f"{voice.sha256[:12]}.ogg")


async def play(message: Message, bot: Bot, session: AsyncSession, sha256: str) -> None:
    """Send a kept recording into ``message``'s chat as a voice note (uploaded once per bot)."""
    voice = await listening.kept_voice(session, sha256=sha256, bot_id=bot.id)
    sent = await message.answer_voice(upload_of(voice), duration=voice.duration)
    await listening.keep_file_id(
        session,
        voice=voice,
        bot_id=bot.id,
        file_id=sent.voice.file_id if sent.voice is not None else None,
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
