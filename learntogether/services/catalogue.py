"""What a learner is offered: tracks for their role first, each lesson with the learner's progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.db.models import (
    Lesson,
    LessonProgress,
    LessonStatus,
    ProgressStatus,
    Track,
    User,
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


# Built once: every catalogue screen runs them, and SQLAlchemy keys its compiled statements by
# the statement.
_OFFERED = (
    published.newest_published_query()
    .add_columns(Lesson.slug, Track.updated_at)
    .join(Track, Lesson.track_id == Track.id)
    .where(Lesson.status == LessonStatus.PUBLISHED, Track.archived_at.is_(None))
    .order_by(Track.position, Track.slug, Lesson.position)
)
_PROGRESS = select(LessonProgress.lesson_id, LessonProgress.status).where(
    LessonProgress.user_id == bindparam("user_id")
)


async def catalogue(
    session: AsyncSession, *, learner: User, chain: Sequence[str]
) -> list[TrackEntry]:
    """Every open track with its published lessons; the learner's role's tracks come first.

    Two light queries (the lessons with their newest published versions, the learner's
    progress): documents and track texts are the process's (``published``), read on a miss.
    """
    rows = list(await session.execute(_OFFERED))
    versions = [published.VersionRef(*row[:4]) for row in rows]
    documents = await published.documents(session, versions)
    texts = await published.track_texts(session, {row.track_id: row.updated_at for row in rows})
    progress = {
        lesson_id: status
        for lesson_id, status in await session.execute(_PROGRESS, {"user_id": learner.id})
    }
    tracks: dict[int, TrackEntry] = {}
    for row, version in zip(rows, versions, strict=True):
        track_id = row.track_id
        track = texts[track_id]
        rule = track.pass_rule or {}
        entry = tracks.setdefault(
            track_id,
            TrackEntry(
                track_id=track_id,
                slug=track.slug,
                title=pick_text(track.title, chain),
                for_role=learner.role is not None and learner.role.value in track.audience,
                lessons=[],
                description=pick_text(track.description, chain) if track.description else None,
                certificate_lessons=rule.get("lessons"),
                certificate_average=rule.get("min_average_score"),
            ),
        )
        status = progress.get(version.lesson_id)
        document = documents[version.id]
        entry.lessons.append(
            LessonEntry(
                lesson_id=version.lesson_id,
                slug=row.slug,
                title=pick_text(document.title, chain),
                minutes=document.minutes,
                status=DONE
                if status is ProgressStatus.COMPLETED
                else IN_PROGRESS
                if status
                else NEW,
            )
        )
    return sorted(tracks.values(), key=lambda track: not track.for_role)


async def suggested_lesson(
    session: AsyncSession, *, learner: User, chain: Sequence[str]
) -> LessonEntry | None:
    """The learner's next lesson: the first unfinished one, in the role's tracks before the others.

    The one answer to "what next?": every end screen's Continue button, reminders and nudges.
    """
    for track in await catalogue(session, learner=learner, chain=chain):
        for lesson in track.lessons:
            if lesson.status != DONE:
                return lesson
    return None
