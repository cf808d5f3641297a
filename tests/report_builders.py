"""Known participation records for report and goal tests, written straight to the database.

Rows are written as ``db.activity_log.record`` writes them (the learner's snapshot copied in),
but at a moment the test chooses.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.content.schema import LessonDocument, TrackDocument
from learntogether.db import activity_log as activity
from learntogether.db.models import (
    Cohort,
    Lesson,
    LessonStatus,
    LessonVersion,
    Membership,
    Role,
    Track,
    User,
    Verb,
    VersionStatus,
)
from learntogether.services import player, quizzes
from learntogether.services.actors import Actor
from learntogether.services.curriculum import import_curriculum
from learntogether.services.voice import IncomingVoice
from tests.content.samples import TRACK, every_kind_lesson

_telegram_ids = itertools.count(5_000_000)


def at(day: int, hour: int = 12, minute: int = 0, *, month: int = 1) -> datetime:
    """A moment of 2026 in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def add_cohort(
    session: AsyncSession, code: str, *, region: str, municipality: str, country: str = "BG"
) -> Cohort:
    cohort = Cohort(code=code, name=code, country=country, region=region, municipality=municipality)
    session.add(cohort)
    await session.flush()
    return cohort


async def add_learner(
    session: AsyncSession,
    *,
    role: Role = Role.TEACHER,
    locale: str = "bg",
    cohort: Cohort | None = None,
    first_name: str = "Learner",
) -> User:
    """A learner placed where ``cohort`` is (a member of it), or nowhere."""
    learner = User(
        telegram_id=next(_telegram_ids),
        first_name=first_name,
        role=role,
        locale=locale,
        country=cohort.country if cohort else None,
        region=cohort.region if cohort else None,
        municipality=cohort.municipality if cohort else None,
    )
    session.add(learner)
    await session.flush()
    if cohort is not None:
        session.add(Membership(cohort_id=cohort.id, user_id=learner.id))
        await session.flush()
    return learner


async def record(
    session: AsyncSession,
    learner: User,
    verb: Verb,
    when: datetime,
    *,
    cohort: Cohort | None = None,
    lesson: Lesson | None = None,
    track: Track | None = None,
    assisted: bool = False,
    data: dict[str, Any] | None = None,
) -> None:
    """One activity of the learner as the services record it; the lesson's track by default."""
    await activity.record(
        session,
        learner,
        verb,
        occurred_at=when,
        cohort_id=cohort.id if cohort else None,
        track_id=track.id if track else (lesson.track_id if lesson else None),
        lesson_id=lesson.id if lesson else None,
        assisted=assisted,
        data=data,
    )


def lesson_document(slug: str, *, steps: int, quiz: bool) -> dict[str, Any]:
    """A lesson document as stored in a version (what reports read of it)."""
    text = {"en": "Text."}
    document: dict[str, Any] = {
        "slug": slug,
        "title": {"en": slug},
        "audience": ["teacher"],
        "minutes": 5,
        "locales": ["en"],
        "steps": [{"text": text} for _ in range(steps)],
    }
    if quiz:
        document["quiz"] = {
            "pass_score": 50,
            "questions": [
                {
                    "key": "q",
                    "kind": "single",
                    "text": text,
                    "options": [{"text": text, "correct": True}, {"text": text}],
                }
            ],
        }
    return document


async def add_track(
    session: AsyncSession,
    slug: str,
    *,
    lessons: int,
    archived: int = 0,
    steps: int = 3,
    quiz: bool = True,
    position: int = 0,
) -> tuple[Track, list[Lesson]]:
    """A track with ``lessons`` published lessons and ``archived`` archived ones after them."""
    track = Track(slug=slug, title={"en": slug}, position=position)
    session.add(track)
    await session.flush()
    made = []
    for index in range(lessons + archived):
        lesson_slug = f"{slug}-{index + 1}"
        lesson = Lesson(
            slug=lesson_slug,
            track_id=track.id,
            position=index + 1,
            status=LessonStatus.PUBLISHED if index < lessons else LessonStatus.ARCHIVED,
        )
        session.add(lesson)
        await session.flush()
        session.add(
            LessonVersion(
                lesson_id=lesson.id,
                number=1,
                document=lesson_document(lesson_slug, steps=steps, quiz=quiz),
                content_hash=lesson_slug,
                status=VersionStatus.PUBLISHED,
            )
        )
        made.append(lesson)
    await session.flush()
    return track, made


Given = Sequence[int] | str | IncomingVoice | None
"""An answer as a learner gives it: option indexes or the likert point, or an open question's
text or voice note (None skips it)."""


async def import_track(
    session: AsyncSession, lessons: Sequence[tuple[str, dict[str, Any]]], *, slug: str = "demo"
) -> None:
    """Track ``slug`` (the sample track) with these lessons by slug, in order, published."""
    await import_curriculum(
        session,
        track_documents=[TrackDocument.model_validate({**TRACK, "slug": slug})],
        lesson_documents=[
            LessonDocument.model_validate(
                {**data, "slug": lesson_slug, "track": slug, "position": position}
            )
            for position, (lesson_slug, data) in enumerate(lessons, start=1)
        ],
        actor=Actor.system("test"),
    )


async def take_quiz(
    session: AsyncSession, learner: User, lesson_slug: str, answers: Sequence[Given]
) -> None:
    """Open the lesson (again) and answer its quiz as the bot does, these answers in order."""
    chain = ["en"]
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == lesson_slug))
    assert lesson_id is not None, lesson_slug
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=chain)
    question = await quizzes.start_attempt(
        session,
        learner=learner,
        progress_id=view.progress_id,
        version_id=view.version_id,
        chain=chain,
    )
    for index, given in enumerate(answers):
        await quizzes.answer(
            session,
            learner=learner,
            attempt_id=question.attempt_id,
            index=index,
            chosen=[] if isinstance(given, str | IncomingVoice) or given is None else list(given),
            text=given if isinstance(given, str) else None,
            voice=given if isinstance(given, IncomingVoice) else None,
            chain=chain,
        )


def said(data: bytes, seconds: int) -> IncomingVoice:
    """A voice note of ``data``, announced as Telegram would (``seconds`` long)."""

    async def download() -> bytes:
        return data

    return IncomingVoice(duration=seconds, file_size=len(data), download=download)


async def reflect(
    session_maker: async_sessionmaker[AsyncSession], user_id: int, text: str | IncomingVoice
) -> None:
    """The learner takes the every-kind lesson's quiz (imported as ``kinds`` when missing) and
    writes ``text`` to its open question (or says it: a ``IncomingVoice``)."""
    async with session_maker() as session:
        if await session.scalar(select(Lesson.id).where(Lesson.slug == "kinds")) is None:
            await import_track(session, [("kinds", every_kind_lesson())])
        learner = await session.get(User, user_id)
        assert learner is not None
        await take_quiz(session, learner, "kinds", [[1], [0, 2], [0], [4], text])
        await session.commit()
