"""Recordings of lesson steps: who may record, what approval needs, who may withdraw what."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.schema import LessonDocument
from learntogether.db.models import Lesson, Media, RecordingStatus, User
from learntogether.services import cohorts, lessons, recordings
from learntogether.services.actors import Actor
from learntogether.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from learntogether.services.media import AudioRefused
from tests.content.samples import every_kind_lesson
from tests.factories import create_cohort
from tests.oggopus import ogg_opus
from tests.report_builders import import_track, said

ADMIN = Actor.system("token:programme")


async def _learner(session: AsyncSession, telegram_id: int, name: str) -> User:
    learner = User(telegram_id=telegram_id, first_name=name, locale="en", consent_version="x")
    session.add(learner)
    await session.flush()
    return learner


async def mediator_and_lesson(
    session: AsyncSession, *, title: dict[str, str] | None = None
) -> tuple[User, int]:
    """A mediator of SLV1, and the published version of lesson ``kinds`` (two steps), titled
    ``title`` if given (its other languages partial)."""
    document = every_kind_lesson()
    if title is not None:
        document |= {"title": title, "partial": sorted(set(title) - {"en"})}
    await import_track(session, [("kinds", document)])
    await create_cohort(session, code="SLV1")
    rosa = await _learner(session, 9101, "Rosa")
    await cohorts.add_mediator(session, code="SLV1", user_id=rosa.id, actor=ADMIN)
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == "kinds"))
    assert lesson_id is not None
    source = await recordings.step_source(
        session, learner=rosa, lesson_id=lesson_id, index=1, chain=["en"]
    )
    return rosa, source.version_id


async def submit(
    session: AsyncSession,
    learner: User,
    version_id: int,
    *,
    index: int = 0,
    locale: str = "bg",
    dialect: str | None = None,
    seconds: int = 2,
    announced: int | None = None,
) -> recordings.RecordingInfo:
    """``learner`` sends a recording of ``seconds`` (announced as lasting ``announced``)."""
    voice = said(ogg_opus(seconds), seconds if announced is None else announced)
    return await recordings.submit(
        session,
        learner=learner,
        version_id=version_id,
        index=index,
        locale=locale,
        dialect=dialect,
        voice=voice,
    )


async def _files(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Media)) or 0


async def test_a_learner_who_mediates_nothing_cannot_record(session: AsyncSession) -> None:
    _rosa, version_id = await mediator_and_lesson(session)
    eve = await _learner(session, 9102, "Eve")
    with pytest.raises(NotAllowed):
        await submit(session, eve, version_id)
    assert await _files(session) == 0


async def test_a_dialect_note_is_kept_for_romani_only_and_a_step_must_exist(
    session: AsyncSession,
) -> None:
    rosa, version_id = await mediator_and_lesson(session)
    romani = await submit(
        session, rosa, version_id, index=1, locale="rom", dialect="  Kalderash   from Sliven "
    )
    bulgarian = await submit(session, rosa, version_id, dialect="Kalderash", seconds=3)
    assert (romani.dialect, bulgarian.dialect) == ("Kalderash from Sliven", None)
    assert (romani.step, romani.credit, romani.duration) == (2, "Rosa", 2)
    with pytest.raises(NotFound):
        await submit(session, rosa, version_id, index=2)
    with pytest.raises(InvalidInput, match="No language 'xx'"):
        await submit(session, rosa, version_id, locale="xx")


async def test_a_recording_longer_than_three_minutes_is_refused_with_nothing_kept(
    session: AsyncSession,
) -> None:
    rosa, version_id = await mediator_and_lesson(session)
    with pytest.raises(AudioRefused, match="longer than the 3 minutes a step recording"):
        await submit(session, rosa, version_id, seconds=190, announced=60)
    assert await _files(session) == 0
    assert await recordings.own_recordings(session, learner=rosa) == []


async def test_approval_waits_for_a_pending_draft_to_be_published(session: AsyncSession) -> None:
    rosa, version_id = await mediator_and_lesson(session)
    pending = await submit(session, rosa, version_id)
    draft = LessonDocument.model_validate(
        {**every_kind_lesson(), "slug": "kinds", "track": "demo", "minutes": 9}
    )
    await lessons.save_draft(session, document=draft, actor=ADMIN)

    with pytest.raises(Conflict, match="unpublished draft"):
        await recordings.approve(session, actor=ADMIN, recording_id=pending.id)
    await lessons.publish_lesson(session, slug="kinds", actor=ADMIN)
    approved = await recordings.approve(session, actor=ADMIN, recording_id=pending.id)
    assert (approved.status, approved.published_version) == (RecordingStatus.APPROVED, 3)
    listed, total = await recordings.list_recordings(
        session, actor=ADMIN, status=RecordingStatus.APPROVED, lesson="kinds", limit=10
    )
    assert (total, [item.credit for item in listed]) == (1, ["Rosa"])


async def test_recordings_are_listed_with_their_lessons_title_in_the_readers_language(
    session: AsyncSession,
) -> None:
    rosa, version_id = await mediator_and_lesson(
        session, title={"en": "Every kind", "bg": "Всички"}
    )
    await submit(session, rosa, version_id)
    titles = {}
    for locale in ("bg", "fr", "en"):
        listed, _total = await recordings.list_recordings(
            session, actor=ADMIN, locale=locale, limit=10
        )
        titles[locale] = [(item.lesson, item.lesson_title) for item in listed]
    # French has no title: the English one, as the API (in English) gives it.
    assert titles == {
        "bg": [("kinds", "Всички")],
        "fr": [("kinds", "Every kind")],
        "en": [("kinds", "Every kind")],
    }


async def test_only_the_recorder_withdraws_and_only_while_pending(session: AsyncSession) -> None:
    rosa, version_id = await mediator_and_lesson(session)
    mine = await submit(session, rosa, version_id)
    eve = await _learner(session, 9103, "Eve")
    with pytest.raises(NotFound):
        await recordings.withdraw(session, learner=eve, recording_id=mine.id)
    await recordings.reject(session, actor=ADMIN, recording_id=mine.id, comment="Noise.")
    with pytest.raises(Conflict):
        await recordings.withdraw(session, learner=rosa, recording_id=mine.id)


async def test_reviewing_is_for_admins(session: AsyncSession) -> None:
    rosa, version_id = await mediator_and_lesson(session)
    pending = await submit(session, rosa, version_id)
    mediator = Actor.mediator(rosa.id, frozenset({1}))
    with pytest.raises(NotAllowed):
        await recordings.approve(session, actor=mediator, recording_id=pending.id)
    with pytest.raises(NotAllowed):
        await recordings.recording_audio(session, actor=mediator, recording_id=pending.id)
    with pytest.raises(InvalidInput, match="at most 2000"):
        await recordings.reject(session, actor=ADMIN, recording_id=pending.id, comment="x" * 2001)
