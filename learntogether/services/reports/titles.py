"""What reports name by slug or key, as titles and texts in a reader's language.

Reports carry slugs and question keys (they are what CSV and JSON readers join on); pages show
the titles instead. Lesson titles and question texts come from each lesson's newest published
version (as the reports read them), track titles from the track, each along the reader's
locale chain ending in English.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.content.schema import LessonDocument, Survey
from learntogether.db.models import QuestionKind, Track
from learntogether.i18n import locale_chain
from learntogether.services.reports.query import lessons_of_track, newest_documents


@dataclass(frozen=True)
class CurriculumTitles:
    """Titles by slug, in curriculum order, and which lessons and tracks each report can read."""

    tracks: dict[str, str] = field(default_factory=dict)
    lessons: dict[str, str] = field(default_factory=dict)
    quizzes: list[str] = field(default_factory=list)
    """Lessons with a quiz (item analysis reads them), in curriculum order."""
    surveyed: list[str] = field(default_factory=list)
    """Tracks with both a pre-survey and a post-survey (awareness compares them)."""
    questions: dict[str, dict[str, str]] = field(default_factory=dict)
    """Each lesson's question texts by key."""
    survey_items: dict[str, dict[str, str]] = field(default_factory=dict)
    """Each surveyed track's post-survey statements by key."""


async def curriculum_titles(session: AsyncSession, *, locale: str) -> CurriculumTitles:
    """Every track's and lesson's title and every question's text in ``locale`` (then English)."""
    chain = locale_chain(locale)
    titles = CurriculumTitles()
    for slug, title in await session.execute(
        select(Track.slug, Track.title).order_by(Track.position, Track.slug)
    ):
        titles.tracks[slug] = pick_text(title, chain)
    lessons = (await session.execute(lessons_of_track(None))).all()
    documents = await newest_documents(session, [lesson_id for lesson_id, _, _ in lessons])
    surveys: dict[str, dict[Survey, str]] = {}
    for lesson_id, slug, track_slug in lessons:
        if lesson_id not in documents:
            continue
        document = LessonDocument.model_validate(documents[lesson_id][1])
        titles.lessons[slug] = pick_text(document.title, chain)
        questions = document.questions()
        titles.questions[slug] = {q.key: pick_text(q.text, chain) for q in questions}
        if document.quiz is not None and questions:
            titles.quizzes.append(slug)
        if document.survey is not None:
            surveys.setdefault(track_slug, {})[document.survey] = slug
        if document.survey is Survey.POST:
            titles.survey_items[track_slug] = {
                q.key: pick_text(q.text, chain) for q in questions if q.kind is QuestionKind.LIKERT
            }
    titles.surveyed.extend(
        slug for slug in titles.tracks if len(surveys.get(slug, {})) == len(Survey)
    )
    return titles
