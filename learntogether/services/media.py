"""Recorded audio: checked at the door, kept once per distinct file, uploaded once per bot.

Every way audio comes in (a lesson file, an upload through the API, a voice note in the chat)
is checked by ``content.audio.inspect_audio`` (here through ``check_audio``, which raises the
domain error). A file that passes is kept in ``media`` under the SHA-256 of its bytes
(``store_audio``), so a recording named by many lesson versions is kept once; the ``file_id``
Telegram returns when a bot first sends it is kept per bot (``telegram_file_id``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.audio import (
    STEP_RECORDING,
    AudioInfo,
    AudioLimits,
    AudioProblem,
    BadAudio,
    inspect_audio,
)
from learntogether.db.models import Media, TelegramFile
from learntogether.services.errors import FieldProblem, InvalidInput, NotFound

__all__ = [
    "STEP_RECORDING",
    "AudioInfo",
    "AudioLimits",
    "AudioProblem",
    "AudioRefused",
    "MediaNotFound",
    "audio_bytes",
    "audio_info",
    "check_audio",
    "remember_telegram_file_id",
    "store_audio",
    "telegram_file_id",
    "unknown_audio",
]


class AudioRefused(InvalidInput):
    """Audio that cannot be used: not OGG/Opus, too long or too big. ``problem`` says which (for
    a message in the learner's language), ``detail`` says it in English (the API)."""

    title = "Audio refused"

    def __init__(self, bad: BadAudio, *, path: str = "$") -> None:
        super().__init__(bad.detail, [FieldProblem(path, bad.detail)])
        self.problem = bad.problem
        self.limits = bad.limits
        self.bad = bad

    def at(self, path: str) -> AudioRefused:
        """The same refusal, naming the field the audio came in as (``$.steps[1].audio.bg``)."""
        return AudioRefused(self.bad, path=path)


class MediaNotFound(NotFound):
    pass


def check_audio(data: bytes, limits: AudioLimits) -> AudioInfo:
    """What ``data`` is, if it is an OGG/Opus recording within ``limits``; raises AudioRefused."""
    try:
        return inspect_audio(data, limits)
    except BadAudio as bad:
        raise AudioRefused(bad) from None


async def store_audio(session: AsyncSession, *, data: bytes, limits: AudioLimits) -> AudioInfo:
    """Check ``data`` and keep it, once: a file already kept is not stored again.

    Raises AudioRefused, having stored nothing, when the file is not fit for ``limits``.
    """
    info = check_audio(data, limits)
    if not await session.scalar(select(exists().where(Media.sha256 == info.sha256))):
        await _add_once(
            session,
            Media(
                sha256=info.sha256,
                mime_type=info.mime_type,
                size=info.size,
                duration_ms=info.duration_ms,
                data=data,
            ),
        )
    return info


async def _add_once(session: AsyncSession, row: Media | TelegramFile) -> None:
    """Insert ``row`` unless another request inserted the same key meanwhile: content-keyed
    rows are the same whoever wrote them."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        pass


async def audio_info(session: AsyncSession, sha256: str) -> AudioInfo:
    """What is kept under ``sha256`` (without reading the bytes); raises MediaNotFound."""
    row = (
        await session.execute(
            select(Media.sha256, Media.mime_type, Media.size, Media.duration_ms).where(
                Media.sha256 == sha256
            )
        )
    ).one_or_none()
    if row is None:
        raise MediaNotFound(f"no audio with SHA-256 {sha256}")
    return AudioInfo(*row)


async def audio_bytes(session: AsyncSession, sha256: str) -> bytes:
    """The bytes kept under ``sha256``; raises MediaNotFound."""
    data = await session.scalar(select(Media.data).where(Media.sha256 == sha256))
    if data is None:
        raise MediaNotFound(f"no audio with SHA-256 {sha256}")
    return data


async def unknown_audio(session: AsyncSession, sha256s: Iterable[str]) -> set[str]:
    """Which of ``sha256s`` name no audio kept here."""
    wanted = set(sha256s)
    if not wanted:
        return set()
    known = await session.scalars(select(Media.sha256).where(Media.sha256.in_(wanted)))
    return wanted - set(known)


async def telegram_file_id(session: AsyncSession, *, bot_id: int, sha256: str) -> str | None:
    """The ``file_id`` this bot got when it first sent the medium; None if it never has."""
    return await session.scalar(
        select(TelegramFile.file_id).where(
            TelegramFile.bot_id == bot_id, TelegramFile.sha256 == sha256
        )
    )


async def remember_telegram_file_id(
    session: AsyncSession, *, bot_id: int, sha256: str, file_id: str
) -> None:
    """Keep the ``file_id`` Telegram returned, so this bot never uploads the medium again (when
    two learners got the first upload at once, either id serves)."""
    await _add_once(session, TelegramFile(bot_id=bot_id, sha256=sha256, file_id=file_id))
