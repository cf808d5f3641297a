"""Importing and exporting the curriculum as a whole (lesson files ↔ database)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.schema import LessonDocument, TrackDocument
from learntogether.content.validate import json_path, validate_curriculum, validate_lesson
from learntogether.db.models import Track
from learntogether.services import lessons, tracks
from learntogether.services.actors import Actor
from learntogether.services.errors import FieldProblem, InvalidInput
from learntogether.services.tracks import Outcome


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome, what: str) -> None:
        {"added": self.added, "changed": self.changed, "unchanged": self.unchanged}[outcome].append(
            what
        )


async def import_curriculum(
    session: AsyncSession,
    *,
    track_documents: Sequence[TrackDocument],
    lesson_documents: Sequence[LessonDocument],
    actor: Actor,
) -> ImportReport:
    """Store tracks and lessons; changed lessons get a new published version, unchanged ones nothing.

    Everything is checked first and nothing is written when anything is wrong; the caller's
    transaction makes the import all or nothing.
    """
    problems = [
        FieldProblem(f"{document.slug}: {json_path(problem.path)}", problem.message)
        for document in lesson_documents
        for problem in validate_lesson(document)
    ]
    problems += [
        FieldProblem(f"{found.slug}: {json_path(found.problem.path)}", found.problem.message)
        for found in validate_curriculum(track_documents, lesson_documents)
    ]
    if problems:
        raise InvalidInput(
            f"The curriculum has {len(problems)} problem(s); nothing was imported.", problems
        )
    report = ImportReport()
    stored: dict[str, Track] = {}
    for document in track_documents:
        track, outcome = await tracks.upsert_track(session, document, actor=actor)
        stored[document.slug] = track
        report.add(outcome, f"track {document.slug}")
    for lesson in lesson_documents:
        assert lesson.track is not None
        outcome = await lessons.store_published(
            session, document=lesson, track=stored[lesson.track], actor=actor
        )
        report.add(outcome, f"lesson {lesson.slug}")
    return report


async def export_curriculum(
    session: AsyncSession,
) -> tuple[list[TrackDocument], list[LessonDocument]]:
    """Every track and every lesson's newest version, ready to be written as files."""
    track_rows = await session.scalars(select(Track).order_by(Track.position, Track.slug))
    return [
        TrackDocument.model_validate(track.document) for track in track_rows
    ], await lessons.newest_documents(session)
