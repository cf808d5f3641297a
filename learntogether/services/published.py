"""Lesson versions as this process has read them: each document parsed once, then reused.

A press in a lesson needs the version's document, and loading and validating the whole stored
JSON on every press was most of a press's work. A version is known by its id and content hash
(``lesson_versions.content_hash``, the hash of its document): a published version never changes,
and a draft's hash changes with its text, so the pair names one document for good, and a version
published or edited after this process read the curriculum is simply a key it has not seen yet.
Only the light columns are read per press (``VersionRef``); the document is loaded on a miss.
A track's texts are kept the same way, by its id and ``updated_at``.

The memory is bounded (least recently used go first) and shared by every session of the process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from learntogether.content.render import RenderedLesson, render_lesson
from learntogether.content.schema import LessonDocument
from learntogether.db.models import Lesson, LessonVersion, Track, VersionStatus

K = TypeVar("K")
V = TypeVar("V")

DOCUMENTS_KEPT = 1024
RENDERINGS_KEPT = 4096
TRACKS_KEPT = 256


@dataclass(frozen=True)
class VersionRef:
    """A version as a press needs to know it, without its document."""

    id: int
    lesson_id: int
    content_hash: str
    track_id: int | None


@dataclass(frozen=True)
class TrackTexts:
    """A track's texts and rules as the catalogue shows them, kept by id and ``updated_at``."""

    slug: str
    title: dict[str, str]
    description: dict[str, str]
    audience: list[str]
    pass_rule: dict[str, Any] | None


class Kept(Generic[K, V]):
    """A bounded map that forgets the least recently used entry first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


_documents: Kept[tuple[int, str], LessonDocument] = Kept(DOCUMENTS_KEPT)
_renderings: Kept[tuple[int, str, tuple[str, ...]], RenderedLesson] = Kept(RENDERINGS_KEPT)
_tracks: Kept[tuple[int, datetime], TrackTexts] = Kept(TRACKS_KEPT)


def _ref_columns() -> tuple[object, ...]:
    return (LessonVersion.id, LessonVersion.lesson_id, LessonVersion.content_hash, Lesson.track_id)


def with_version_ref(
    statement: Select[*tuple[Any, ...]], version_id: Any, *, outer: bool = False
) -> Select[*tuple[Any, ...]]:
    """``statement`` with the ``VersionRef`` columns of the version ``version_id`` names added
    after its own (``ref_of`` reads them back): a press reads its row and its version at once.
    ``outer``: the rows without such a version too (their ``VersionRef`` columns are null)."""
    version, lesson = aliased(LessonVersion), aliased(Lesson)
    return (
        statement.join(version, version.id == version_id, isouter=outer)
        .join(lesson, lesson.id == version.lesson_id, isouter=outer)
        .add_columns(version.id, version.lesson_id, version.content_hash, lesson.track_id)
    )


def ref_of(row: Sequence[Any]) -> VersionRef:
    """The ``VersionRef`` of a row of a ``with_version_ref`` statement."""
    return VersionRef(*row[-4:])


_VERSION_REF = (
    select(*_ref_columns())  # type: ignore[call-overload]
    .join(Lesson, Lesson.id == LessonVersion.lesson_id)
    .where(LessonVersion.id == bindparam("version_id"))
)


async def version_ref(session: AsyncSession, version_id: int) -> VersionRef | None:
    """The version with this id and its lesson's track, in one light query."""
    row = (await session.execute(_VERSION_REF, {"version_id": version_id})).first()
    return ref_of(row) if row is not None else None


def newest_published_query(*, of_some: bool = False) -> Select[Any]:
    """The ``VersionRef`` columns of each lesson's newest published version, lessons joined;
    ``of_some``: of the lessons whose ids the parameter ``lesson_ids`` gives."""
    newest = (
        select(LessonVersion.lesson_id, func.max(LessonVersion.number).label("number"))
        .where(LessonVersion.status == VersionStatus.PUBLISHED)
        .group_by(LessonVersion.lesson_id)
    )
    if of_some:
        newest = newest.where(LessonVersion.lesson_id.in_(bindparam("lesson_ids", expanding=True)))
    newest_sq = newest.subquery()
    refs: Select[Any] = select(*_ref_columns())  # type: ignore[call-overload]
    return refs.join(Lesson, Lesson.id == LessonVersion.lesson_id).join(
        newest_sq,
        (newest_sq.c.lesson_id == LessonVersion.lesson_id)
        & (newest_sq.c.number == LessonVersion.number),
    )


async def newest_published(
    session: AsyncSession, lesson_ids: Sequence[int] | None = None
) -> dict[int, VersionRef]:
    """The newest published version of each lesson (the one new learners start), by lesson id."""
    if lesson_ids is None:
        rows = await session.execute(_NEWEST_OF_ALL)
    else:
        rows = await session.execute(_NEWEST_OF_SOME, {"lesson_ids": list(lesson_ids)})
    return {row.lesson_id: VersionRef(*row) for row in rows}


# Built once: a press runs them, and SQLAlchemy keys its compiled statements by the statement.
_NEWEST_OF_ALL = newest_published_query()
_NEWEST_OF_SOME = newest_published_query(of_some=True)


async def track_texts(session: AsyncSession, stamps: dict[int, datetime]) -> dict[int, TrackTexts]:
    """The texts of these tracks (by id, with the ``updated_at`` read), those not read before
    in one query: an edited track has a new ``updated_at``, so it is read again."""
    found: dict[int, TrackTexts] = {}
    for track_id, updated_at in stamps.items():
        texts = _tracks.get((track_id, updated_at))
        if texts is not None:
            found[track_id] = texts
    missing = [track_id for track_id in stamps if track_id not in found]
    if missing:
        rows = await session.execute(
            select(
                Track.id,
                Track.updated_at,
                Track.slug,
                Track.title,
                Track.description,
                Track.audience,
                Track.pass_rule,
            ).where(Track.id.in_(missing))
        )
        for track_id, updated_at, slug, title, description, audience, rule in rows:
            texts = TrackTexts(slug, title, description or {}, audience or [], rule)
            _tracks.put((track_id, updated_at), texts)
            found[track_id] = texts
    return found


async def documents(session: AsyncSession, refs: Iterable[VersionRef]) -> dict[int, LessonDocument]:
    """The documents of these versions by version id; those not read before in one query."""
    found: dict[int, LessonDocument] = {}
    missing: dict[int, VersionRef] = {}
    for ref in refs:
        document = _documents.get((ref.id, ref.content_hash))
        if document is None:
            missing[ref.id] = ref
        else:
            found[ref.id] = document
    if missing:
        rows = await session.execute(
            select(LessonVersion.id, LessonVersion.content_hash, LessonVersion.document).where(
                LessonVersion.id.in_(missing)
            )
        )
        for version_id, content_hash, stored in rows:
            document = LessonDocument.model_validate(stored)
            _documents.put((version_id, content_hash), document)
            found[version_id] = document
    return found


async def rendered(session: AsyncSession, ref: VersionRef, chain: Sequence[str]) -> RenderedLesson:
    """The version's lesson in the languages of ``chain`` (``Locales.content``)."""
    key = (ref.id, ref.content_hash, tuple(chain))
    lesson = _renderings.get(key)
    if lesson is None:
        document = (await documents(session, [ref]))[ref.id]
        lesson = render_lesson(document, chain)
        _renderings.put(key, lesson)
    return lesson
