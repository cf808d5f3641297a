"""Lesson documents kept in the process: read once, and a new version is never the old text."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.content.schema import LessonDocument, TrackDocument
from learntogether.db.models import Lesson, Role, User
from learntogether.services import catalogue, learners, lessons, player, published, quizzes
from learntogether.services.actors import Actor
from learntogether.services.curriculum import import_curriculum
from learntogether.services.tracks import find_track, upsert_track
from tests.content.samples import TRACK, lesson

CHAIN = ["en"]
SLUG = "what-segregation-is"


async def _setup(session: AsyncSession) -> tuple[User, int]:
    await import_curriculum(
        session,
        track_documents=[TrackDocument.model_validate({**TRACK, "slug": "demo"})],
        lesson_documents=[LessonDocument.model_validate(lesson(slug=SLUG, track="demo"))],
        actor=Actor.system("test"),
    )
    learner = await learners.register(
        session, telegram_id=78, first_name="T", locale="en", role=Role.TEACHER
    )
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == SLUG))
    assert lesson_id is not None
    return learner, lesson_id


async def _republish(session: AsyncSession, **changes: Any) -> None:
    await lessons.store_published(
        session,
        document=LessonDocument.model_validate(lesson(slug=SLUG, track="demo", **changes)),
        track=await find_track(session, "demo"),
        actor=Actor.system("t"),
    )


async def test_a_lesson_republished_shows_its_new_title_in_the_catalogue(
    session: AsyncSession,
) -> None:
    learner, _ = await _setup(session)
    before = await catalogue.catalogue(session, learner=learner, chain=CHAIN)
    await _republish(session, title={"en": "Segregation, a second look"}, minutes=9)
    after = await catalogue.catalogue(session, learner=learner, chain=CHAIN)
    assert before[0].lessons[0].title != "Segregation, a second look"
    assert (after[0].lessons[0].title, after[0].lessons[0].minutes) == (
        "Segregation, a second look",
        9,
    )


async def test_a_track_edited_shows_its_new_title_and_audience_in_the_catalogue(
    session: AsyncSession,
) -> None:
    learner, _ = await _setup(session)
    before = await catalogue.catalogue(session, learner=learner, chain=CHAIN)
    edited = {
        **TRACK,
        "slug": "demo",
        "title": {"en": "Mixed, again", "bg": "Пак"},
        "audience": ["parent"],
    }
    await upsert_track(session, TrackDocument.model_validate(edited), actor=Actor.system("t"))
    after = await catalogue.catalogue(session, learner=learner, chain=CHAIN)
    assert (before[0].title, before[0].for_role) == ("The mixed classroom", True)
    assert (after[0].title, after[0].for_role) == ("Mixed, again", False)


async def test_a_document_is_read_from_the_database_once(session: AsyncSession) -> None:
    learner, lesson_id = await _setup(session)
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    ref = await published.version_ref(session, view.version_id)
    assert ref is not None
    reads: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "lesson_versions.document" in statement:
            reads.append(statement)

    engine = session.bind.engine.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", note)
    try:
        for chain in (CHAIN, CHAIN, ["bg", "en"]):
            await published.rendered(session, ref, chain)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert reads == []


async def test_an_unknown_version_has_no_ref(session: AsyncSession) -> None:
    assert await published.version_ref(session, 987654) is None


async def test_the_offer_is_built_once_for_learners_who_read_the_same_languages(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    learner, lesson_id = await _setup(session)
    other = await learners.register(
        session, telegram_id=79, first_name="U", locale="en", role=Role.PARENT
    )
    await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    first = await catalogue.catalogue(session, learner=learner, chain=CHAIN)
    picked: list[object] = []

    def counted(texts: dict[str, str], chain: list[str]) -> str:
        picked.append(texts)
        return pick_text(texts, chain)

    monkeypatch.setattr(catalogue, "pick_text", counted)
    second = await catalogue.catalogue(session, learner=other, chain=CHAIN)
    assert picked == []
    assert [(t.title, t.for_role) for t in first] == [("The mixed classroom", True)]
    assert [(t.title, t.for_role) for t in second] == [("The mixed classroom", False)]
    assert first[0].lessons[0].status == catalogue.IN_PROGRESS
    assert second[0].lessons[0].status == catalogue.NEW
    assert await catalogue.catalogue(session, learner=other, chain=["bg", "en"])
    assert picked  # another chain of languages is built on its own


async def test_a_track_is_built_alone_with_the_learners_progress_and_none_when_not_offered(
    session: AsyncSession,
) -> None:
    learner, lesson_id = await _setup(session)
    await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    [whole] = await catalogue.catalogue(session, learner=learner, chain=CHAIN)
    one = await catalogue.track(session, learner=learner, track_id=whole.track_id, chain=CHAIN)
    assert one == whole
    assert [entry.status for entry in one.lessons] == [catalogue.IN_PROGRESS]
    someone_else = await learners.register(
        session, telegram_id=79, first_name="U", locale="en", role=Role.PARENT
    )
    theirs = await catalogue.track(
        session, learner=someone_else, track_id=whole.track_id, chain=CHAIN
    )
    assert theirs is not None
    assert ([entry.status for entry in theirs.lessons], theirs.for_role) == ([catalogue.NEW], False)
    assert (
        await catalogue.track(session, learner=learner, track_id=whole.track_id + 1, chain=CHAIN)
        is None
    )


async def test_the_suggested_lesson_is_the_first_unfinished_one_of_the_roles_tracks_first(
    session: AsyncSession,
) -> None:
    parents = {**TRACK, "slug": "parents", "position": 0, "audience": ["parent"]}
    teachers = {**TRACK, "slug": "teachers", "position": 1}
    await import_curriculum(
        session,
        track_documents=[TrackDocument.model_validate(t) for t in (parents, teachers)],
        lesson_documents=[
            LessonDocument.model_validate(lesson(slug=slug, track=track, position=position))
            for slug, track, position in (
                ("for-parents", "parents", 1),
                ("first", "teachers", 1),
                ("second", "teachers", 2),
            )
        ],
        actor=Actor.system("test"),
    )
    teacher = await learners.register(
        session, telegram_id=80, first_name="T", locale="en", role=Role.TEACHER
    )
    parent = await learners.register(
        session, telegram_id=81, first_name="P", locale="en", role=Role.PARENT
    )
    suggested = await catalogue.suggested_lesson(session, learner=teacher, chain=CHAIN)
    assert suggested is not None and (suggested.slug, suggested.status) == ("first", "new")
    opened = await player.open_lesson(
        session, learner=teacher, lesson_id=suggested.lesson_id, chain=CHAIN
    )
    again = await catalogue.suggested_lesson(session, learner=teacher, chain=CHAIN)
    assert again is not None and (again.slug, again.status) == ("first", "in_progress")
    await quizzes.complete_without_quiz(
        session,
        learner=teacher,
        progress_id=opened.progress_id,
        version_id=opened.version_id,
        chain=CHAIN,
    )
    after = await catalogue.suggested_lesson(session, learner=teacher, chain=CHAIN)
    assert after is not None and after.slug == "second"
    theirs = await catalogue.suggested_lesson(session, learner=parent, chain=CHAIN)
    assert theirs is not None and theirs.slug == "for-parents"
