"""Mediators record lesson steps in the chat; admins listen, approve or reject.

A mediator (a learner who mediates a cohort) picks a published lesson's step, reads its text,
names the language (Romani with a free-text note on the dialect), agrees to publication (a
recording is the speaker's personal data) and sends a voice note. It waits, ``pending``, until
an admin approves it, which publishes a new version of the lesson with the step's
``audio[locale]`` set and the recorder credited (``credit``: the name they had in the chat when
they sent it, shown by ``GET /api/v1/recordings`` and in the lesson's version history), or
rejects it with a comment. Either way the recorder is told in the bot, with the comment.

A recorder may withdraw a recording until it is approved; a withdrawn or rejected recording's
bytes are deleted at once. /delete withdraws the pending ones and takes the recorder's name off
the approved ones, which stay in the lessons they were published in: the recorder agreed to that
when sending (the privacy notice says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.audio import STEP_RECORDING
from learntogether.content.render import pick_text
from learntogether.db.base import utcnow
from learntogether.db.models import (
    BroadcastKind,
    Lesson,
    LessonStatus,
    LessonVersion,
    RecordingStatus,
    StepRecording,
    Track,
    User,
    VersionStatus,
    cohort_mediators,
)
from learntogether.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES, locale_chain
from learntogether.services import broadcasts, lessons, media, published, step_audio
from learntogether.services.actors import Actor
from learntogether.services.audit import record_change
from learntogether.services.errors import (
    N_,
    Conflict,
    FieldProblem,
    InvalidInput,
    NotAllowed,
    NotFound,
)
from learntogether.services.voice import IncomingVoice, discard_unused, keep_voice_note

ROMANI = "rom"
DIALECT_LENGTH = 200
COMMENT_LENGTH = 2000


class RecordingNotFound(NotFound):
    pass


# A status as a refusal says it ("Recording 4 is approved; …"), in the reader's language.
_STATUS_WORDS = {
    RecordingStatus.PENDING: N_("pending"),
    RecordingStatus.APPROVED: N_("approved"),
    RecordingStatus.REJECTED: N_("rejected"),
    RecordingStatus.WITHDRAWN: N_("withdrawn"),
}


@dataclass(frozen=True)
class Choice:
    id: int
    title: str


@dataclass(frozen=True)
class StepSource:
    """A step of a lesson's newest published version, as the recorder reads it."""

    lesson_id: int
    version_id: int
    lesson_title: str
    index: int
    count: int
    text: str
    """Telegram HTML, in the recorder's languages."""
    recorded: dict[str, str]
    """The step's published recordings: locale → SHA-256 of the audio."""


@dataclass(frozen=True)
class RecordingInfo:
    id: int
    lesson: str
    """The lesson's slug."""
    lesson_title: str
    """The title of the version read, in the reader's language, else in English (the slug only
    when the version has no title at all)."""
    step: int
    """Counted from 1, as the bot and the console show steps."""
    locale: str
    dialect: str | None
    status: RecordingStatus
    comment: str | None
    credit: str | None
    duration: int
    created_at: datetime
    reviewed_at: datetime | None
    reviewed_by: str | None
    published_version: int | None
    lesson_version: int
    """The version whose text was read."""


async def is_mediator(session: AsyncSession, *, learner: User) -> bool:
    """Recording is for mediators: learners an admin made mediator of a cohort."""
    found = await session.scalar(
        select(cohort_mediators.c.cohort_id).where(cohort_mediators.c.user_id == learner.id)
    )
    return found is not None


async def _check_mediator(session: AsyncSession, learner: User) -> None:
    if not await is_mediator(session, learner=learner):
        raise NotAllowed("Recording lessons is for mediators.")


async def tracks(session: AsyncSession, *, learner: User, chain: Sequence[str]) -> list[Choice]:
    """The tracks with published lessons, in curriculum order, titled in ``chain``."""
    await _check_mediator(session, learner)
    rows = await session.execute(
        select(Track.id, Track.title)
        .where(
            Track.archived_at.is_(None),
            Track.id.in_(select(Lesson.track_id).where(Lesson.status == LessonStatus.PUBLISHED)),
        )
        .order_by(Track.position, Track.id)
    )
    return [Choice(track_id, pick_text(title, chain)) for track_id, title in rows]


async def lessons_of(
    session: AsyncSession, *, learner: User, track_id: int, chain: Sequence[str]
) -> list[Choice]:
    """The published lessons of a track, in order, titled in ``chain``."""
    await _check_mediator(session, learner)
    ids = list(
        await session.scalars(
            select(Lesson.id)
            .where(Lesson.track_id == track_id, Lesson.status == LessonStatus.PUBLISHED)
            .order_by(Lesson.position, Lesson.id)
        )
    )
    refs = await published.newest_published(session, ids)
    return [
        Choice(lesson_id, (await published.rendered(session, refs[lesson_id], chain)).title)
        for lesson_id in ids
        if lesson_id in refs
    ]


async def step_source(
    session: AsyncSession, *, learner: User, lesson_id: int, index: int, chain: Sequence[str]
) -> StepSource:
    """A step of the lesson's newest published version; RecordingNotFound past the last one."""
    await _check_mediator(session, learner)
    ref = (await published.newest_published(session, [lesson_id])).get(lesson_id)
    if ref is None:
        raise RecordingNotFound("This lesson is not published.")
    lesson = await published.rendered(session, ref, chain)
    if not 0 <= index < len(lesson.steps):
        raise RecordingNotFound("This lesson has no such step.")
    document = (await published.documents(session, [ref]))[ref.id]
    audio = document.steps[index].audio
    return StepSource(
        lesson_id=lesson_id,
        version_id=ref.id,
        lesson_title=lesson.title,
        index=index,
        count=len(lesson.steps),
        text=lesson.steps[index].text,
        recorded={code: item.sha256 for code, item in audio.items() if item.sha256},
    )


async def published_audio(
    session: AsyncSession, *, version_id: int, index: int, locale: str
) -> str | None:
    """The SHA-256 of the step's recording in ``locale`` in that published version, if any."""
    ref = await published.version_ref(session, version_id)
    if ref is None:
        raise RecordingNotFound("This lesson version is gone.")
    steps = (await published.documents(session, [ref]))[ref.id].steps
    recording = steps[index].audio.get(locale) if 0 <= index < len(steps) else None
    return recording.sha256 if recording is not None else None


def _clean_dialect(locale: str, dialect: str | None) -> str | None:
    if locale not in SUPPORTED_LOCALES:
        raise InvalidInput(
            f"No language {locale!r} in the programme.",
            [FieldProblem("locale", f"one of {', '.join(SUPPORTED_LOCALES)}")],
        )
    if locale != ROMANI:
        return None
    cleaned = " ".join((dialect or "").split())[:DIALECT_LENGTH]
    return cleaned or None


async def submit(
    session: AsyncSession,
    *,
    learner: User,
    version_id: int,
    index: int,
    locale: str,
    dialect: str | None,
    voice: IncomingVoice,
) -> RecordingInfo:
    """Keep a mediator's recording of a step, pending review.

    The recorder agreed to publication before sending (the bot asks); AudioRefused, with nothing
    stored, when the voice note is not an OGG/Opus recording of up to 3 minutes.
    """
    await _check_mediator(session, learner)
    version = await session.get(LessonVersion, version_id)
    if version is None or version.status is not VersionStatus.PUBLISHED:
        raise RecordingNotFound("This lesson version is not published.")
    if not 0 <= index < len(version.document.get("steps", [])):
        raise RecordingNotFound("This lesson has no such step.")
    cleaned = _clean_dialect(locale, dialect)
    info = await keep_voice_note(session, note=voice, limits=STEP_RECORDING)
    recording = StepRecording(
        lesson_id=version.lesson_id,
        lesson_version_id=version.id,
        step_index=index,
        locale=locale,
        dialect=cleaned,
        recorder_id=learner.id,
        credit=" ".join(part for part in (learner.first_name, learner.last_name) if part) or None,
        audio_sha256=info.sha256,
        duration=info.duration_seconds,
        consented_at=utcnow(),
    )
    session.add(recording)
    await session.flush()
    return (await _infos(session, [recording]))[0]


async def own_recordings(session: AsyncSession, *, learner: User) -> list[RecordingInfo]:
    """The recorder's recordings, newest first."""
    rows = await session.scalars(
        select(StepRecording)
        .where(StepRecording.recorder_id == learner.id)
        .order_by(StepRecording.id.desc())
    )
    return await _infos(session, list(rows))


async def withdraw(session: AsyncSession, *, learner: User, recording_id: int) -> RecordingInfo:
    """The recorder takes back a recording not yet approved; its bytes are deleted."""
    recording = await session.get(StepRecording, recording_id)
    if recording is None or recording.recorder_id != learner.id:
        raise RecordingNotFound("No such recording of yours.")
    if recording.status is not RecordingStatus.PENDING:
        raise Conflict(
            f"This recording is {recording.status.value}; only a pending one is withdrawn."
        )
    recording.status = RecordingStatus.WITHDRAWN
    await _drop_audio(session, [recording])
    return (await _infos(session, [recording]))[0]


async def _drop_audio(session: AsyncSession, dropped: Sequence[StepRecording]) -> None:
    sha256s = [row.audio_sha256 for row in dropped if row.audio_sha256 is not None]
    for row in dropped:
        row.audio_sha256 = None
    await session.flush()
    await discard_unused(session, sha256s)


async def list_recordings(
    session: AsyncSession,
    *,
    actor: Actor,
    status: RecordingStatus | None = None,
    lesson: str | None = None,
    locale: str = SOURCE_LOCALE,
    limit: int,
    offset: int = 0,
) -> tuple[list[RecordingInfo], int]:
    """One page of recordings, oldest first (the review queue), and how many there are: of one
    status, of one lesson (its slug: with ``approved``, who reads the lesson aloud, credited);
    lessons titled in ``locale``; admins only (NotAllowed)."""
    actor.check_role()
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(StepRecording.status == status)
    if lesson is not None:
        lesson_id = await lessons.lesson_id_of(session, lesson)
        conditions.append(StepRecording.lesson_id == lesson_id)
    total = await session.scalar(select(func.count()).select_from(StepRecording).where(*conditions))
    rows = await session.scalars(
        select(StepRecording)
        .where(*conditions)
        .order_by(StepRecording.created_at, StepRecording.id)
        .limit(limit)
        .offset(offset)
    )
    return await _infos(session, list(rows), locale), total or 0


async def _get(session: AsyncSession, recording_id: int) -> StepRecording:
    recording = await session.get(StepRecording, recording_id)
    if recording is None:
        raise RecordingNotFound(f"No recording with id {recording_id}.")
    return recording


async def get_recording(session: AsyncSession, *, actor: Actor, recording_id: int) -> RecordingInfo:
    actor.check_role()
    return (await _infos(session, [await _get(session, recording_id)]))[0]


async def recording_audio(session: AsyncSession, *, actor: Actor, recording_id: int) -> bytes:
    """The voice note, for an admin to listen to; RecordingNotFound once its bytes are gone."""
    actor.check_role()
    recording = await _get(session, recording_id)
    if recording.audio_sha256 is None:
        raise RecordingNotFound(
            f"Recording {recording_id} was {recording.status.value}; its audio is gone."
        )
    return await media.audio_bytes(session, recording.audio_sha256)


def _clean_comment(comment: str | None) -> str | None:
    cleaned = (comment or "").strip()
    if len(cleaned) > COMMENT_LENGTH:
        raise InvalidInput(
            N_("A comment is at most {limit} characters.", limit=COMMENT_LENGTH),
            [FieldProblem("$.comment", N_("at most {limit} characters", limit=COMMENT_LENGTH))],
        )
    return cleaned or None


async def _pending(session: AsyncSession, recording_id: int) -> StepRecording:
    recording = await _get(session, recording_id)
    if recording.status is not RecordingStatus.PENDING:
        raise Conflict(
            N_(
                "Recording {id} is {status}; only a pending one is reviewed.",
                id=recording_id,
                status=_STATUS_WORDS[recording.status],
            )
        )
    return recording


async def approve(
    session: AsyncSession, *, actor: Actor, recording_id: int, comment: str | None = None
) -> RecordingInfo:
    """Publish the recording as the step's audio in its language: a new version of the lesson
    (the newest published one with ``audio[locale]`` set, through ``step_audio.record_step``),
    published at once, then tell the recorder.

    Conflict when the lesson has an unpublished draft (publish or replace it first, so that the
    draft's changes are not published unreviewed nor lost) or no longer has the step.
    """
    actor.check_role()
    recording = await _pending(session, recording_id)
    cleaned = _clean_comment(comment)
    lesson = await session.get(Lesson, recording.lesson_id)
    assert lesson is not None  # the foreign key cascades
    detail = await lessons.get_lesson(session, lesson.slug)
    if detail.published_version != detail.latest_version:
        raise Conflict(
            N_(
                "Lesson '{slug}' has an unpublished draft (version {version}); publish it first, "
                "then approve the recording.",
                slug=lesson.slug,
                version=detail.latest_version,
            )
        )
    assert recording.audio_sha256 is not None  # a pending recording keeps its audio
    try:
        await step_audio.record_step(
            session,
            slug=lesson.slug,
            step=recording.step_index,
            locale=recording.locale,
            sha256=recording.audio_sha256,
            actor=actor,
        )
    except NotFound:
        raise Conflict(
            N_(
                "Lesson '{slug}' no longer has step {step}.",
                slug=lesson.slug,
                step=recording.step_index + 1,
            )
        ) from None
    published_lesson = await lessons.publish_lesson(session, slug=lesson.slug, actor=actor)
    recording.published_version = published_lesson.published_version
    recording.status = RecordingStatus.APPROVED
    return await _reviewed(session, actor, recording, cleaned)


async def reject(
    session: AsyncSession, *, actor: Actor, recording_id: int, comment: str | None = None
) -> RecordingInfo:
    """Turn the recording down (its bytes are deleted) and tell the recorder why."""
    actor.check_role()
    recording = await _pending(session, recording_id)
    cleaned = _clean_comment(comment)
    recording.status = RecordingStatus.REJECTED
    await _drop_audio(session, [recording])
    return await _reviewed(session, actor, recording, cleaned)


async def _reviewed(
    session: AsyncSession, actor: Actor, recording: StepRecording, comment: str | None
) -> RecordingInfo:
    recording.comment = comment
    recording.reviewed_at = utcnow()
    recording.reviewed_by = actor.name
    await session.flush()
    await record_change(
        session,
        actor=actor,
        action=recording.status.value,
        entity="recording",
        entity_id=str(recording.id),
        before={"status": RecordingStatus.PENDING.value},
        after={"status": recording.status.value, "comment": comment},
    )
    if recording.recorder_id is not None:
        notice = await broadcasts.create_for_learners(
            session,
            kind=BroadcastKind.RECORDING_REVIEW,
            user_ids=[recording.recorder_id],
            actor=actor,
        )
        recording.review_broadcast_id = notice.id
        await session.flush()
    return (await _infos(session, [recording]))[0]


@dataclass(frozen=True)
class ReviewNotice:
    """What the recorder is told of a review, in their languages."""

    approved: bool
    lesson_title: str
    step: int
    locale: str
    comment: str | None


async def review_notice(
    session: AsyncSession, *, broadcast_id: int, chain: Sequence[str]
) -> ReviewNotice | None:
    """The review a ``recording_review`` delivery tells of (None: the recording is gone)."""
    recording = await session.scalar(
        select(StepRecording).where(StepRecording.review_broadcast_id == broadcast_id)
    )
    if recording is None:
        return None
    title = (
        await published.rendered(
            session,
            await _version_ref(session, recording.lesson_version_id),
            chain,
        )
    ).title
    return ReviewNotice(
        approved=recording.status is RecordingStatus.APPROVED,
        lesson_title=title,
        step=recording.step_index + 1,
        locale=recording.locale,
        comment=recording.comment,
    )


async def _version_ref(session: AsyncSession, version_id: int) -> published.VersionRef:
    ref = await published.version_ref(session, version_id)
    assert ref is not None  # recordings keep their version (no cascade)
    return ref


async def _infos(
    session: AsyncSession, rows: Sequence[StepRecording], locale: str = SOURCE_LOCALE
) -> list[RecordingInfo]:
    if not rows:
        return []
    lesson_rows = await session.execute(
        select(LessonVersion.id, Lesson.slug, LessonVersion.number, LessonVersion.document)
        .join(Lesson, Lesson.id == LessonVersion.lesson_id)
        .where(LessonVersion.id.in_({row.lesson_version_id for row in rows}))
    )
    chain = locale_chain(locale)
    versions = {
        version_id: (slug, number, pick_text(document.get("title") or {}, chain) or slug)
        for version_id, slug, number, document in lesson_rows
    }
    return [
        RecordingInfo(
            id=row.id,
            lesson=versions[row.lesson_version_id][0],
            lesson_title=versions[row.lesson_version_id][2],
            step=row.step_index + 1,
            locale=row.locale,
            dialect=row.dialect,
            status=row.status,
            comment=row.comment,
            credit=row.credit,
            duration=row.duration,
            created_at=row.created_at,
            reviewed_at=row.reviewed_at,
            reviewed_by=row.reviewed_by,
            published_version=row.published_version,
            lesson_version=versions[row.lesson_version_id][1],
        )
        for row in rows
    ]


async def export_of(session: AsyncSession, *, learner: User) -> list[dict[str, Any]]:
    """The learner's recordings for /mydata (their voice notes are in their own chat)."""
    return [
        {
            "id": info.id,
            "lesson": info.lesson,
            "lesson_version": info.lesson_version,
            "step": info.step,
            "language": info.locale,
            "dialect": info.dialect,
            "status": info.status.value,
            "comment": info.comment,
            "credited_as": info.credit,
            "seconds": info.duration,
            "recorded_at": info.created_at.isoformat(),
            "published_in_version": info.published_version,
        }
        for info in await own_recordings(session, learner=learner)
    ]


async def erase_of(session: AsyncSession, *, learner: User) -> None:
    """/delete: pending recordings are withdrawn and every unpublished one's bytes deleted; the
    published ones stay in their lessons, no longer credited to anyone."""
    rows = list(
        await session.scalars(select(StepRecording).where(StepRecording.recorder_id == learner.id))
    )
    for row in rows:
        if row.status is RecordingStatus.PENDING:
            row.status = RecordingStatus.WITHDRAWN
    await _drop_audio(session, [row for row in rows if row.status is not RecordingStatus.APPROVED])
    await session.execute(
        update(StepRecording)
        .where(StepRecording.recorder_id == learner.id)
        .values(credit=None, recorder_id=None)
    )
