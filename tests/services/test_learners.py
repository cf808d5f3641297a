"""A learner's languages: the locale policy applied to what the database knows of them."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import Membership, Role, User, UserStatus
from learntogether.services import learners
from learntogether.services.errors import InvalidInput
from tests.factories import create_cohort


async def _learner(
    session: AsyncSession, telegram_id: int, locale: str | None, cohort: str | None = None
) -> User:
    learner = await learners.register(
        session,
        telegram_id=telegram_id,
        first_name="Mira",
        locale=locale or "bg",
        role=Role.TEACHER,
        cohort_code=cohort,
    )
    learner.locale = locale
    await session.flush()
    return learner


async def test_romani_learner_in_a_bulgarian_cohort_reads_romani_then_bulgarian(
    session: AsyncSession,
) -> None:
    await create_cohort(session, code="SLV1")
    learner = await _learner(session, 9101, "rom", cohort="SLV1")
    locales = await learners.locales(session, learner, default_locale="es")
    assert locales.content == ("rom", "bg", "es", "en")
    assert (locales.ui, locales.catalog) == ("rom", "rom>bg>es")


async def test_the_cohort_joined_last_decides(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    madrid = await create_cohort(session, code="MAD1", name="Madrid teachers")
    madrid.locale = "es"
    learner = await _learner(session, 9102, "rom", cohort="SLV1")
    await learners.join_cohort(session, learner=learner, code="MAD1")
    assert (await learners.locales(session, learner, default_locale="en")).content[1] == "es"
    joined_madrid = await session.scalar(
        select(Membership).where(Membership.cohort_id == madrid.id)
    )
    assert joined_madrid is not None
    joined_madrid.joined_at = utcnow() - timedelta(days=1)
    await session.flush()
    assert (await learners.locales(session, learner, default_locale="en")).content[1] == "bg"


async def test_no_language_and_a_cohort_without_one_gets_the_default_locale(
    session: AsyncSession,
) -> None:
    cohort = await create_cohort(session, code="BRU1")
    cohort.locale = None
    learner = await _learner(session, 9103, None, cohort="BRU1")
    locales = await learners.locales(session, learner, default_locale="es")
    assert (locales.content, locales.ui) == (("es", "en"), "es")


async def test_newcomer_reads_their_choice_then_telegrams_language_then_the_invite_cohorts(
    session: AsyncSession,
) -> None:
    await create_cohort(session, code="SLV1")

    async def newcomer(**onboarding: Any) -> tuple[str, ...]:
        found = await learners.locales(session, None, default_locale="en", **onboarding)
        return found.content

    assert await newcomer() == ("en",)
    assert await newcomer(telegram="pt-BR", invite_cohort="SLV1") == ("bg", "en")
    assert await newcomer(telegram="es-ES", invite_cohort="SLV1") == ("es", "bg", "en")
    assert await newcomer(chosen="rom", telegram="es", invite_cohort="SLV1") == ("rom", "bg", "en")
    assert await newcomer(chosen="rom", invite_cohort="NOPE") == ("rom", "en")


async def test_a_choice_made_while_onboarding_again_comes_before_the_saved_one(
    session: AsyncSession,
) -> None:
    await create_cohort(session, code="SLV1")
    learner = await _learner(session, 9104, "en", cohort="SLV1")
    locales = await learners.locales(
        session, learner, default_locale="en", chosen="rom", invite_cohort="OTHER"
    )
    assert locales.content == ("rom", "bg", "en")


async def test_many_learners_at_once_get_what_each_gets_alone(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    people = [
        await _learner(session, 9105, "rom", cohort="SLV1"),
        await _learner(session, 9106, "en"),
        await _learner(session, 9107, None, cohort="SLV1"),
    ]
    together = await learners.locales_of(session, people, default_locale="es")
    assert together == {
        person.id: await learners.locales(session, person, default_locale="es") for person in people
    }
    assert await learners.locales_of(session, [], default_locale="es") == {}


async def test_the_learner_read_with_their_cohort_gets_what_the_policy_gives_alone(
    session: AsyncSession,
) -> None:
    await create_cohort(session, code="SLV1")
    madrid = await create_cohort(session, code="MAD1", name="Madrid teachers")
    madrid.locale = "es"
    brussels = await create_cohort(session, code="BRU1", name="Brussels teachers")
    brussels.locale = None
    in_two = await _learner(session, 9111, "rom", cohort="SLV1")
    await learners.join_cohort(session, learner=in_two, code="MAD1")
    people = [
        in_two,
        await _learner(session, 9112, "en"),
        await _learner(session, 9113, None, cohort="BRU1"),
    ]
    for person, telegram_id in zip(people, (9111, 9112, 9113), strict=True):
        learner, joined = await learners.find_learner_and_cohort(session, telegram_id)
        assert learner is person
        alone = await learners.locales(session, person, default_locale="fr")
        assert await learners.locales(session, learner, default_locale="fr", joined=joined) == alone
    assert [
        (await learners.find_learner_and_cohort(session, telegram_id))[1]
        for telegram_id in (9111, 9112, 9113)
    ] == [{in_two.id: "es"}, {}, {people[2].id: None}]
    assert await learners.find_learner_and_cohort(session, 9119) == (None, {})


async def test_a_reminder_time_inside_quiet_hours_is_refused_not_moved(
    session: AsyncSession,
) -> None:
    learner = await _learner(session, 9201, "en")
    await learners.set_reminders(session, learner=learner, quiet_hours=(time(22), time(7)))
    with pytest.raises(learners.ReminderInQuietHours) as refused:
        await learners.set_reminders(session, learner=learner, at=time(23, 30))
    assert [problem.path for problem in refused.value.problems] == ["$.reminder_time"]
    assert "23:30" in str(refused.value) and "22:00–07:00" in str(refused.value)
    assert learner.reminder_time is None
    settings = await learners.set_reminders(session, learner=learner, at=time(7))
    assert settings.reminder_time == time(7)  # the end of quiet hours is outside them


async def test_quiet_hours_over_the_reminder_time_are_refused(session: AsyncSession) -> None:
    learner = await _learner(session, 9202, "en")
    await learners.set_reminders(session, learner=learner, at=time(21, 30))
    with pytest.raises(learners.ReminderInQuietHours) as refused:
        await learners.set_reminders(session, learner=learner, quiet_hours=(time(21), time(9)))
    assert [problem.path for problem in refused.value.problems] == ["$.quiet_hours"]
    assert learner.quiet_hours_start is None


async def test_a_zone_must_be_one_of_the_countrys(session: AsyncSession) -> None:
    learner = await _learner(session, 9203, "en")
    with pytest.raises(InvalidInput) as refused:
        await learners.set_reminders(
            session, learner=learner, timezone="Europe/Paris", country="ES"
        )
    assert [problem.path for problem in refused.value.problems] == ["$.timezone"]
    await learners.set_reminders(session, learner=learner, timezone="Atlantic/Canary", country="ES")
    assert (learner.timezone, learner.country) == ("Atlantic/Canary", "ES")


def test_a_country_outside_the_programme_still_gives_its_clock_not_utc() -> None:
    assert learners.zone_name(None, "IT") == "Europe/Rome"
    assert learners.zone_name(None, "BG") == "Europe/Sofia"
    assert learners.zone_name(None, None) == "UTC"


async def test_the_language_read_best_comes_before_the_cohorts(session: AsyncSession) -> None:
    madrid = await create_cohort(session, code="MAD1", name="Madrid parents")
    madrid.locale = "es"
    learner = await learners.register(
        session,
        telegram_id=9204,
        first_name="Mira",
        locale="rom",
        role=Role.PARENT,
        cohort_code="MAD1",
        reads_locale="bg",
    )
    locales = await learners.locales(session, learner, default_locale="en")
    assert locales.content == ("rom", "bg", "es", "en")
    assert locales.catalog == "rom>bg>es"
    (delivered,) = (await learners.locales_of(session, [learner], default_locale="en")).values()
    assert delivered == locales
    # A complete language needs no other: the one read best is dropped with it.
    await learners.set_locale(session, learner=learner, locale="es")
    assert learner.reads_locale is None
    with pytest.raises(InvalidInput):
        await learners.set_locale(session, learner=learner, locale="rom", reads="rom")


async def test_a_press_soon_after_the_last_one_does_not_write_last_active_again(
    session: AsyncSession,
) -> None:
    learner = await _learner(session, 9101, "en")
    seen = utcnow() - learners.SEEN_PRECISION / 2
    learner.last_active_at = seen
    await learners.mark_seen(session, learner=learner)
    assert learner.last_active_at == seen
    learner.last_active_at = utcnow() - learners.SEEN_PRECISION - timedelta(seconds=1)
    await learners.mark_seen(session, learner=learner)
    assert utcnow() - learner.last_active_at < timedelta(seconds=5)


async def test_a_learner_who_had_blocked_the_bot_is_active_again_at_their_next_press(
    session: AsyncSession,
) -> None:
    learner = await _learner(session, 9102, "en")
    learner.status, learner.blocked_at = UserStatus.BLOCKED, utcnow()
    await learners.mark_seen(session, learner=learner)
    assert learner.status is UserStatus.ACTIVE
    assert learner.blocked_at is None


async def test_listening_is_in_the_learners_data_and_goes_with_erasure(
    session: AsyncSession,
) -> None:
    learner = await _learner(session, 9150, "bg")
    assert (await learners.export_data(session, learner=learner))["profile"][
        "prefers_listening"
    ] is False

    await learners.set_listening(session, learner=learner, prefers_audio=True)

    assert learners.settings_of(learner).prefers_audio
    profile = (await learners.export_data(session, learner=learner))["profile"]
    assert profile["prefers_listening"] is True
    await learners.erase(session, learner=learner)
    assert learner.prefers_audio is False
