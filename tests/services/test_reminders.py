"""Reminders and nudges: who gets what, when, in their own time zone, and never twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Broadcast, BroadcastKind, Delivery, Reminder, Role, User
from learntogether.leadership import FileLeadership, PostgresLeadership
from learntogether.services import learners, reminders
from learntogether.services.actors import Actor
from learntogether.services.errors import InvalidInput, NotAllowed
from learntogether.services.reminders import ReminderInput
from tests.conftest import TestDatabase
from tests.factories import create_cohort, mediating

# Monday 23 November 2026, 16:00:30 UTC: 18:00:30 in Sofia, 17:00:30 in Madrid.
NOW = datetime(2026, 11, 23, 16, 0, 30, tzinfo=UTC)


async def learner(
    session: AsyncSession, telegram_id: int, *, cohort: str | None = "SLV1", **fields: object
) -> User:
    person = await learners.register(
        session,
        telegram_id=telegram_id,
        first_name="L",
        locale="bg",
        role=Role.TEACHER,
        cohort_code=cohort,
    )
    for name, value in fields.items():
        setattr(person, name, value)
    await session.flush()
    return person


async def queued(session: AsyncSession, kind: BroadcastKind) -> list[int]:
    rows = await session.scalars(
        select(Delivery.user_id)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(Broadcast.kind == kind)
        .order_by(Delivery.user_id)
    )
    return list(rows)


async def cohort_reminder(session: AsyncSession, cron: str = "0 18 * * *") -> Reminder:
    await create_cohort(session, code="SLV1")
    info = await reminders.create_reminder(
        session,
        cohort_code="SLV1",
        data=ReminderInput(cron=cron, text="Workshop on Friday!"),
        actor=Actor.system("test"),
        default_locale="en",
    )
    reminder = await session.get(Reminder, info.id)
    assert reminder is not None
    reminder.created_at = NOW - timedelta(days=1)
    assert info.timezone == "Europe/Sofia"  # the cohort's country
    return reminder


async def test_cohort_reminder_goes_out_once_at_its_time_in_the_cohorts_zone(
    session: AsyncSession,
) -> None:
    await cohort_reminder(session)
    ana = await learner(session, 1)
    await learner(session, 2, reminders_enabled=False)
    assert await reminders.send_cohort_reminders(session, now=NOW - timedelta(minutes=1)) == 0
    assert await reminders.send_cohort_reminders(session, now=NOW) == 1
    assert await queued(session, BroadcastKind.REMINDER) == [ana.id]
    assert await reminders.send_cohort_reminders(session, now=NOW + timedelta(minutes=1)) == 0


async def test_cohort_reminder_missed_by_more_than_an_hour_is_skipped_not_sent_late(
    session: AsyncSession,
) -> None:
    reminder = await cohort_reminder(session)
    await learner(session, 1)
    late = NOW + timedelta(hours=2)
    assert await reminders.send_cohort_reminders(session, now=late) == 0
    assert reminder.last_run_at == late
    assert await queued(session, BroadcastKind.REMINDER) == []


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 9 * * 8", "weekday '8': give 0–7"),
        ("0 9 * * 5-1", "weekday '5-1'"),
        ("0 9 * * */0", "weekday '*/0'"),
        ("0 9 * * 1,", "weekday '1,'"),
        ("0 9 * * 5L", "weekday '5L'"),
        ("0 9 * *", "wrong number of fields; got 4"),
        ("0 0 9 * * *", "wrong number of fields; got 6"),
    ],
)
def test_a_cron_expression_we_cannot_follow_exactly_is_refused(cron: str, message: str) -> None:
    with pytest.raises(ValueError, match="not a cron expression") as error:
        ReminderInput(cron=cron, text="x")
    assert message in str(error.value)


@pytest.mark.parametrize(("weekday", "sent"), [("1", 1), ("mon", 1), ("2", 0), ("0", 0)])
async def test_a_monday_reminder_comes_on_monday(
    session: AsyncSession, weekday: str, sent: int
) -> None:
    """APScheduler 3 reads weekday 1 as Tuesday; cron, and everyone writing it, as Monday."""
    assert NOW.astimezone(ZoneInfo("Europe/Sofia")).strftime("%A %H:%M") == "Monday 18:00"
    await cohort_reminder(session, cron=f"0 18 * * {weekday}")
    await learner(session, 1)
    assert await reminders.send_cohort_reminders(session, now=NOW) == sent


async def test_bad_reminder_input_names_its_fields(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="cron") as error:
        ReminderInput(cron="every day", timezone="Mars/Base", text="x")
    assert "timezone" in str(error.value)
    await create_cohort(session, code="SLV1")
    with pytest.raises(InvalidInput) as invalid:
        await reminders.create_reminder(
            session,
            cohort_code="SLV1",
            data=ReminderInput(cron="0 9 * * *", text={"bg": "<b>open"}),
            actor=Actor.system("test"),
            default_locale="en",
        )
    assert [problem.path for problem in invalid.value.problems] == ["$.text.bg"]
    with pytest.raises(NotAllowed):
        await reminders.create_reminder(
            session,
            cohort_code="SLV1",
            data=ReminderInput(cron="0 9 * * *", text="x"),
            actor=mediating(),
            default_locale="en",
        )


@pytest.mark.parametrize(
    ("cron", "sent"),
    [
        ("0 18 23 * fri", 1),  # the 23rd, though not a Friday
        ("0 18 20 * 1", 1),  # a Monday, though not the 20th
        ("0 18 */2 * 5", 1),  # an odd day (cron's standard, not Debian's "both")
        ("0 18 20 * 5", 0),  # neither
    ],
)
async def test_a_reminder_with_a_day_of_the_month_and_a_weekday_comes_on_either(
    session: AsyncSession, cron: str, sent: int
) -> None:
    await cohort_reminder(session, cron=cron)
    await learner(session, 1)
    assert await reminders.send_cohort_reminders(session, now=NOW) == sent


async def create_as(session: AsyncSession, cron: str, actor: Actor) -> None:
    await reminders.create_reminder(
        session,
        cohort_code="SLV1",
        data=ReminderInput(cron=cron, text="x"),
        actor=actor,
        default_locale="en",
    )


@pytest.mark.parametrize("cron", ["0 0 31 2 *", "0 0 30 2 *", "0 9 31 4,6,9,11 *"])
async def test_a_reminder_on_a_date_that_never_comes_is_refused(
    session: AsyncSession, cron: str
) -> None:
    await create_cohort(session, code="SLV1")
    with pytest.raises(InvalidInput) as invalid:
        await create_as(session, cron, Actor.system("test"))
    [problem] = invalid.value.problems
    assert problem.path == "$.cron"
    assert "no run in the next five years" in problem.message
    assert await session.scalar(select(Reminder.id)) is None


@pytest.mark.parametrize("cron", ["*/30 * * * *", "0,30 9 * * *", "* * * * *", "*/45 9 * * 1"])
async def test_a_mediators_reminder_runs_at_most_hourly_an_admins_as_often_as_needed(
    session: AsyncSession, cron: str
) -> None:
    cohort = await create_cohort(session, code="SLV1")
    with pytest.raises(InvalidInput) as invalid:
        await create_as(session, cron, mediating(cohort.id))
    assert [problem.path for problem in invalid.value.problems] == ["$.cron"]
    assert "more than once an hour" in invalid.value.problems[0].message
    await create_as(session, cron, Actor.system("test"))
    await create_as(session, "0 * * * *", mediating(cohort.id))
    assert [
        r.cron
        for r in (
            await reminders.list_reminders(
                session, cohort_code="SLV1", actor=Actor.system("test"), limit=50
            )
        )[0]
    ] == [cron, "0 * * * *"]


async def test_a_stored_reminder_that_can_no_longer_run_is_skipped_not_a_failure(
    session: AsyncSession,
) -> None:
    """Such crons were taken before (APScheduler's ``last``, 31 February); the sweep goes on."""
    working = await cohort_reminder(session)
    await learner(session, 1)
    for cron in ("0 18 31 2 *", "0 18 last * *"):
        session.add(
            Reminder(
                cohort_id=working.cohort_id,
                cron=cron,
                timezone="Europe/Sofia",
                text={"en": "x"},
                created_at=working.created_at,
            )
        )
    await session.flush()
    assert await reminders.send_cohort_reminders(session, now=NOW) == 1
    listed, _total = await reminders.list_reminders(
        session, cohort_code="SLV1", actor=Actor.system("test"), limit=50
    )
    assert [(r.cron, r.next_run_at is None) for r in listed] == [
        ("0 18 * * *", False),
        ("0 18 31 2 *", True),
        ("0 18 last * *", True),
    ]


@pytest.mark.parametrize(
    ("night", "sent_at"),
    [
        # 29 March: Sofia's clock jumps from 03:00 to 04:00; 03:30 comes right after, at 04:00.
        (datetime(2026, 3, 28, 22, tzinfo=UTC), ["2026-03-29T04:00:00+03:00"]),
        # 25 October: 03:00–04:00 comes twice; the reminder once, the first time.
        (datetime(2026, 10, 24, 22, tzinfo=UTC), ["2026-10-25T03:30:00+03:00"]),
    ],
)
async def test_a_sofia_reminder_comes_once_in_the_night_summer_time_begins_or_ends(
    session: AsyncSession, night: datetime, sent_at: list[str]
) -> None:
    reminder = await cohort_reminder(session, cron="30 3 * * *")
    reminder.created_at = night
    await learner(session, 1)
    sent: list[str] = []
    for minutes in range(0, 8 * 60, 5):
        now = night + timedelta(minutes=minutes)
        if await reminders.send_cohort_reminders(session, now=now):
            sent.append(now.astimezone(ZoneInfo("Europe/Sofia")).isoformat())
    assert sent == sent_at


async def test_daily_reminder_follows_each_learners_own_clock(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    # 17:00 in Madrid and in Sofia; only Madrid's 17:00 is now.
    madrid = await learner(session, 1, timezone="Europe/Madrid", reminder_time=time(17, 0))
    await learner(session, 2, timezone="Europe/Sofia", reminder_time=time(17, 0))
    await learner(session, 3, reminder_time=time(18, 0))  # the cohort's country: Sofia
    await learner(session, 4, timezone="Europe/Madrid", reminder_time=time(17, 0), status="blocked")
    since = NOW - timedelta(minutes=1)
    assert await reminders.send_daily_reminders(session, since=since, now=NOW) == 2
    sofia_by_country = await session.scalar(select(User.id).where(User.telegram_id == 3))
    assert await queued(session, BroadcastKind.REMINDER) == [madrid.id, sofia_by_country]
    # A restart sweeps the same minutes again: nobody gets a second one that day.
    assert await reminders.send_daily_reminders(session, since=since, now=NOW) == 0


async def test_daily_reminder_window_crossing_midnight(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    night = await learner(session, 1, timezone="UTC", reminder_time=time(0, 0))
    now = datetime(2026, 11, 24, 0, 0, 30, tzinfo=UTC)
    assert (
        await reminders.send_daily_reminders(session, since=now - timedelta(minutes=2), now=now)
        == 1
    )
    assert await queued(session, BroadcastKind.REMINDER) == [night.id]


async def test_quiet_learners_are_nudged_at_most_once_a_week(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    quiet = await learner(session, 1, last_active_at=NOW - timedelta(days=8))
    await learner(session, 2, last_active_at=NOW - timedelta(days=2))
    await learner(session, 3, last_active_at=NOW - timedelta(days=30), reminders_enabled=False)
    first = await reminders.send_nudges(session, now=NOW)
    assert (first.nudged, first.recently_nudged) == (1, 0)
    assert await queued(session, BroadcastKind.NUDGE) == [quiet.id]
    again = await reminders.nudge_cohort(
        session, cohort_code="SLV1", actor=Actor.system("test"), now=NOW
    )
    assert (again.nudged, again.recently_nudged) == (0, 1)


async def test_only_one_file_lock_holder_leads(tmp_path: Path) -> None:
    first, second = FileLeadership(tmp_path / "x.lock"), FileLeadership(tmp_path / "x.lock")
    assert await first.hold() is True
    assert await second.hold() is False
    assert await first.hold() is True
    await first.release()
    assert await second.hold() is True
    await second.release()


async def test_only_one_postgres_advisory_lock_holder_leads(database: TestDatabase) -> None:
    if database.backend != "postgresql":
        pytest.skip("PostgreSQL's advisory lock")
    first, second = PostgresLeadership(database.engine), PostgresLeadership(database.engine)
    try:
        assert await first.hold() is True
        assert await second.hold() is False
        await first.release()
        assert await second.hold() is True
    finally:
        await first.release()
        await second.release()


async def test_two_leaders_sweeping_at_once_send_a_due_reminder_once(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session:
        await cohort_reminder(session)
        ana = await learner(session, 1)
        await session.commit()

    async def sweep() -> int:
        async with session_maker() as session:
            sent = await reminders.send_cohort_reminders(session, now=NOW)
            await asyncio.sleep(0.3)  # a slow leader holds its transaction a while
            await session.commit()
            return sent

    assert sorted(await asyncio.gather(sweep(), sweep())) == [0, 1]
    async with session_maker() as session:
        assert await queued(session, BroadcastKind.REMINDER) == [ana.id]
