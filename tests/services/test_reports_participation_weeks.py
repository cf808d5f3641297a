"""Participation by week from the weeks' roll-up: the same figures as the quarter-hour counts
alone give, in every time zone, at and around Mondays, over windows that cut weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
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
from learntogether.services.time_zones import COUNTRY_TIMEZONES
from tests.report_builders import add_cohort, add_learner, record

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/Sofia",  # +2/+3, summer time from 29 March 2026
        "Europe/Lisbon",  # 0/+1, summer time from 29 March 2026
        "Europe/Istanbul",  # +3
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
        # Either side of where the roll-up's week ends (3 hours before Monday: Istanbul's
        # midnight), of Sofia's summer midnight, of where it would end if Istanbul (+3) were
        # forgotten, of the Monday itself, and of Kiritimati's (+14) and Pago Pago's (-11)
        # midnights, which the roll-up does not serve.
        (
            -14 * 60 - 1,
            -14 * 60,
            -3 * 60 - 1,
            -3 * 60,
            -2 * 60 - 1,
            -2 * 60,
            -1,
            0,
            11 * 60 - 1,
            11 * 60,
        )
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
    for minutes in (-15 * 60, -3 * 60 - 1, -3 * 60, -1, 0, 14 * 60, 3 * 24 * 60):
        await record(session, ana, Verb.ATTENDED, MONDAYS[1] + timedelta(minutes=minutes))
    await record(session, boris, Verb.JOINED, MONDAYS[3] + timedelta(days=6, hours=20, minutes=59))
    written = await _weeks(session)
    # From Monday 00:00 to Sunday 21:00 (UTC) is in the week from UTC to UTC+3.
    assert [(row[0], row[1], row[-5]) for row in written] == [
        (MONDAYS[0].date(), ana.id, 2),
        (MONDAYS[1].date(), ana.id, 3),
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
    await record(session, ana, Verb.JOINED, MONDAYS[1] - timedelta(hours=1))
    assert await session.scalar(select(func.count()).select_from(ParticipationMonth)) == 1
    assert await _weeks(session) == []
    assert await activity_log.rebuild_if_missing(await session.connection()) is False


def test_a_week_is_read_from_the_roll_up_only_when_its_inside_is_in_the_window() -> None:
    first, second, third = (monday.date() for monday in MONDAYS[:3])
    assert week_interior(second) == (
        datetime(2026, 3, 9, tzinfo=UTC),
        datetime(2026, 3, 15, 21, tzinfo=UTC),
    )
    every = split_periods(Window(), WEEKS, first, third, zone=UTC_ZONE)
    assert every.periods == (first, third)
    assert every.ranges[1] == (week_interior(first)[1], week_interior(second)[0])
    # The week of 9 March in Sofia (+2): 8 March 22:00 UTC to 15 March 22:00 UTC.
    sofia = ZoneInfo("Europe/Sofia")
    in_sofia = Window.of_dates(second, date(2026, 3, 15), sofia)
    split = split_periods(in_sofia, WEEKS, first, third, zone=sofia)
    assert split.periods == (second, second)
    assert split.ranges == [
        (in_sofia.since, week_interior(second)[0]),
        (week_interior(second)[1], in_sofia.until),
    ]
    # Monday to Saturday: no week, the counts alone.
    short = Window.of_dates(second, date(2026, 3, 14), UTC_ZONE)
    assert split_periods(short, WEEKS, first, third, zone=UTC_ZONE).periods is None


@pytest.mark.parametrize(
    ("name", "served"),
    [
        ("UTC", True),
        ("Europe/Lisbon", True),  # 0/+1
        ("Europe/Madrid", True),  # +1/+2
        ("Europe/Sofia", True),  # +2/+3
        ("Europe/Istanbul", True),  # +3
        ("Atlantic/Azores", False),  # -1/0
        ("Europe/Samara", False),  # +4
        ("America/Los_Angeles", False),
        ("Asia/Kathmandu", False),
    ],
)
def test_the_weeks_roll_up_serves_the_programmes_clocks_and_no_other(
    name: str, served: bool
) -> None:
    """Weeks in a zone from UTC to three hours ahead are read from the roll-up; on another
    clock, a week's last hours or first (UTC) are in another week there, so the counts alone
    are read."""
    zone = ZoneInfo(name)
    first, last = MONDAYS[0].date(), MONDAYS[-1].date()
    assert WEEKS.serves(zone, first, last) is served
    split = split_periods(Window(), WEEKS, first, last, zone=zone)
    assert (split.periods is not None) is served
    assert CALENDARS[Period.MONTH].serves(zone, first, last)


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


def test_every_programme_countrys_clock_is_served_by_the_weeks_roll_up() -> None:
    """The console offers reports in UTC and in each programme country's zone: all of them read
    whole weeks from the roll-up (a country on another clock would read the counts alone)."""
    first, last = date(2020, 1, 6), date(2030, 12, 30)
    for name in ("UTC", *COUNTRY_TIMEZONES.values()):
        assert WEEKS.serves(ZoneInfo(name), first, last), name
