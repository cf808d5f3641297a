"""Reflections: admins read all, mediators their cohorts' learners', viewers none, erased none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Answer, Cohort, Media, Role, TokenRole, User
from learntogether.services import learners
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.errors import InvalidInput, NotAllowed
from learntogether.services.reflections import list_reflections
from learntogether.services.users import LearnerNotFound
from tests.content.samples import every_kind_lesson
from tests.factories import mediating
from tests.oggopus import ogg_opus
from tests.report_builders import add_cohort, import_track, said, take_quiz
from tests.services.test_events import counting_statements

VIEWER = Actor(name="test-viewer", role=TokenRole.VIEWER)


BULGARIAN = {"Every kind": "Всички видове", "What will you try?": "Какво ще опитате?"}


def _in_bulgarian_too(value: Any) -> Any:
    """Every text of a lesson document in Bulgarian as well (the two that tests read truly)."""
    if isinstance(value, dict):
        if set(value) == {"en"}:
            return {"en": value["en"], "bg": BULGARIAN.get(value["en"], f"bg {value['en']}")}
        return {key: _in_bulgarian_too(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_in_bulgarian_too(item) for item in value]
    return value


def _bilingual_lesson() -> dict[str, Any]:
    return {**_in_bulgarian_too(every_kind_lesson()), "locales": ["en", "bg"]}


async def _learner(
    session: AsyncSession, telegram_id: int, name: str, cohort: Cohort | None
) -> User:
    return await learners.register(
        session,
        telegram_id=telegram_id,
        first_name=name,
        locale="en",
        role=Role.TEACHER,
        cohort_code=cohort.code if cohort else None,
    )


async def _reflect(session: AsyncSession, learner: User, text: str | None) -> None:
    await take_quiz(session, learner, "kinds", [[1], [0, 2], [0], [4], text])


@pytest.fixture
async def people(session: AsyncSession) -> dict[str, User]:
    """Petya (Sliven) and Lucía (Madrid) wrote reflections, Ivan (Sliven) skipped the question;
    Petya's came first, Lucía's an hour later."""
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    madrid = await add_cohort(session, "MAD1", region="Madrid", municipality="Madrid", country="ES")
    await import_track(session, [("kinds", _bilingual_lesson()), ("other", every_kind_lesson())])
    found = {
        "petya": await _learner(session, 1, "Petya", sliven),
        "lucia": await _learner(session, 2, "Lucía", madrid),
        "ivan": await _learner(session, 3, "Ivan", sliven),
    }
    await _reflect(session, found["petya"], "Mix the <b>groups</b>.")
    await _reflect(session, found["lucia"], "Talk to parents.")
    await _reflect(session, found["ivan"], None)
    later = datetime.now(UTC) + timedelta(hours=1)
    await session.execute(
        update(Answer)
        .where(Answer.text == "Talk to parents.")
        .values(answered_at=later)
        .execution_options(synchronize_session=False)
    )
    return found


async def _cohort_id(session: AsyncSession, code: str) -> int:
    found = await session.scalar(select(Cohort.id).where(Cohort.code == code))
    assert found is not None
    return found


async def test_an_admin_reads_every_reflection_newest_first(
    session: AsyncSession, people: dict[str, User]
) -> None:
    found, total = await list_reflections(session, actor=SYSTEM, limit=10)
    assert total == 2
    assert [item.text for item in found] == ["Talk to parents.", "Mix the <b>groups</b>."]
    first = found[1]
    assert (first.learner_name, first.user_id) == ("Petya", people["petya"].id)
    assert (first.lesson, first.lesson_title) == ("kinds", "Every kind")
    assert (first.question, first.question_text) == ("think", "What will you try?")


async def test_titles_are_in_the_readers_language_then_english(
    session: AsyncSession, people: dict[str, User]
) -> None:
    found, _ = await list_reflections(session, actor=SYSTEM, locale="bg", limit=10)
    assert {(item.lesson_title, item.question_text) for item in found} == {
        ("Всички видове", "Какво ще опитате?")
    }
    found, _ = await list_reflections(session, actor=SYSTEM, locale="fr", limit=10)
    assert found[0].lesson_title == "Every kind"


async def test_pages_split_the_list_and_keep_the_total(
    session: AsyncSession, people: dict[str, User]
) -> None:
    page, total = await list_reflections(session, actor=SYSTEM, limit=1, offset=1)
    assert total == 2 and [item.learner_name for item in page] == ["Petya"]


async def test_one_learners_one_cohorts_and_one_lessons_reflections(
    session: AsyncSession, people: dict[str, User]
) -> None:
    mine, total = await list_reflections(
        session, actor=SYSTEM, user_id=people["lucia"].id, limit=10
    )
    assert total == 1 and mine[0].learner_name == "Lucía"
    sliven, _ = await list_reflections(session, actor=SYSTEM, cohort="SLV1", limit=10)
    assert [item.learner_name for item in sliven] == ["Petya"]
    other, total = await list_reflections(session, actor=SYSTEM, lesson="other", limit=10)
    assert (other, total) == ([], 0)


async def test_a_mediator_reads_their_cohorts_learners_only(
    session: AsyncSession, people: dict[str, User]
) -> None:
    mediator = mediating(await _cohort_id(session, "SLV1"))
    found, total = await list_reflections(session, actor=mediator, limit=10)
    assert total == 1 and found[0].learner_name == "Petya"
    with pytest.raises(LearnerNotFound):
        await list_reflections(session, actor=mediator, user_id=people["lucia"].id, limit=10)
    with pytest.raises(NotAllowed):
        await list_reflections(session, actor=mediator, cohort="MAD1", limit=10)


async def test_a_viewer_reads_no_reflection(session: AsyncSession, people: dict[str, User]) -> None:
    with pytest.raises(NotAllowed):
        await list_reflections(session, actor=VIEWER, limit=10)


async def test_an_unknown_lesson_or_cohort_is_named(
    session: AsyncSession, people: dict[str, User]
) -> None:
    with pytest.raises(InvalidInput) as lesson:
        await list_reflections(session, actor=SYSTEM, lesson="nope", limit=10)
    assert lesson.value.problems[0].path == "query.lesson"
    with pytest.raises(InvalidInput) as cohort:
        await list_reflections(session, actor=SYSTEM, cohort="NOPE", limit=10)
    assert cohort.value.problems[0].path == "query.cohort"


async def test_an_erased_learners_reflections_are_gone(
    session: AsyncSession, people: dict[str, User]
) -> None:
    await learners.erase(session, learner=people["petya"])
    found, total = await list_reflections(session, actor=SYSTEM, limit=10)
    assert total == 1 and [item.learner_name for item in found] == ["Lucía"]
    texts = await session.scalars(select(Answer.text).where(Answer.text.is_not(None)))
    assert list(texts) == ["Talk to parents."]


async def test_a_page_costs_the_same_few_statements_however_many_it_lists(
    session: AsyncSession, people: dict[str, User]
) -> None:
    with counting_statements(session) as one:
        await list_reflections(session, actor=SYSTEM, limit=1)
    more = [await _learner(session, 10 + n, f"L{n}", None) for n in range(4)]
    for learner in more:
        await take_quiz(session, learner, "other", [[1], [0, 2], [0], [4], "Later words."])
    with counting_statements(session) as six:
        found, total = await list_reflections(session, actor=SYSTEM, limit=10)
    assert total == 6 and {item.lesson for item in found} == {"kinds", "other"}
    # The count, the page, and the titles of the versions on it: never one query per row.
    assert len(six) == len(one) == 3, six


async def test_erasing_a_voice_answer_deletes_its_bytes_once_nothing_else_names_them(
    session: AsyncSession,
) -> None:
    """Two learners sent the same voice note (Telegram forwards keep the file): erasing one
    keeps the bytes the other's answer still names; erasing both deletes them."""
    await import_track(session, [("kinds", every_kind_lesson())])
    voice = ogg_opus(3)
    speakers = []
    for telegram_id in (9201, 9202):
        learner = User(telegram_id=telegram_id, first_name="Zlatka", locale="en")
        session.add(learner)
        await session.flush()
        await take_quiz(session, learner, "kinds", [[1], [0, 2], [0], [4], said(voice, 3)])
        speakers.append(learner)

    await learners.erase(session, learner=speakers[0])
    assert await session.scalar(select(func.count()).select_from(Media)) == 1
    await learners.erase(session, learner=speakers[1])
    assert await session.scalar(select(func.count()).select_from(Media)) == 0
    spoken = await session.scalars(select(Answer.audio_sha256).where(Answer.kind == "open"))
    assert list(spoken) == [None, None]
