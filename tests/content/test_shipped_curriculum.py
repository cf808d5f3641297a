"""The curriculum in lessons/ is valid, complete in en/bg/es (fr/nl awaiting review), and survives
export and import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.files import load_curriculum, write_curriculum
from learntogether.content.render import render_lesson
from learntogether.db.models import QuestionKind
from learntogether.services.actors import Actor
from learntogether.services.curriculum import export_curriculum, import_curriculum

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
REQUIRED_LOCALES = {"en", "bg", "es"}


def test_shipped_curriculum_validates_with_three_tracks_and_twelve_lessons_or_more() -> None:
    curriculum = load_curriculum([LESSONS])
    assert [str(problem) for problem in curriculum.problems] == []
    assert {track.document.slug for track in curriculum.tracks} >= {
        "mixed-classroom",
        "mediators",
        "parents",
    }
    assert len(curriculum.lessons) >= 12
    for loaded in curriculum.lessons:
        assert set(loaded.document.locales) >= REQUIRED_LOCALES, loaded.file
        assert 3 <= len(loaded.document.steps) <= 6 or loaded.document.survey, loaded.file
        assert loaded.document.quiz is not None, loaded.file


def test_every_question_kind_is_used_and_the_teachers_track_has_both_surveys() -> None:
    lessons = [loaded.document for loaded in load_curriculum([LESSONS]).lessons]
    kinds = {question.kind for lesson in lessons for question in lesson.questions()}
    assert kinds == set(QuestionKind)
    surveys = {
        lesson.survey.value
        for lesson in lessons
        if lesson.track == "mixed-classroom" and lesson.survey
    }
    assert surveys == {"pre", "post"}


async def test_shipped_curriculum_exports_and_imports_back_unchanged(
    session: AsyncSession, tmp_path: Path
) -> None:
    curriculum = load_curriculum([LESSONS])
    tracks = [loaded.document for loaded in curriculum.tracks]
    lessons = [loaded.document for loaded in curriculum.lessons]
    first = await import_curriculum(
        session, track_documents=tracks, lesson_documents=lessons, actor=Actor.system("test")
    )
    assert len(first.added) == len(tracks) + len(lessons)
    write_curriculum(tmp_path, *await export_curriculum(session))
    exported = load_curriculum([tmp_path])
    assert exported.problems == []
    again = await import_curriculum(
        session,
        track_documents=[loaded.document for loaded in exported.tracks],
        lesson_documents=[loaded.document for loaded in exported.lessons],
        actor=Actor.system("test"),
    )
    assert (again.added, again.changed) == ([], [])
    assert len(again.unchanged) == len(tracks) + len(lessons)


@pytest.mark.parametrize("locale", ["fr", "nl"])
def test_every_lesson_reads_whole_in_french_and_dutch_while_they_await_review(locale: str) -> None:
    """Marked partial (not yet reviewed by a native speaker), yet nothing falls back to English."""
    curriculum = load_curriculum([LESSONS])
    for loaded in curriculum.lessons:
        assert locale in loaded.document.partial, loaded.file
        rendered = render_lesson(loaded.document, [locale, "en"])
        assert (rendered.locale, rendered.fallback_locales) == (locale, []), loaded.file
    for track in curriculum.tracks:
        assert locale in track.document.partial, track.file
