"""Listening: to a learner who would rather listen, a step recorded in their language comes as
a voice note; a step without one stays text.

Telegram keeps a file a bot sent once: each bot uploads a recording the first time and sends it
by the ``file_id`` it got back from then on (``media.telegram_file_id``), to every learner.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db import activity_log as activity
from learntogether.db.models import User, Verb
from learntogether.services import media
from learntogether.services.player import PlayerView


@dataclass(frozen=True)
class VoiceNote:
    """A step's recording to send: by ``file_id`` when this bot sent it before, else its bytes."""

    sha256: str
    duration: int
    """Whole seconds, as Telegram counts a voice note's length."""
    file_id: str | None
    data: bytes | None


async def voice_note(
    session: AsyncSession, *, learner: User, view: PlayerView, bot_id: int
) -> VoiceNote | None:
    """The voice note the current step comes as for ``learner``; None: it comes as text."""
    sha256 = view.lesson.steps[view.step_index].recording
    if not learner.prefers_audio or sha256 is None:
        return None
    return await kept_voice(session, sha256=sha256, bot_id=bot_id)


async def kept_voice(session: AsyncSession, *, sha256: str, bot_id: int) -> VoiceNote:
    """The recording kept under ``sha256`` as this bot sends it: by ``file_id`` if it has
    before, else its bytes (also for a mediator hearing a step's recording in ``/record``)."""
    info = await media.audio_info(session, sha256)
    file_id = await media.telegram_file_id(session, bot_id=bot_id, sha256=sha256)
    data = None if file_id is not None else await media.audio_bytes(session, sha256)
    return VoiceNote(sha256, info.duration_seconds, file_id, data)


async def voice_sent(
    session: AsyncSession,
    *,
    learner: User,
    view: PlayerView,
    voice: VoiceNote,
    bot_id: int,
    file_id: str | None,
) -> None:
    """After a voice note went out: the step is recorded as heard (``listened``, counted in the
    participation report), and the ``file_id`` Telegram gave an upload is kept, so that nobody's
    copy is uploaded again."""
    await keep_file_id(session, voice=voice, bot_id=bot_id, file_id=file_id)
    await activity.record(
        session,
        learner,
        Verb.LISTENED,
        track_id=view.track_id,
        lesson_id=view.lesson_id,
        lesson_version_id=view.version_id,
        data={"step": view.step_index},
    )


async def keep_file_id(
    session: AsyncSession, *, voice: VoiceNote, bot_id: int, file_id: str | None
) -> None:
    """The ``file_id`` Telegram gave an upload of ``voice`` is kept for this bot."""
    if voice.file_id is None and file_id is not None:
        await media.remember_telegram_file_id(
            session, bot_id=bot_id, sha256=voice.sha256, file_id=file_id
        )
