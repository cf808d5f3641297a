"""Participation by week from the weeks' roll-up: the same figures as the quarter-hour counts
alone give, in every time zone, at and around Mondays, over windows that cut weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db import activity_log
from learntogether.db.activity_log import LEARNER_KEY_COLUMNS, week_interior
from learntogether.db.models import ParticipationMonth, ParticipationWeek, Verb
from learntogether.db.models.activity import PARTICIPATION_FIGURES
from learntogether.services.reports import Figure, GroupBy, Period, participation
from learntogether.services.reports.participation import _count, _counted
from learntogether.services.reports.query import (
    CALENDARS,
    Filters,
    Window,
    resolve,
    split_periods,
)
from tests.report_builders import add_cohort, add_learner, record

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/Sofia",  # +2/+3, summer time from 29 March 2026
        "America/Los_Angeles",  # -8/-7, summer time from 8 March 2026
        "Pacific/Kiritimati",  # +14
        "Pacific/Pago_Pago",  # -11
        "Asia/Kathmandu",  # +5:45
    )
]
FIGURES = [Figure.JOINED, Figure.ACTIVE, Figure.ATTENDED, Figure.REVIEWED, Figure.CERTIFICATES]
VERBS = [Verb.JOINED, Verb.ATTENDED, Verb.REVIEWED, Verb.CERTIFIED, Verb.REMINDED]
MONDAYS = [datetime(2026, 3, 2, tzinfo=UTC) + timedelta(weeks=n) for n in range(6)]
"""2 March to 6 April 2026: both summer-time changes above."""
WEEKS = CALENDARS[Period.WEEK]
UTC_ZONE = ZoneInfo("UTC")

# Within 16 hours of a Monday's midnight (UTC), at any minute, or anywhere in a week.
moments = st.one_of(
    st.builds(
        lambda monday, minutes: monday + timedelta(minutes=minutes),
        st.sampled_from(MONDAYS),
        st.integers(-16 * 60, 16 * 60),
    ),
    st.builds(
        lambda monday, minutes: monday + timedelta(minutes=minutes),
        st.sampled_from(MONDAYS),
        st.integers(0, 7 * 24 * 60 - 1),
    ),
)
events = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(VERBS), moments), min_size=4, max_size=30
)
EDGES = [
    (who % 4, Verb.ATTENDED, MONDAYS[1] + timedelta(minutes=minutes))
    for who, minutes in enumerate(
        # Either side of where the week is the same on every clock (14 hours), and where it
        # would be if Kiritimati (+14) or Pago Pago (-11) were forgotten.
        (-14 * 60 - 1, -14 * 60, -12 * 60 - 1, -11 * 60, 11 * 60 - 1, 11 * 60, 14 * 60 - 1, 14 * 60)
    )
]
days = st.one_of(st.none(), st.dates(date(2026, 2, 27), date(2026, 4, 12)))


async def _reports(
    session: AsyncSession, windows: list[tuple[date | None, date | None]]
) -> dict[tuple[str, date | None, date | None, bool], list[dict[str, Any]]]:
    found = {}
    for zone in ZONES:
        for start, end in windows:
            for grouped in (True, False):
                table = await participation(
                    session,
                    group_by=GroupBy.REGION if grouped else None,
                    period=Period.WEEK,
                    zone=zone,
                    start=start,
                    end=end,
                    figures=FIGURES,
                )
                found[(zone.key, start, end, grouped)] = table.rows
    return found


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(recorded=events, start=days, end=days)
@example(recorded=EDGES, start=None, end=None)
async def test_weeks_in_every_zone_equal_the_counts_alone(
    session: AsyncSession,
    recorded: list[tuple[int, Verb, datetime]],
    start: date | None,
    end: date | None,
) -> None:
    if start is not None and end is not None and end < start:
        start, end = end, start
    windows = [(None, None), (start, end)]
    async with session.begin_nested() as example:
        cohorts = [
            await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven"),
            await add_cohort(session, "PLV1", region="Plovdiv", municipality="Plovdiv"),
        ]
        people = [await add_learner(session, cohort=cohorts[n % 2]) for n in range(4)]
        # One record in the middle of a week: the roll-up always has a row to read.
        await record(session, people[0], Verb.ATTENDED, MONDAYS[2] + timedelta(days=3))
        for who, verb, moment in recorded:
            await record(session, people[who], verb, moment)
        with_weeks = await _reports(session, windows)
        await session.execute(delete(ParticipationWeek))
        assert with_weeks == await _reports(session, windows)
        await example.rollback()


async def _weeks(session: AsyncSession) -> list[tuple[Any, ...]]:
    """The weeks' roll-up per key, however it is split between rows."""
    keys = [ParticipationWeek.week, *(getattr(ParticipationWeek, k) for k in LEARNER_KEY_COLUMNS)]
    rows = await session.execute(
        select(*keys, *(func.sum(getattr(ParticipationWeek, f)) for f in PARTICIPATION_FIGURES))
        .group_by(*keys)
        .order_by(*keys)
    )
    return [tuple(row) for row in rows]


async def test_the_weeks_kept_while_writing_equal_a_rebuild_and_are_built_when_missing(
    session: AsyncSession,
) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    ana = await add_learner(session, cohort=sliven)
    boris = await add_learner(session, cohort=sliven)
    for minutes in (-15 * 60, -14 * 60 - 1, -14 * 60, 0, 14 * 60 - 1, 14 * 60, 3 * 24 * 60):
        await record(session, ana, Verb.ATTENDED, MONDAYS[1] + timedelta(minutes=minutes))
    await record(session, boris, Verb.JOINED, MONDAYS[3] + timedelta(days=6, hours=9, minutes=59))
    written = await _weeks(session)
    # From Monday 14:00 to Sunday 10:00 (UTC) is in the week on every clock.
    assert [(row[0], row[1], row[-5]) for row in written] == [
        (MONDAYS[0].date(), ana.id, 2),
        (MONDAYS[1].date(), ana.id, 2),
        (MONDAYS[3].date(), boris.id, 0),
    ]
    await activity_log.rebuild(session)
    assert await _weeks(session) == written
    await session.execute(delete(ParticipationWeek))
    connection = await session.connection()
    assert await activity_log.rebuild_if_missing(connection) is True
    assert await _weeks(session) == written
    assert await activity_log.rebuild_if_missing(connection) is False


async def test_no_week_is_built_when_every_count_is_near_a_monday(session: AsyncSession) -> None:
    """An empty roll-up is right when nothing is inside a week: ``db upgrade`` does not rebuild
    the roll-ups each time it runs."""
    ana = await add_learner(session)
    await record(session, ana, Verb.JOINED, MONDAYS[0] + timedelta(hours=1))
    assert await session.scalar(select(func.count()).select_from(ParticipationMonth)) == 1
    assert await _weeks(session) == []
    assert await activity_log.rebuild_if_missing(await session.connection()) is False


def test_a_week_is_read_from_the_roll_up_only_when_its_inside_is_in_the_window() -> None:
    first, second, third = (monday.date() for monday in MONDAYS[:3])
    assert week_interior(second) == (
        datetime(2026, 3, 9, 14, tzinfo=UTC),
        datetime(2026, 3, 15, 10, tzinfo=UTC),
    )
    every = split_periods(Window(), WEEKS, first, third)
    assert every.periods == (first, third)
    assert every.ranges[1] == (week_interior(first)[1], week_interior(second)[0])
    # The week of 9 March in Pago Pago (-11): 9 March 11:00 UTC to 16 March 11:00 UTC.
    pago_pago = Window.of_dates(second, date(2026, 3, 15), ZoneInfo("Pacific/Pago_Pago"))
    split = split_periods(pago_pago, WEEKS, first, third)
    assert split.periods == (second, second)
    assert split.ranges == [
        (pago_pago.since, week_interior(second)[0]),
        (week_interior(second)[1], pago_pago.until),
    ]
    # Monday to Saturday: no week, the counts alone.
    short = Window.of_dates(second, date(2026, 3, 14), ZoneInfo("UTC"))
    assert split_periods(short, WEEKS, first, third).periods is None


async def test_a_week_first_written_after_the_roll_up_was_looked_at_is_counted_once(
    session: AsyncSession,
) -> None:
    """A report finds which weeks the roll-up holds, then counts: a week whose first row is
    written in between (a record, or a week before the first) is counted once, in the same
    snapshot, from the roll-up and the counts."""
    ana = await add_learner(session)
    await record(session, ana, Verb.ATTENDED, MONDAYS[2] + timedelta(days=3))
    counted = await _counted(
        session, await resolve(session, Filters()), group_by=None, period=Period.WEEK, zone=UTC_ZONE
    )
    for monday in (MONDAYS[0], MONDAYS[4]):
        await record(session, ana, Verb.ATTENDED, monday + timedelta(days=3))
    counts = await _count(session, counted, figures=[Figure.ATTENDED])
    assert counts == {
        (None, monday.date()): {Figure.ATTENDED: 1} for monday in itemgetter(0, 2, 4)(MONDAYS)
    }
