"""Participation by month from the months' roll-up, and of all time from each learner's totals:
the same figures as the activity record gives, in every time zone, at and around month
boundaries, over any window of days."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db import activity_log
from learntogether.db.activity_log import LEARNER_KEY_COLUMNS, month_interior
from learntogether.db.models import LessonReach, ParticipationMonth, ParticipationTotal, User, Verb
from learntogether.db.models.activity import PARTICIPATION_FIGURES
from learntogether.services.reports import Figure, GroupBy, Period, participation
from learntogether.services.reports.participation import by_group_with_totals
from learntogether.services.reports.query import CALENDARS, Window, split_periods
from tests.report_builders import add_cohort, add_learner, add_track, record

ZONES = [
    ZoneInfo(name)
    for name in (
        "Pacific/Kiritimati",  # +14
        "Pacific/Pago_Pago",  # -11
        "Asia/Kathmandu",  # +5:45
        "America/St_Johns",  # -3:30, and daylight saving time
        "Europe/Sofia",  # +2/+3
        "Etc/GMT+12",  # -12
        "UTC",
    )
]
UTC_ZONE = ZoneInfo("UTC")
FIGURES = [Figure.JOINED, Figure.ACTIVE, Figure.ATTENDED, Figure.REVIEWED, Figure.CERTIFICATES]
VERBS = [Verb.JOINED, Verb.ATTENDED, Verb.REVIEWED, Verb.CERTIFIED, Verb.REMINDED]
OWN = {Verb.JOINED, Verb.ATTENDED, Verb.REVIEWED}
BOUNDARIES = [datetime(2026, month, 1, tzinfo=UTC) for month in (1, 2, 3, 4)]
WINDOWS: list[tuple[date | None, date | None]] = [
    (None, None),
    (date(2026, 1, 1), date(2026, 2, 28)),
    (date(2026, 1, 15), date(2026, 3, 1)),
    (None, date(2026, 2, 1)),
    (date(2026, 3, 31), None),
]

Event = tuple[User, str | None, Verb, datetime]
MONTHS = CALENDARS[Period.MONTH]


def _moment(chance: random.Random) -> datetime:
    """Mostly within 16 hours of a month boundary (UTC), at any minute; sometimes mid-month."""
    boundary = chance.choice(BOUNDARIES)
    if chance.random() < 0.8:
        return boundary + timedelta(minutes=chance.randint(-16 * 60, 16 * 60))
    return boundary + timedelta(days=chance.randint(2, 25), minutes=chance.randint(0, 1439))


def _expected(
    events: list[Event],
    zone: ZoneInfo,
    window: tuple[date | None, date | None],
    grouped: bool,
    monthly: bool = True,
) -> dict[tuple[Any, str | None], dict[str, int]]:
    """The figures from the events themselves, by (region, local month)."""
    named = {Verb.ATTENDED: "attended", Verb.REVIEWED: "reviewed", Verb.CERTIFIED: "certificates"}
    learners: dict[tuple[Any, str | None], dict[str, set[int]]] = {}
    records: dict[tuple[Any, str | None], dict[str, int]] = {}
    start, end = window
    for learner, region, verb, moment in events:
        day = moment.astimezone(zone).date()
        if verb is Verb.REMINDED or (start and day < start) or (end and day > end):
            continue
        key = (region if grouped else None, day.replace(day=1).isoformat() if monthly else None)
        who = learners.setdefault(key, {"joined": set(), "active": set()})
        counted = records.setdefault(key, dict.fromkeys(named.values(), 0))
        if verb in OWN:
            who["active"].add(learner.id)
        if verb is Verb.JOINED:
            who["joined"].add(learner.id)
        if verb in named:
            counted[named[verb]] += 1
    return {
        key: {**{name: len(ids) for name, ids in learners[key].items()}, **records[key]}
        for key in records
    }


async def _world(session: AsyncSession, seed: int) -> list[Event]:
    chance = random.Random(seed)
    cohorts = [
        await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven"),
        await add_cohort(session, "PLV1", region="Plovdiv", municipality="Plovdiv"),
    ]
    people = [
        (await add_learner(session, cohort=cohorts[n % 2]), cohorts[n % 2].region) for n in range(6)
    ]
    events: list[Event] = []
    for _ in range(70):
        learner, region = chance.choice(people)
        verb = chance.choice(VERBS)
        moment = _moment(chance)
        await record(session, learner, verb, moment)
        events.append((learner, region, verb, moment))
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_months_in_every_zone_equal_the_record(session: AsyncSession, seed: int) -> None:
    events = await _world(session, seed)
    rolled = await session.scalar(select(func.count()).select_from(ParticipationMonth))
    assert rolled, "some activities are inside their month: the roll-up is read"
    for zone in ZONES:
        for window in WINDOWS:
            for grouped in (True, False):
                table = await participation(
                    session,
                    group_by=GroupBy.REGION if grouped else None,
                    period=Period.MONTH,
                    zone=zone,
                    start=window[0],
                    end=window[1],
                    figures=FIGURES,
                )
                found = {
                    (row.get("region"), str(row["period"])): {
                        figure.value: row[figure.value] for figure in FIGURES
                    }
                    for row in table.rows
                }
                assert found == _expected(events, zone, window, grouped), (zone, window, grouped)


async def test_all_time_figures_from_each_learners_totals_equal_the_record(
    session: AsyncSession,
) -> None:
    events = await _world(session, 5)
    assert await session.scalar(select(func.count()).select_from(ParticipationTotal))
    table, totals = await by_group_with_totals(session, GroupBy.REGION, figures=FIGURES)
    found = {
        (row["region"], None): {figure.value: row[figure.value] for figure in FIGURES}
        for row in table.rows
    }
    utc = ZoneInfo("UTC")
    assert found == _expected(events, utc, (None, None), grouped=True, monthly=False)
    assert {(None, None): totals} == _expected(events, utc, (None, None), False, monthly=False)


async def _months(session: AsyncSession) -> list[tuple[Any, ...]]:
    """The months' and totals' roll-ups per key, however they are split between rows."""
    found: list[tuple[Any, ...]] = []
    for table in (ParticipationMonth, ParticipationTotal):
        keys = [getattr(table, k) for k in LEARNER_KEY_COLUMNS]
        if table is ParticipationMonth:
            keys.insert(0, ParticipationMonth.month)
        rows = await session.execute(
            select(*keys, *(func.sum(getattr(table, f)) for f in PARTICIPATION_FIGURES))
            .group_by(*keys)
            .order_by(*keys)
        )
        found.extend(tuple(row) for row in rows)
    return found


async def test_the_roll_up_kept_while_writing_equals_a_rebuild_and_is_built_when_missing(
    session: AsyncSession,
) -> None:
    await _world(session, 4)
    written = await _months(session)
    assert written
    await activity_log.rebuild(session)
    assert await _months(session) == written
    await session.execute(delete(ParticipationMonth))
    await session.execute(delete(ParticipationTotal))
    connection = await session.connection()
    assert await activity_log.rebuild_if_missing(connection) is True
    assert await _months(session) == written
    assert await activity_log.rebuild_if_missing(connection) is False


def test_a_month_is_read_from_the_roll_up_only_when_its_inside_is_in_the_window() -> None:
    january, february, march = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    jan_in, jan_out = month_interior(january)
    assert (jan_in, jan_out) == (
        datetime(2026, 1, 1, 14, tzinfo=UTC),
        datetime(2026, 1, 31, 10, tzinfo=UTC),
    )
    feb_in, feb_out = month_interior(february)
    # Everything: all months, the counts before, between and after them.
    every = split_periods(Window(), MONTHS, january, march, zone=UTC_ZONE)
    assert every.periods == (january, march)
    assert every.ranges[:2] == [(None, jan_in), (jan_out, feb_in)]
    assert every.ranges[-1][1] is None
    # February in Kiritimati (+14): 31 January 10:00 UTC to 28 February 10:00 UTC; February's
    # inside ends at 27 February 10:00, so it is read from the roll-up.
    kiritimati_zone = ZoneInfo("Pacific/Kiritimati")
    kiritimati = Window.of_dates(february, date(2026, 2, 28), kiritimati_zone)
    split = split_periods(kiritimati, MONTHS, january, march, zone=kiritimati_zone)
    assert split.periods == (february, february)
    assert split.ranges == [(kiritimati.since, feb_in), (feb_out, kiritimati.until)]
    # Half a month: no month, the counts alone.
    half = Window.of_dates(date(2026, 2, 10), date(2026, 3, 20), ZoneInfo("UTC"))
    assert split_periods(half, MONTHS, january, march, zone=UTC_ZONE).periods is None
    assert split_periods(Window(), MONTHS, None, None, zone=UTC_ZONE).ranges == [(None, None)]


async def test_every_missing_roll_up_is_built_at_once(session: AsyncSession) -> None:
    """A database that gets the months and totals while its lesson reach is missing too (one
    upgrade over several revisions) has all of them built by the same ``db upgrade``."""
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    _, (lesson,) = await add_track(session, "mixed", lessons=1)
    ana = await add_learner(session, cohort=sliven)
    await record(session, ana, Verb.STARTED, datetime(2026, 1, 10, 9, tzinfo=UTC), lesson=lesson)
    written = await _months(session)
    for table in (ParticipationMonth, ParticipationTotal, LessonReach):
        await session.execute(delete(table))
    connection = await session.connection()
    assert await activity_log.rebuild_if_missing(connection) is True
    assert await _months(session) == written
    assert await session.scalar(select(func.count()).select_from(LessonReach)) == 1
