"""Importing and exporting the curriculum as a whole (lesson files ↔ database)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.files import Curriculum
from learntogether.content.schema import LessonDocument, TrackDocument
from learntogether.content.validate import json_path, validate_curriculum, validate_lesson
from learntogether.db.models import Track
from learntogether.services import lessons, media, tracks
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
    audio: Mapping[str, bytes] | None = None,
) -> ImportReport:
    """Store tracks and lessons; changed lessons get a new published version, unchanged ones nothing.

    ``audio`` holds the recordings the lessons name, by SHA-256 (``Curriculum.audio``); each is
    checked and kept once.

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
    for data in (audio or {}).values():
        await media.store_audio(session, data=data, limits=media.STEP_RECORDING)
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


async def import_files(
    session: AsyncSession, curriculum: Curriculum, *, actor: Actor
) -> ImportReport:
    """Import what ``content.files.load_curriculum`` read (without problems), recordings too."""
    return await import_curriculum(
        session,
        track_documents=[loaded.document for loaded in curriculum.tracks],
        lesson_documents=[loaded.document for loaded in curriculum.lessons],
        actor=actor,
        audio=curriculum.audio,
    )


async def export_curriculum(
    session: AsyncSession,
) -> tuple[list[TrackDocument], list[LessonDocument], dict[str, bytes]]:
    """Every track, every lesson's newest version and the recordings they name (by SHA-256),
    ready to be written as files."""
    track_rows = await session.scalars(select(Track).order_by(Track.position, Track.slug))
    documents = await lessons.newest_documents(session)
    named = {
        recording.sha256
        for document in documents
        for step in document.steps
        for recording in step.audio.values()
        if recording.sha256 is not None
    }
    audio = {sha256: await media.audio_bytes(session, sha256) for sha256 in sorted(named)}
    return [TrackDocument.model_validate(track.document) for track in track_rows], documents, audio
