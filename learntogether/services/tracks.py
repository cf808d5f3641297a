"""Tracks: the ordered groups of lessons a certificate is given for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.schema import TrackDocument, dump_document
from learntogether.content.validate import json_path, validate_track
from learntogether.db.models import Lesson, Track
from learntogether.services.actors import Actor
from learntogether.services.audit import record_change
from learntogether.services.errors import FieldProblem, InvalidInput, NotFound

Outcome = Literal["added", "changed", "unchanged"]


@dataclass(frozen=True)
class TrackInfo:
    slug: str
    position: int
    title: dict[str, str]
    audience: list[str]
    lessons: int
    document: dict[str, Any]
    updated_at: datetime


async def _lesson_counts(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(select(Lesson.track_id, func.count()).group_by(Lesson.track_id))
    return {track_id: count for track_id, count in rows if track_id is not None}


def _info(track: Track, lessons: int) -> TrackInfo:
    return TrackInfo(
        slug=track.slug,
        position=track.position,
        title=track.title,
        audience=track.audience,
        lessons=lessons,
        document=track.document,
        updated_at=track.updated_at,
    )


async def list_tracks(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[TrackInfo], int]:
    total = await session.scalar(select(func.count()).select_from(Track)) or 0
    tracks = await session.scalars(
        select(Track).order_by(Track.position, Track.slug).limit(limit).offset(offset)
    )
    counts = await _lesson_counts(session)
    return [_info(track, counts.get(track.id, 0)) for track in tracks], total


async def find_track(session: AsyncSession, slug: str) -> Track:
    track = await session.scalar(select(Track).where(Track.slug == slug))
    if track is None:
        raise NotFound(f"No track '{slug}'.")
    return track


async def get_track(session: AsyncSession, slug: str) -> TrackInfo:
    track = await find_track(session, slug)
    return _info(track, (await _lesson_counts(session)).get(track.id, 0))


def check_track(document: TrackDocument) -> None:
    """Raise InvalidInput with every problem of the track document."""
    problems = validate_track(document)
    if problems:
        raise InvalidInput(
            f"The track has {len(problems)} problem(s).",
            [FieldProblem(json_path(problem.path), problem.message) for problem in problems],
        )


async def upsert_track(
    session: AsyncSession, document: TrackDocument, *, actor: Actor
) -> tuple[Track, Outcome]:
    """Create or update a track from its document; says whether it was added, changed or unchanged."""
    check_track(document)
    data = dump_document(document)
    track = await session.scalar(select(Track).where(Track.slug == document.slug))
    if track is not None and track.document == data:
        return track, "unchanged"
    before = track.document if track is not None else None
    if track is None:
        track = Track(slug=document.slug)
        session.add(track)
    track.position = document.position
    track.title = dict(document.title)
    track.description = dict(document.description)
    track.audience = [role.value for role in document.audience]
    track.pass_rule = document.pass_rule.model_dump(mode="json", exclude_none=True)
    track.document = data
    await session.flush()
    await record_change(
        session,
        actor=actor,
        action="create" if before is None else "update",
        entity="track",
        entity_id=document.slug,
        before=before,
        after=data,
    )
    return track, "added" if before is None else "changed"


async def save_track(
    session: AsyncSession, document: TrackDocument, *, actor: Actor
) -> tuple[TrackInfo, bool]:
    """The API's PUT: create or update a track; returns it and whether it was created."""
    track, outcome = await upsert_track(session, document, actor=actor)
    return _info(track, (await _lesson_counts(session)).get(track.id, 0)), outcome == "added"
