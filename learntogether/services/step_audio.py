"""Recordings of lesson steps: uploaded or removed one at a time, each change a new draft.

A recording is audio kept in ``media`` and named in the lesson document by its SHA-256
(``steps[n].audio[locale]``); changing one saves the lesson as a draft through the same path as
any other edit (``lessons.save_draft``), to be published as usual.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.schema import LessonDocument
from learntogether.content.translations import with_recording
from learntogether.i18n import SUPPORTED_LOCALES
from learntogether.services import lessons, media
from learntogether.services.actors import Actor
from learntogether.services.errors import FieldProblem, InvalidInput, NotFound
from learntogether.services.lessons import LessonDetail


class RecordingNotFound(NotFound):
    pass


def _step_and_locale(document: LessonDocument, *, step: int, locale: str) -> None:
    if not 0 <= step < len(document.steps):
        raise NotFound(
            f"Lesson '{document.slug}' has steps 0 to {len(document.steps) - 1}; "
            f"there is no step {step}."
        )
    if locale not in SUPPORTED_LOCALES:
        known = ", ".join(SUPPORTED_LOCALES)
        raise InvalidInput(
            f"Unknown locale '{locale}'.",
            [FieldProblem("path.locale", f"unknown locale '{locale}' (known: {known})")],
        )


async def _newest(session: AsyncSession, slug: str) -> LessonDocument:
    return LessonDocument.model_validate((await lessons.get_lesson(session, slug)).document)


async def record_step(
    session: AsyncSession, *, slug: str, step: int, locale: str, sha256: str, actor: Actor
) -> LessonDetail:
    """Step ``step`` (from 0) of the lesson's newest version recorded in ``locale`` by audio
    already kept under ``sha256``, saved as a draft (``lessons.publish_lesson`` publishes it)."""
    document = await _newest(session, slug)
    _step_and_locale(document, step=step, locale=locale)
    updated = with_recording(document, step=step, locale=locale, sha256=sha256)
    detail, _created = await lessons.save_draft(session, document=updated, actor=actor)
    return detail


async def upload_step_recording(
    session: AsyncSession, *, slug: str, step: int, locale: str, data: bytes, actor: Actor
) -> LessonDetail:
    """Check and keep ``data`` as step ``step``'s recording in ``locale``: a new draft.

    Raises AudioRefused (not OGG/Opus, too long, too big) with nothing stored.
    """
    document = await _newest(session, slug)
    _step_and_locale(document, step=step, locale=locale)
    info = await media.store_audio(session, data=data, limits=media.STEP_RECORDING)
    return await record_step(
        session, slug=slug, step=step, locale=locale, sha256=info.sha256, actor=actor
    )


async def remove_step_recording(
    session: AsyncSession, *, slug: str, step: int, locale: str, actor: Actor
) -> LessonDetail:
    """The lesson without step ``step``'s recording in ``locale``: a new draft."""
    document = await _newest(session, slug)
    _step_and_locale(document, step=step, locale=locale)
    steps = list(document.steps)
    if locale not in steps[step].audio:
        raise RecordingNotFound(f"Step {step} of lesson '{slug}' has no recording in '{locale}'.")
    audio = {code: found for code, found in steps[step].audio.items() if code != locale}
    steps[step] = steps[step].model_copy(update={"audio": audio})
    updated = document.model_copy(update={"steps": steps})
    detail, _created = await lessons.save_draft(session, document=updated, actor=actor)
    return detail


async def step_recording(
    session: AsyncSession, *, slug: str, step: int, locale: str, version: int | None = None
) -> tuple[media.AudioInfo, bytes]:
    """The recording of step ``step`` in ``locale`` (of the newest version unless named)."""
    if version is None:
        document = await _newest(session, slug)
    else:
        _info, found = await lessons.get_version(session, slug, version)
        document = LessonDocument.model_validate(found)
    _step_and_locale(document, step=step, locale=locale)
    recording = document.steps[step].audio.get(locale)
    if recording is None or recording.sha256 is None:
        raise RecordingNotFound(f"Step {step} of lesson '{slug}' has no recording in '{locale}'.")
    info = await media.audio_info(session, recording.sha256)
    return info, await media.audio_bytes(session, recording.sha256)
