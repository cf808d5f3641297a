"""The certificate rule, issuing once, and checking a code, on a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.schema import LessonDocument, TrackDocument
from learntogether.db.models import Activity, Certificate, Lesson, Role, User, Verb
from learntogether.i18n import Locales
from learntogether.services import certificates, learners, lessons, player, quizzes
from learntogether.services.actors import Actor
from learntogether.services.curriculum import import_curriculum
from learntogether.services.errors import InvalidInput, NotFound
from learntogether.services.player import StaleButton
from learntogether.services.tracks import find_track
from tests.content.samples import TRACK, lesson, survey
from tests.pdf_text import page_text
from tests.test_certificate_pdf import ENGLISH

CHAIN = ["en"]
# Answers to the sample lesson's two questions (the first option is right in both); pass at 50%.
ALL_RIGHT = [[0], [0]]
HALF_RIGHT = [[0], [1]]
ALL_WRONG = [[1], [1]]


async def _curriculum(
    session: AsyncSession,
    *,
    pass_rule: dict[str, Any] | None = None,
    lessons_by_slug: dict[str, dict[str, Any]] | None = None,
) -> int:
    """Track ``demo`` with the given lessons (default: two sample lessons); returns its id."""
    documents = lessons_by_slug or {"first": lesson(), "second": lesson()}
    await import_curriculum(
        session,
        track_documents=[
            TrackDocument.model_validate({**TRACK, "slug": "demo", "pass_rule": pass_rule or {}})
        ],
        lesson_documents=[
            LessonDocument.model_validate({**data, "slug": slug, "track": "demo", "position": i})
            for i, (slug, data) in enumerate(documents.items(), start=1)
        ],
        actor=Actor.system("test"),
    )
    return (await find_track(session, "demo")).id


async def _learner(session: AsyncSession, telegram_id: int = 77) -> User:
    learner = await learners.register(
        session, telegram_id=telegram_id, first_name="Ivana", locale="bg", role=Role.TEACHER
    )
    learner.last_name = "Petrova"
    return learner


async def _take(session: AsyncSession, learner: User, slug: str, answers: list[list[int]]) -> None:
    """Open the lesson and answer its quiz, as the bot does."""
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == slug))
    assert lesson_id is not None
    view = await player.open_lesson(session, learner=learner, lesson_id=lesson_id, chain=CHAIN)
    question = await quizzes.start_attempt(
        session,
        learner=learner,
        progress_id=view.progress_id,
        version_id=view.version_id,
        chain=CHAIN,
    )
    for index, chosen in enumerate(answers):
        await quizzes.answer(
            session,
            learner=learner,
            attempt_id=question.attempt_id,
            index=index,
            chosen=chosen,
            chain=CHAIN,
        )


async def _issued(session: AsyncSession, learner: User, track_id: int) -> Certificate | None:
    """The certificate finishing the quiz issued (quizzes award it as the track is completed)."""
    return await session.scalar(
        select(Certificate).where(
            Certificate.user_id == learner.id, Certificate.track_id == track_id
        )
    )


async def _earn(session: AsyncSession, learner: User, track_id: int) -> Certificate:
    """The learner passes lesson ``first`` on a track asking one lesson, and is certified."""
    await _take(session, learner, "first", ALL_RIGHT)
    certificate = await _issued(session, learner, track_id)
    assert certificate is not None
    return certificate


async def test_no_certificate_until_every_published_lesson_is_passed(
    session: AsyncSession,
) -> None:
    track_id = await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_RIGHT)
    assert await certificates.award_if_earned(session, learner=learner, track_id=track_id) is None
    assert await session.scalar(select(func.count()).select_from(Certificate)) == 0


async def test_certificate_issued_once_every_published_lesson_is_passed(
    session: AsyncSession,
) -> None:
    track_id = await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_RIGHT)
    await _take(session, learner, "second", HALF_RIGHT)
    certificate = await _issued(session, learner, track_id)
    assert certificate is not None
    assert (certificate.user_id, certificate.track_id, certificate.name_on_certificate) == (
        learner.id,
        track_id,
        "Ivana Petrova",
    )
    assert len(certificate.code) == certificates.CODE_LENGTH
    assert set(certificate.code) <= set(certificates.CODE_ALPHABET)


async def test_certificate_is_issued_only_once(session: AsyncSession) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    await _earn(session, learner, track_id)
    await _take(session, learner, "second", ALL_RIGHT)
    assert await certificates.award_if_earned(session, learner=learner, track_id=track_id) is None
    assert await session.scalar(select(func.count()).select_from(Certificate)) == 1


async def test_lessons_rule_asks_only_that_many_lessons(session: AsyncSession) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    await _take(session, learner, "second", HALF_RIGHT)
    assert await _issued(session, learner, track_id)


async def test_a_failed_lesson_does_not_count(session: AsyncSession) -> None:
    track_id = await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_RIGHT)
    await _take(session, learner, "second", ALL_WRONG)
    assert await certificates.award_if_earned(session, learner=learner, track_id=track_id) is None


async def test_average_below_min_average_score_earns_nothing(session: AsyncSession) -> None:
    track_id = await _curriculum(session, pass_rule={"min_average_score": 80})
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_RIGHT)
    await _take(session, learner, "second", HALF_RIGHT)
    assert await certificates.award_if_earned(session, learner=learner, track_id=track_id) is None


async def test_average_reaching_min_average_score_earns_the_certificate(
    session: AsyncSession,
) -> None:
    track_id = await _curriculum(session, pass_rule={"min_average_score": 75})
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_RIGHT)
    await _take(session, learner, "second", HALF_RIGHT)
    assert await _issued(session, learner, track_id)


async def test_a_completed_survey_counts_as_passed_and_stays_out_of_the_average(
    session: AsyncSession,
) -> None:
    track_id = await _curriculum(
        session,
        pass_rule={"min_average_score": 90},
        lessons_by_slug={"first": lesson(), "before": survey("pre", ["mixed"])},
    )
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_RIGHT)
    await _take(session, learner, "before", [[4]])
    assert await _issued(session, learner, track_id)


async def test_an_archived_lesson_is_no_longer_required(session: AsyncSession) -> None:
    track_id = await _curriculum(session)
    learner = await _learner(session)
    await _take(session, learner, "first", ALL_RIGHT)
    await lessons.archive_lesson(session, slug="second", actor=Actor.system("test"))
    assert await certificates.award_if_earned(session, learner=learner, track_id=track_id)


async def test_issuing_records_certified_activity_for_the_track(session: AsyncSession) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    await _earn(session, learner, track_id)
    certified = list(
        await session.scalars(
            select(Activity).where(Activity.user_id == learner.id, Activity.verb == Verb.CERTIFIED)
        )
    )
    assert [(row.track_id, row.role, row.locale) for row in certified] == [
        (track_id, Role.TEACHER, "bg")
    ]


async def test_an_erased_learners_certificate_still_verifies_without_the_name(
    session: AsyncSession,
) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    certificate = await _earn(session, learner, track_id)
    await learners.erase(session, learner=learner)
    check = await certificates.find_certificate(session, certificate.code)
    assert (check.code, check.name, check.track_slug, check.track_title) == (
        certificate.code,
        None,
        "demo",
        TRACK["title"],
    )
    assert check.issued_at == certificate.issued_at


async def test_an_unknown_code_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await certificates.find_certificate(session, "23456789AB")


async def test_a_code_already_taken_is_drawn_again(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    codes: Iterator[str] = iter(["AAAAAAAAAA", "AAAAAAAAAA", "BBBBBBBBBB"])
    monkeypatch.setattr(certificates, "new_code", lambda: next(codes))
    await _earn(session, await _learner(session, 77), track_id)
    certificate = await _earn(session, await _learner(session, 78), track_id)
    assert certificate.code == "BBBBBBBBBB"
    assert await session.scalar(select(func.count()).select_from(Certificate)) == 2


async def test_the_learner_gets_their_certificate_as_a_pdf_named_for_the_track(
    session: AsyncSession,
) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    certificate = await _earn(session, learner, track_id)
    filename, pdf = await certificates.certificate_document(
        session,
        learner=learner,
        certificate_id=certificate.id,
        locales=Locales(("bg", "en")),
        texts=ENGLISH,
        verify_base_url="https://example.org/api/v1/certificates/",
    )
    assert filename == f"certificate-demo-{certificate.code}.pdf"
    assert pdf.startswith(b"%PDF-")
    assert f"/URI (https://example.org/api/v1/certificates/{certificate.code})".encode() in pdf


async def test_certificate_date_is_the_learners_local_day(session: AsyncSession) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    learner.timezone = "Europe/Sofia"
    certificate = await _earn(session, learner, track_id)
    # Half past ten at night in Greenwich is already the next day in Sofia (UTC+3 in summer).
    certificate.issued_at = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    await session.flush()
    _filename, pdf = await certificates.certificate_document(
        session,
        learner=learner,
        certificate_id=certificate.id,
        locales=Locales(("en",)),
        texts=ENGLISH,
        verify_base_url=None,
    )
    assert "July 1, 2026" in page_text(pdf)


async def test_someone_elses_certificate_is_not_found(session: AsyncSession) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    certificate = await _earn(session, await _learner(session, 77), track_id)
    other = await _learner(session, 78)
    with pytest.raises(NotFound):
        await certificates.certificate_document(
            session,
            learner=other,
            certificate_id=certificate.id,
            locales=Locales(("en",)),
            texts=ENGLISH,
            verify_base_url=None,
        )


async def test_choosing_a_name_prints_it_and_keeps_it_for_later_certificates(
    session: AsyncSession,
) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    certificate = await _earn(session, learner, track_id)
    assert certificates.name_to_ask(learner) == "Ivana Petrova"
    await certificates.choose_name(
        session, learner=learner, certificate_id=certificate.id, name="  Dr.  Ivana Petrova "
    )
    assert (certificate.name_on_certificate, learner.certificate_name) == (
        "Dr. Ivana Petrova",
        "Dr. Ivana Petrova",
    )
    assert certificates.name_to_ask(learner) is None
    other_track = await _curriculum_named(session, "other")
    await _take(session, learner, "other-1", ALL_RIGHT)
    later = await _issued(session, learner, other_track)
    assert later is not None and later.name_on_certificate == "Dr. Ivana Petrova"


async def _curriculum_named(session: AsyncSession, slug: str) -> int:
    """A second track, ``slug``, of one sample lesson (``<slug>-1``) to pass; returns its id."""
    await import_curriculum(
        session,
        track_documents=[
            TrackDocument.model_validate({**TRACK, "slug": slug, "pass_rule": {"lessons": 1}})
        ],
        lesson_documents=[
            LessonDocument.model_validate({**lesson(), "slug": f"{slug}-1", "track": slug})
        ],
        actor=Actor.system("test"),
    )
    return (await find_track(session, slug)).id


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bell\x07"])
async def test_an_empty_or_too_long_name_is_refused_and_nothing_changes(
    session: AsyncSession, name: str
) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    certificate = await _earn(session, learner, track_id)
    with pytest.raises(InvalidInput):
        await certificates.choose_name(
            session, learner=learner, certificate_id=certificate.id, name=name
        )
    assert (certificate.name_on_certificate, learner.certificate_name) == ("Ivana Petrova", None)


async def test_a_name_for_someone_elses_certificate_is_not_found(session: AsyncSession) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    certificate = await _earn(session, await _learner(session, 77), track_id)
    other = await _learner(session, 78)
    with pytest.raises(NotFound):
        await certificates.choose_name(
            session, learner=other, certificate_id=certificate.id, name="Eve"
        )
    assert other.certificate_name is None


async def test_accepting_telegrams_name_again_does_not_undo_a_typed_one(
    session: AsyncSession,
) -> None:
    track_id = await _curriculum(session, pass_rule={"lessons": 1})
    learner = await _learner(session)
    certificate = await _earn(session, learner, track_id)
    await certificates.choose_name(
        session, learner=learner, certificate_id=certificate.id, name="Dr. Ivana Petrova"
    )
    with pytest.raises(StaleButton):
        await certificates.choose_name(
            session, learner=learner, certificate_id=certificate.id, name=None
        )
    assert certificate.name_on_certificate == "Dr. Ivana Petrova"
