"""A broadcast's preview: who would read it in a language they did not choose, told before it is
sent (a learner is never given English, or another language, without the writer knowing)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Role, User, UserStatus
from learntogether.services import broadcasts, learners
from learntogether.services.actors import Actor
from learntogether.services.broadcasts import OtherLanguage
from learntogether.services.errors import InvalidInput, NotAllowed
from tests.factories import create_cohort, mediating

ADMIN = Actor.system("token:test")


async def _member(
    session: AsyncSession,
    telegram_id: int,
    locale: str,
    *,
    reads: str | None = None,
    cohort: str = "SLV1",
) -> User:
    return await learners.register(
        session,
        telegram_id=telegram_id,
        first_name="Learner",
        locale=locale,
        role=Role.TEACHER,
        cohort_code=cohort,
        reads_locale=reads,
    )


async def _group(session: AsyncSession) -> None:
    """A Bulgarian-speaking group (the cohort's locale is bg) whose members read six ways."""
    await create_cohort(session, code="SLV1")
    await _member(session, 1, "bg")
    await _member(session, 2, "rom", reads="bg")
    await _member(session, 3, "rom", reads="bg")
    await _member(session, 4, "rom", reads="es")
    await _member(session, 5, "es")
    await _member(session, 6, "en")


async def test_those_whose_languages_are_not_written_are_counted_by_language_and_what_they_get(
    session: AsyncSession,
) -> None:
    await _group(session)

    preview = await broadcasts.preview_broadcast(
        session, actor=ADMIN, text={"bg": "Утре в 10:00"}, cohort="SLV1"
    )

    # Romani readers who read Bulgarian best get what they chose; the others are told of.
    assert preview.other_languages == [
        OtherLanguage(reads="en", given="bg", count=1),
        OtherLanguage(reads="es", given="bg", count=1),
        OtherLanguage(reads="rom", given="bg", count=1),
    ]
    assert preview.texts == {"bg": "Утре в 10:00"}


async def test_english_alone_is_told_of_for_everyone_who_does_not_read_it(
    session: AsyncSession,
) -> None:
    await _group(session)

    preview = await broadcasts.preview_broadcast(
        session, actor=ADMIN, text="Tomorrow at 10", cohort="SLV1"
    )

    assert preview.other_languages == [
        OtherLanguage(reads="rom", given="en", count=3),
        OtherLanguage(reads="bg", given="en", count=1),
        OtherLanguage(reads="es", given="en", count=1),
    ]


async def test_a_text_in_every_language_read_leaves_nobody_to_tell_of(
    session: AsyncSession,
) -> None:
    await _group(session)

    preview = await broadcasts.preview_broadcast(
        session,
        actor=ADMIN,
        text={"bg": "Утре", "es": "Mañana", "en": "Tomorrow"},
        cohort="SLV1",
    )

    assert preview.other_languages == []


async def test_only_those_it_would_go_to_are_counted(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    await create_cohort(session, code="SOF1")
    await _member(session, 1, "es")
    await _member(session, 2, "es", cohort="SOF1")
    blocked = await _member(session, 3, "es")
    blocked.status = UserStatus.BLOCKED
    await session.flush()

    one = await broadcasts.preview_broadcast(session, actor=ADMIN, text="Hi", cohort="SLV1")
    everyone = await broadcasts.preview_broadcast(
        session, actor=ADMIN, text="Hi", all_learners=True
    )

    assert one.other_languages == [OtherLanguage(reads="es", given="en", count=1)]
    assert everyone.other_languages == [OtherLanguage(reads="es", given="en", count=2)]


async def test_the_preview_refuses_what_sending_would_refuse(session: AsyncSession) -> None:
    mine = await create_cohort(session, code="SLV1")
    await create_cohort(session, code="SOF1")

    with pytest.raises(InvalidInput) as unknown:
        await broadcasts.preview_broadcast(session, actor=ADMIN, text="Hi", cohorts=["NOPE"])
    with pytest.raises(InvalidInput) as bad_text:
        await broadcasts.preview_broadcast(
            session, actor=ADMIN, text={"bg": "<b>unclosed"}, cohort="SLV1"
        )
    with pytest.raises(NotAllowed):
        await broadcasts.preview_broadcast(
            session, actor=mediating(mine.id), text="Hi", cohort="SOF1"
        )

    assert [problem.path for problem in unknown.value.problems] == ["$.cohorts[0]"]
    assert [problem.path for problem in bad_text.value.problems] == ["$.text.bg"]


async def test_the_programmes_language_comes_before_english(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    await _member(session, 1, "rom")
    text = {"fr": "Demain", "en": "Tomorrow"}

    programme_french = await broadcasts.preview_broadcast(
        session, actor=ADMIN, text=text, cohort="SLV1", programme_locale="fr"
    )
    programme_english = await broadcasts.preview_broadcast(
        session, actor=ADMIN, text=text, cohort="SLV1"
    )

    assert programme_french.other_languages == [OtherLanguage(reads="rom", given="fr", count=1)]
    assert programme_english.other_languages == [OtherLanguage(reads="rom", given="en", count=1)]
