"""What a learner is offered: tracks for their role first, each lesson with the learner's progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.db import tables
from learntogether.db.models import (
    LessonStatus,
    ProgressStatus,
    User,
    VersionStatus,
)
from learntogether.services import published

NEW, IN_PROGRESS, DONE = "new", "in_progress", "done"


@dataclass(frozen=True)
class LessonEntry:
    lesson_id: int
    slug: str
    title: str
    minutes: int
    status: str
    """NEW, IN_PROGRESS or DONE."""


@dataclass(frozen=True)
class TrackEntry:
    track_id: int
    slug: str
    title: str
    for_role: bool
    lessons: list[LessonEntry]
    description: str | None = None
    certificate_lessons: int | None = None
    """Lessons to pass for the track's certificate (its pass rule); None: all of them."""
    certificate_average: int | None = None
    """The average score the pass rule asks for, if any (percent)."""

    @property
    def done(self) -> int:
        return sum(lesson.status == DONE for lesson in self.lessons)

    @property
    def status(self) -> str:
        if self.lessons and self.done == len(self.lessons):
            return DONE
        if any(lesson.status != NEW for lesson in self.lessons):
            return IN_PROGRESS
        return NEW


# Built once: every catalogue and track screen runs it, and SQLAlchemy keys its compiled
# statements by the statement. One query on the tables (no ORM compiling): each offered lesson's
# newest published version (``published.VersionRef``'s columns, then its slug and its track's
# ``updated_at``: what ``_offered`` keeps the offer by), and last the learner's progress in it.
_newest = (
    select(tables.versions.c.lesson_id, func.max(tables.versions.c.number).label("number"))
    .where(tables.versions.c.status == VersionStatus.PUBLISHED)
    .group_by(tables.versions.c.lesson_id)
    .subquery()
)
_OFFERED = (
    select(
        tables.versions.c.id,
        tables.versions.c.lesson_id,
        tables.versions.c.content_hash,
        tables.lessons.c.track_id,
        tables.lessons.c.slug,
        tables.tracks.c.updated_at,
        tables.progress.c.status,
    )
    .select_from(
        tables.versions.join(tables.lessons, tables.lessons.c.id == tables.versions.c.lesson_id)
        .join(
            _newest,
            (_newest.c.lesson_id == tables.versions.c.lesson_id)
            & (_newest.c.number == tables.versions.c.number),
        )
        .join(tables.tracks, tables.lessons.c.track_id == tables.tracks.c.id)
        .outerjoin(
            tables.progress,
            (tables.progress.c.lesson_id == tables.lessons.c.id)
            & (tables.progress.c.user_id == bindparam("user_id")),
        )
    )
    .where(tables.lessons.c.status == LessonStatus.PUBLISHED, tables.tracks.c.archived_at.is_(None))
    .order_by(tables.tracks.c.position, tables.tracks.c.slug, tables.lessons.c.position)
)
_OFFER_COLUMNS = 6
"""``_OFFERED``'s columns that say what is offered (the rest is the learner's)."""


@dataclass(frozen=True)
class _OfferedTrack:
    """A track as the catalogue offers it in one chain of languages, before the learner's part
    (their role, their progress) is added."""

    track_id: int
    slug: str
    title: str
    description: str | None
    audience: tuple[str, ...]
    certificate_lessons: int | None
    certificate_average: int | None
    lessons: tuple[tuple[int, str, str, int], ...]
    """Each lesson's id, slug, title and minutes."""


OFFERINGS_KEPT = 64
# The offer as it was read (each lesson's newest published version and its track's
# ``updated_at``) and the chain of languages name what is offered: a publish or an edit is a key
# not seen yet. The same for every learner who reads those languages.
_offerings: published.Kept[tuple[tuple[Any, ...], tuple[str, ...]], tuple[_OfferedTrack, ...]] = (
    published.Kept(OFFERINGS_KEPT)
)


async def _offered(
    session: AsyncSession, rows: Sequence[Any], chain: Sequence[str]
) -> tuple[_OfferedTrack, ...]:
    key = (tuple(row[:_OFFER_COLUMNS] for row in rows), tuple(chain))
    offered = _offerings.get(key)
    if offered is not None:
        return offered
    versions = [published.VersionRef(*row[:4]) for row in rows]
    documents = await published.documents(session, versions)
    texts = await published.track_texts(session, {row.track_id: row.updated_at for row in rows})
    tracks: dict[int, _OfferedTrack] = {}
    for row, version in zip(rows, versions, strict=True):
        track = texts[row.track_id]
        rule = track.pass_rule or {}
        entry = tracks.setdefault(
            row.track_id,
            _OfferedTrack(
                track_id=row.track_id,
                slug=track.slug,
                title=pick_text(track.title, chain),
                description=pick_text(track.description, chain) if track.description else None,
                audience=tuple(track.audience),
                certificate_lessons=rule.get("lessons"),
                certificate_average=rule.get("min_average_score"),
                lessons=(),
            ),
        )
        document = documents[version.id]
        lesson = (version.lesson_id, row.slug, pick_text(document.title, chain), document.minutes)
        tracks[row.track_id] = replace(entry, lessons=(*entry.lessons, lesson))
    offered = tuple(tracks.values())
    _offerings.put(key, offered)
    return offered


async def catalogue(
    session: AsyncSession, *, learner: User, chain: Sequence[str]
) -> list[TrackEntry]:
    """Every open track with its published lessons; the learner's role's tracks come first.

    One light query (the lessons with their newest published versions and the learner's
    progress): what is offered is the process's (``_offered``), read and built on a miss.
    """
    offered, progress = await _offer_and_progress(session, learner, chain)
    tracks = [_entry(track, learner, progress) for track in offered]
    return sorted(tracks, key=lambda track: not track.for_role)


async def track(
    session: AsyncSession, *, learner: User, track_id: int, chain: Sequence[str]
) -> TrackEntry | None:
    """One track of the ``catalogue`` (None: not offered), the others left unbuilt."""
    offered, progress = await _offer_and_progress(session, learner, chain)
    found = next((entry for entry in offered if entry.track_id == track_id), None)
    return _entry(found, learner, progress) if found is not None else None


async def _offer_and_progress(
    session: AsyncSession, learner: User, chain: Sequence[str]
) -> tuple[tuple[_OfferedTrack, ...], dict[int, ProgressStatus | None]]:
    rows = list(await session.execute(_OFFERED, {"user_id": learner.id}))
    progress = {row.lesson_id: row.status for row in rows}
    return await _offered(session, rows, chain), progress


def _entry(
    track: _OfferedTrack, learner: User, progress: dict[int, ProgressStatus | None]
) -> TrackEntry:
    """An offered track with the learner's part added: their role's, their progress."""
    role = learner.role.value if learner.role is not None else None
    return TrackEntry(
        track_id=track.track_id,
        slug=track.slug,
        title=track.title,
        for_role=role is not None and role in track.audience,
        lessons=[
            LessonEntry(
                lesson_id=lesson_id,
                slug=slug,
                title=title,
                minutes=minutes,
                status=_status(progress.get(lesson_id)),
            )
            for lesson_id, slug, title, minutes in track.lessons
        ],
        description=track.description,
        certificate_lessons=track.certificate_lessons,
        certificate_average=track.certificate_average,
    )


def _status(progress: ProgressStatus | None) -> str:
    if progress is ProgressStatus.COMPLETED:
        return DONE
    return IN_PROGRESS if progress else NEW


async def suggested_lesson(
    session: AsyncSession, *, learner: User, chain: Sequence[str]
) -> LessonEntry | None:
    """The learner's next lesson: the first unfinished one, in the role's tracks before the others.

    The one answer to "what next?": every end screen's Continue button, reminders and nudges.
    """
    offered, progress = await _offer_and_progress(session, learner, chain)
    role = learner.role.value if learner.role is not None else None
    # The catalogue's order, without building its entries: the role's tracks first.
    for track in sorted(offered, key=lambda track: role is None or role not in track.audience):
        for lesson_id, slug, title, minutes in track.lessons:
            status = _status(progress.get(lesson_id))
            if status != DONE:
                return LessonEntry(lesson_id, slug, title, minutes, status)
    return None
