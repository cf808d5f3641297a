"""Voice notes coming in from the chat: a learner's answer to an open question, a mediator's
recording of a lesson step.

Telegram says how long and how big a voice note is before the bot fetches it; what it says is
checked first (``check_declared``), so an oversized note is never downloaded. The bytes are then
checked again and kept by ``media.store_audio`` (OGG/Opus, size and duration), which refuses
with ``AudioRefused`` having stored nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from sqlalchemy import String, cast, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.audio import (
    MEGABYTE,
    AudioInfo,
    AudioLimits,
    BadAudio,
    check_duration,
    check_size,
)
from learntogether.db.models import Answer, LessonVersion, Media, StepRecording
from learntogether.services import media
from learntogether.services.media import AudioRefused

VOICE_ANSWER = AudioLimits(what="a voice answer", max_seconds=120, max_bytes=2 * MEGABYTE)
"""A learner's answer to an open question: up to 2 minutes."""


@dataclass(frozen=True)
class IncomingVoice:
    """A voice note as Telegram announces it, and how to fetch its bytes."""

    duration: int
    """Seconds, as the sender's app measured them."""
    file_size: int | None
    download: Callable[[], Awaitable[bytes]]


def check_declared(note: IncomingVoice, limits: AudioLimits) -> None:
    """Refuse (AudioRefused) a voice note whose announced length or size is beyond ``limits``."""
    try:
        if note.file_size is not None:
            check_size(note.file_size, limits)
        check_duration(note.duration * 1000, limits)
    except BadAudio as bad:
        raise AudioRefused(bad) from None


async def keep_voice_note(
    session: AsyncSession, *, note: IncomingVoice, limits: AudioLimits
) -> AudioInfo:
    """Check what Telegram announced, fetch the bytes, check and keep them (once per file).

    Raises AudioRefused, having stored nothing, when the note is not fit for ``limits``.
    """
    check_declared(note, limits)
    return await media.store_audio(session, data=await note.download(), limits=limits)


async def discard_unused(session: AsyncSession, sha256s: Collection[str]) -> None:
    """Delete the bytes of these files unless something still names them: another voice answer,
    another recording, or a lesson version (a learner may send back a lesson's own voice note)."""
    for sha256 in set(sha256s):
        used = await session.scalar(
            select(
                or_(
                    exists().where(Answer.audio_sha256 == sha256),
                    exists().where(StepRecording.audio_sha256 == sha256),
                    exists().where(cast(LessonVersion.document, String).contains(sha256)),
                )
            )
        )
        if not used:
            await session.execute(delete(Media).where(Media.sha256 == sha256))
