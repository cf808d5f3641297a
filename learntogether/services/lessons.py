"""Lessons and their versions: drafts that can change, published versions that never do.

Learners start the newest published version and finish the one they started; every version
stays readable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import RenderedLesson, render_lesson
from learntogether.content.schema import LessonDocument, TrackDocument, dump_document
from learntogether.content.translations import (
    AudioCoverage,
    TranslationStatus,
    audio_coverage,
    complete_locales,
    recorded_locales,
    refresh_recordings,
    refresh_stamps,
    stale_locales,
    text_coverage,
    translation_status,
)
from learntogether.content.validate import json_path, validate_curriculum, validate_lesson
from learntogether.db.base import utcnow
from learntogether.db.models import Lesson, LessonStatus, LessonVersion, Track, VersionStatus
from learntogether.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES, learner_locales
from learntogether.services import media
from learntogether.services.actors import Actor
from learntogether.services.audit import record_change
from learntogether.services.errors import N_, Conflict, FieldProblem, InvalidInput, NotFound
from learntogether.services.tracks import Outcome, find_track


def content_hash(document: LessonDocument) -> str:
    """The same for equal documents, whatever their key order or formatting."""
    canonical = json.dumps(
        dump_document(document), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class VersionInfo:
    number: int
    status: VersionStatus
    content_hash: str
    created_at: datetime
    published_at: datetime | None
    created_by: str | None

    @classmethod
    def of(cls, version: LessonVersion) -> VersionInfo:
        return cls(
            number=version.number,
            status=version.status,
            content_hash=version.content_hash,
            created_at=version.created_at,
            published_at=version.published_at,
            created_by=version.created_by,
        )


@dataclass(frozen=True)
class LessonSummary:
    slug: str
    track: str | None
    position: int
    status: LessonStatus
    title: dict[str, str]
    audience: list[str]
    locales: list[str]
    """Complete and current: a stale translation is not listed here but under ``stale``."""
    partial: list[str]
    stale: list[str]
    """Translated from an English text that has changed since (``content.translations``)."""
    audio: dict[str, AudioCoverage]
    """Per language with any recording: how many steps are recorded, and how many of those
    recordings are stale (their step's English changed since)."""
    minutes: int
    latest_version: int
    published_version: int | None
    updated_at: datetime

    @property
    def stale_recordings(self) -> list[str]:
        """The languages with a recording made from an English text that has changed since."""
        return [code for code, coverage in self.audio.items() if coverage.stale]


@dataclass(frozen=True)
class LessonDetail(LessonSummary):
    document: dict[str, Any]
    """The newest version's document (a draft when one is pending)."""


@dataclass(frozen=True)
class _LessonRow:
    lesson: Lesson
    track: str | None
    latest: LessonVersion
    published: int | None


async def _rows(session: AsyncSession, *, slug: str | None = None) -> list[_LessonRow]:
    """Lessons with their newest version and newest published version number."""
    latest = select(
        LessonVersion.lesson_id, func.max(LessonVersion.number).label("number")
    ).group_by(LessonVersion.lesson_id)
    published = (
        select(LessonVersion.lesson_id, func.max(LessonVersion.number).label("number"))
        .where(LessonVersion.status == VersionStatus.PUBLISHED)
        .group_by(LessonVersion.lesson_id)
    )
    latest_sq, published_sq = latest.subquery(), published.subquery()
    query = (
        select(Lesson, Track.slug, LessonVersion, published_sq.c.number)
        .outerjoin(Track, Lesson.track_id == Track.id)
        .join(latest_sq, latest_sq.c.lesson_id == Lesson.id)
        .join(
            LessonVersion,
            (LessonVersion.lesson_id == Lesson.id) & (LessonVersion.number == latest_sq.c.number),
        )
        .outerjoin(published_sq, published_sq.c.lesson_id == Lesson.id)
        .order_by(Track.position.nulls_last(), Track.slug, Lesson.position, Lesson.slug)
    )
    if slug is not None:
        query = query.where(Lesson.slug == slug)
    result = await session.execute(query)
    return [_LessonRow(lesson, track, version, number) for lesson, track, version, number in result]


def _summary(row: _LessonRow) -> dict[str, Any]:
    document = row.latest.document
    parsed = LessonDocument.model_validate(document)
    return {
        "slug": row.lesson.slug,
        "track": row.track,
        "position": row.lesson.position,
        "status": row.lesson.status,
        "title": document.get("title", {}),
        "audience": document.get("audience", []),
        "locales": complete_locales(parsed),
        "partial": document.get("partial", []),
        "stale": stale_locales(parsed),
        "audio": {code: audio_coverage(parsed, code) for code in recorded_locales(parsed)},
        "minutes": document.get("minutes", 0),
        "latest_version": row.latest.number,
        "published_version": row.published,
        "updated_at": row.lesson.updated_at,
    }


async def list_lessons(
    session: AsyncSession,
    *,
    limit: int,
    offset: int,
    track: str | None = None,
    role: str | None = None,
    locale: str | None = None,
    status: LessonStatus | None = None,
) -> tuple[list[LessonSummary], int]:
    """Lessons in curriculum order, filtered; the curriculum is small, so filters run here."""
    rows = [
        _summary(row)
        for row in await _rows(session)
        if (track is None or row.track == track) and (status is None or row.lesson.status is status)
    ]
    rows = [
        row
        for row in rows
        if (role is None or role in row["audience"])
        and (locale is None or locale in row["locales"])
    ]
    return [LessonSummary(**row) for row in rows[offset : offset + limit]], len(rows)


async def _row(session: AsyncSession, slug: str) -> _LessonRow:
    rows = await _rows(session, slug=slug)
    if not rows:
        raise NotFound(f"No lesson '{slug}'.")
    return rows[0]


async def get_lesson(session: AsyncSession, slug: str) -> LessonDetail:
    row = await _row(session, slug)
    return LessonDetail(**_summary(row), document=row.latest.document)


async def list_versions(session: AsyncSession, slug: str) -> list[VersionInfo]:
    row = await _row(session, slug)
    versions = await session.scalars(
        select(LessonVersion)
        .where(LessonVersion.lesson_id == row.lesson.id)
        .order_by(LessonVersion.number.desc())
    )
    return [VersionInfo.of(version) for version in versions]


async def _version(session: AsyncSession, slug: str, number: int | None) -> LessonVersion:
    row = await _row(session, slug)
    if number is None:
        return row.latest
    version = await session.scalar(
        select(LessonVersion).where(
            LessonVersion.lesson_id == row.lesson.id, LessonVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"Lesson '{slug}' has no version {number} (newest: {row.latest.number}).")
    return version


async def get_version(
    session: AsyncSession, slug: str, number: int
) -> tuple[VersionInfo, dict[str, Any]]:
    """One version's document, however old."""
    version = await _version(session, slug, number)
    return VersionInfo.of(version), version.document


async def preview_lesson(
    session: AsyncSession,
    *,
    slug: str,
    locale: str,
    fallback_locale: str | None = None,
    default_locale: str = SOURCE_LOCALE,
    version: int | None = None,
) -> tuple[VersionInfo, RenderedLesson]:
    """What a learner with ``locale`` in a cohort of ``fallback_locale`` sees, where the default
    language is ``default_locale`` (the newest version unless one is named)."""
    found = await _version(session, slug, version)
    document = LessonDocument.model_validate(found.document)
    locales = learner_locales(locale, fallback_locale, default=default_locale)
    return VersionInfo.of(found), render_lesson(document, locales.content)


@dataclass(frozen=True)
class TranslationCell:
    locale: str
    status: TranslationStatus
    texts: int
    """How many of the lesson's texts the language has."""
    total: int
    audio: AudioCoverage
    """How many of its steps are recorded in the language (and how many of those are stale)."""


@dataclass(frozen=True)
class TranslationRow:
    slug: str
    track: str | None
    status: LessonStatus
    title: dict[str, str]
    cells: list[TranslationCell]


async def translation_matrix(
    session: AsyncSession, *, locales: Sequence[str] = SUPPORTED_LOCALES
) -> list[TranslationRow]:
    """Every lesson (its newest version) against every language: complete, partial, stale or
    missing (``content.translations.translation_status``), in curriculum order."""
    rows = []
    for row in await _rows(session):
        document = LessonDocument.model_validate(row.latest.document)
        cells = [
            TranslationCell(
                code,
                translation_status(document, code),
                *text_coverage(document, code),
                audio=audio_coverage(document, code),
            )
            for code in locales
        ]
        rows.append(
            TranslationRow(
                row.lesson.slug,
                row.track,
                row.lesson.status,
                row.latest.document.get("title", {}),
                cells,
            )
        )
    return rows


async def _check_recordings(session: AsyncSession, document: LessonDocument) -> None:
    """Every recording the lesson names is audio kept here (uploaded or imported before)."""
    named = {
        (index, code): recording.sha256
        for index, step in enumerate(document.steps)
        for code, recording in step.audio.items()
    }
    unknown = await media.unknown_audio(session, [sha for sha in named.values() if sha])
    problems = [
        FieldProblem(
            json_path(("steps", index, "audio", code)),
            N_(
                "no audio with sha256 {sha256}: upload the recording first "
                "(PUT /api/v1/lessons/{slug}/steps/{index}/audio/{code})",
                sha256=sha256,
                slug=document.slug,
                index=index,
                code=code,
            )
            if sha256
            else N_("give the sha256 of an uploaded recording (files are read by lesson import)"),
        )
        for (index, code), sha256 in named.items()
        if sha256 is None or sha256 in unknown
    ]
    if problems:
        raise InvalidInput(f"The lesson names {len(problems)} unknown recording(s).", problems)


def _problems(problems: Sequence[Any]) -> list[FieldProblem]:
    return [FieldProblem(json_path(problem.path), problem.message) for problem in problems]


async def _check_in_track(session: AsyncSession, document: LessonDocument, track: Track) -> None:
    """The lesson's own rules, and the rules it shares with the other lessons of its track."""
    problems = _problems(validate_lesson(document))
    siblings = [
        LessonDocument.model_validate(row.latest.document)
        for row in await _rows(session)
        if row.track == track.slug and row.lesson.slug != document.slug
    ]
    track_document = TrackDocument.model_validate(track.document)
    for found in validate_curriculum([track_document], [*siblings, document]):
        if found.kind == "track" or found.slug == document.slug:
            problems.append(FieldProblem(json_path(found.problem.path), found.problem.message))
    if problems:
        raise InvalidInput(f"The lesson has {len(problems)} problem(s).", problems)


async def _next_position(session: AsyncSession, track: Track) -> int:
    highest = await session.scalar(
        select(func.max(Lesson.position)).where(Lesson.track_id == track.id)
    )
    return 0 if highest is None else highest + 1


async def save_draft(
    session: AsyncSession, *, document: LessonDocument, actor: Actor
) -> tuple[LessonDetail, bool]:
    """The API's PUT: a new draft version, or the pending draft changed; unchanged content adds nothing.

    Returns the lesson and whether it was created.
    """
    if document.track is None:
        raise InvalidInput(
            "A lesson belongs to a track.", [FieldProblem("$.track", N_("name the lesson's track"))]
        )
    try:
        track = await find_track(session, document.track)
    except NotFound:
        raise InvalidInput(
            f"No track '{document.track}'.",
            [FieldProblem("$.track", N_("unknown track '{track}'", track=document.track))],
        ) from None
    lesson = await session.scalar(select(Lesson).where(Lesson.slug == document.slug))
    if document.position is None:
        position = lesson.position if lesson is not None else await _next_position(session, track)
        document = document.model_copy(update={"position": position})
    previous = None
    if lesson is not None:
        previous = LessonDocument.model_validate((await _row(session, lesson.slug)).latest.document)
    document = refresh_recordings(refresh_stamps(document, previous), previous)
    await _check_in_track(session, document, track)
    await _check_recordings(session, document)
    created = lesson is None
    if lesson is None:
        lesson = Lesson(slug=document.slug, track_id=track.id, position=document.position or 0)
        session.add(lesson)
        await session.flush()
        latest = None
    else:
        latest = (await _row(session, lesson.slug)).latest
    digest = content_hash(document)
    if latest is not None and latest.content_hash == digest:
        return await get_lesson(session, document.slug), False
    before: int | None
    if latest is not None and latest.status is VersionStatus.DRAFT:
        before = latest.number
        latest.document, latest.content_hash, latest.created_by = (
            dump_document(document),
            digest,
            actor.name,
        )
        action = "update_draft"
    else:
        before = latest.number if latest is not None else None
        session.add(_new_version(lesson, latest, document, digest, actor, VersionStatus.DRAFT))
        action = "create" if created else "new_draft"
    lesson.updated_at = utcnow()
    await session.flush()
    detail = await get_lesson(session, document.slug)
    await _audit(session, actor, action, lesson.slug, before, detail.latest_version)
    return detail, created


def _new_version(
    lesson: Lesson,
    latest: LessonVersion | None,
    document: LessonDocument,
    digest: str,
    actor: Actor,
    status: VersionStatus,
) -> LessonVersion:
    return LessonVersion(
        lesson_id=lesson.id,
        number=(latest.number if latest is not None else 0) + 1,
        document=dump_document(document),
        content_hash=digest,
        status=status,
        created_by=actor.name,
        published_at=utcnow() if status is VersionStatus.PUBLISHED else None,
    )


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    slug: str,
    before: int | None,
    after: int | None,
) -> None:
    await record_change(
        session,
        actor=actor,
        action=action,
        entity="lesson",
        entity_id=slug,
        before={"version": before} if before is not None else None,
        after={"version": after} if after is not None else None,
    )


def _take_place(lesson: Lesson, document: dict[str, Any], track: Track) -> None:
    """A published version decides where the lesson stands in the curriculum."""
    lesson.track_id = track.id
    lesson.position = int(document.get("position") or 0)
    lesson.status = LessonStatus.PUBLISHED
    lesson.archived_at = None


async def publish_lesson(session: AsyncSession, *, slug: str, actor: Actor) -> LessonDetail:
    """Freeze the pending draft, checked again: from now on new learners start this version."""
    row = await _row(session, slug)
    if row.latest.status is not VersionStatus.DRAFT:
        raise Conflict(
            N_(
                "Lesson '{slug}' has no draft to publish (version {version} is published).",
                slug=slug,
                version=row.latest.number,
            )
        )
    track = await find_track(session, str(row.latest.document["track"]))
    # A draft was checked when saved; the rules or its track's other lessons may have changed since.
    await _check_in_track(session, LessonDocument.model_validate(row.latest.document), track)
    row.latest.status = VersionStatus.PUBLISHED
    row.latest.published_at = utcnow()
    _take_place(row.lesson, row.latest.document, track)
    await session.flush()
    await _audit(session, actor, "publish", slug, row.published, row.latest.number)
    return await get_lesson(session, slug)


async def archive_lesson(session: AsyncSession, *, slug: str, actor: Actor) -> LessonDetail:
    """No longer offered to new learners; progress and reports keep it. Publishing brings it back."""
    row = await _row(session, slug)
    if row.lesson.status is LessonStatus.ARCHIVED:
        raise Conflict(N_("Lesson '{slug}' is already archived.", slug=slug))
    row.lesson.status = LessonStatus.ARCHIVED
    row.lesson.archived_at = utcnow()
    await session.flush()
    await _audit(session, actor, "archive", slug, row.latest.number, row.latest.number)
    return await get_lesson(session, slug)


async def store_published(
    session: AsyncSession, *, document: LessonDocument, track: Track, actor: Actor
) -> Outcome:
    """Import one reviewed lesson file: a new published version unless nothing changed."""
    lesson = await session.scalar(select(Lesson).where(Lesson.slug == document.slug))
    latest = None if lesson is None else (await _row(session, document.slug)).latest
    previous = LessonDocument.model_validate(latest.document) if latest is not None else None
    document = refresh_recordings(document, previous)
    await _check_recordings(session, document)
    digest = content_hash(document)
    if latest is not None and latest.content_hash == digest:
        return "unchanged"
    if lesson is None:
        lesson = Lesson(slug=document.slug, track_id=track.id, position=document.position or 0)
        session.add(lesson)
        await session.flush()
    version = _new_version(lesson, latest, document, digest, actor, VersionStatus.PUBLISHED)
    session.add(version)
    _take_place(lesson, version.document, track)
    lesson.updated_at = utcnow()
    await session.flush()
    await _audit(
        session, actor, "import", document.slug, latest.number if latest else None, version.number
    )
    return "added" if latest is None else "changed"


async def newest_documents(session: AsyncSession) -> list[LessonDocument]:
    """Every lesson's newest version, in curriculum order (for export)."""
    return [LessonDocument.model_validate(row.latest.document) for row in await _rows(session)]


async def count_lessons(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Lesson)) or 0


async def lesson_id_of(session: AsyncSession, slug: str, *, field: str = "query.lesson") -> int:
    """The id of the lesson a filter names by slug; InvalidInput naming ``field`` when none."""
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == slug))
    if lesson_id is None:
        raise InvalidInput(
            N_("No lesson with slug {slug!r}.", slug=slug),
            [FieldProblem(field, N_("unknown lesson {slug!r}", slug=slug))],
        )
    return lesson_id
