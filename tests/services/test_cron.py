"""Cron schedules: standard cron's meaning, real dates on the reminder's clock, and what is refused."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from learntogether.services.cron import check_cron, next_run, validate_cron
from learntogether.services.errors import InvalidInput

SOFIA = ZoneInfo("Europe/Sofia")
# Saturday 21 November 2026, the last minute before Sunday in UTC.
SATURDAY_NIGHT = datetime(2026, 11, 21, 23, 59, tzinfo=UTC)
# Monday 23 November 2026, 16:00:30 UTC.
NOW = datetime(2026, 11, 23, 16, 0, 30, tzinfo=UTC)


def runs(cron: str, zone: str, *, after: datetime, until: datetime) -> list[datetime]:
    found: list[datetime] = []
    while (run := next_run(cron, zone, after=after)) is not None and run < until:
        found.append(run)
        after = run
    return found


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def refusal(cron: str, *, zone: str = "Europe/Sofia", at_most_hourly: bool = False) -> str:
    """The one problem ``check_cron`` finds, which must name ``$.cron``."""
    with pytest.raises(InvalidInput) as refused:
        check_cron(cron, zone, at_most_hourly=at_most_hourly, now=NOW)
    [problem] = refused.value.problems
    assert problem.path == "$.cron"
    return problem.message


@pytest.mark.parametrize(
    ("weekday", "days"),
    [
        ("*", "Sun Mon Tue Wed Thu Fri Sat"),
        ("1", "Mon"),
        ("0", "Sun"),
        ("7", "Sun"),
        ("1-5", "Mon Tue Wed Thu Fri"),
        ("5-7", "Sun Fri Sat"),
        ("0,6", "Sun Sat"),
        ("*/2", "Sun Tue Thu Sat"),
        ("1/2", "Sun Mon Wed Fri"),
        ("1-5/2", "Mon Wed Fri"),
        ("MON-wed", "Mon Tue Wed"),
        ("sun,3", "Sun Wed"),
        ("Fri", "Fri"),
    ],
)
def test_weekdays_are_counted_from_sunday_as_cron_does(weekday: str, days: str) -> None:
    """APScheduler 3 reads weekday 1 as Tuesday; cron, and everyone writing it, as Monday."""
    week = runs(
        f"0 9 * * {weekday}",
        "UTC",
        after=SATURDAY_NIGHT,
        until=SATURDAY_NIGHT + timedelta(days=7),
    )
    assert all(run.time().isoformat() == "09:00:00" for run in week)
    assert {run.strftime("%a") for run in week} == set(days.split())
    assert len(week) == len(days.split())


@pytest.mark.parametrize(
    ("cron", "first"),
    [
        ("0 9 * jan-mar mon-fri", utc(2027, 1, 1, 9, 0)),  # the first weekday of January
        ("0 9 1 JUL *", utc(2027, 7, 1, 9, 0)),
        ("0 9 1 7 *", utc(2027, 7, 1, 9, 0)),
        ("15 8 * dec sat", utc(2026, 12, 5, 8, 15)),
        ("0 12 1-7 */3 *", utc(2027, 1, 1, 12, 0)),  # months 1, 4, 7, 10
        ("0 9 L-31 * *", None),
    ],
)
def test_names_ranges_and_steps_mean_what_cron_says(cron: str, first: datetime | None) -> None:
    if first is None:
        with pytest.raises(ValueError, match="day of the month"):
            validate_cron(cron)
        return
    assert next_run(cron, "UTC", after=NOW) == first


@pytest.mark.parametrize(
    ("cron", "days"),
    [
        # Both restricted: the 1st of the month or a Monday, as standard cron runs it.
        ("0 9 1 * 1", ["Mon 30 Nov", "Tue 01 Dec", "Mon 07 Dec"]),
        ("0 9 1 * mon", ["Mon 30 Nov", "Tue 01 Dec", "Mon 07 Dec"]),
        # Debian's cron would want both here, a field starting with * counting as unrestricted;
        # standard cron wants either: odd days (25, 27, 29, 1…) or a Monday (30).
        ("0 9 */2 * 1", ["Wed 25 Nov", "Fri 27 Nov", "Sun 29 Nov", "Mon 30 Nov", "Tue 01 Dec"]),
        ("0 9 13 * */5", ["Fri 27 Nov", "Sun 29 Nov", "Fri 04 Dec"]),
        # One of them *: the other alone.
        ("0 9 1 * *", ["Tue 01 Dec", "Fri 01 Jan"]),
        ("0 9 * * 1", ["Mon 30 Nov", "Mon 07 Dec"]),
    ],
)
def test_a_day_of_the_month_and_a_weekday_run_on_either(cron: str, days: list[str]) -> None:
    after = datetime(2026, 11, 24, 12, tzinfo=UTC)
    found = runs(cron, "UTC", after=after, until=after + timedelta(days=60))
    assert [run.strftime("%a %d %b") for run in found[: len(days)]] == days


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Summer time begins on Sunday 29 March: 18:00 in Sofia moves from 16:00 to 15:00 UTC.
        (utc(2026, 3, 20), [utc(2026, 3, 23, 16), utc(2026, 3, 30, 15)]),
        # ... and ends on Sunday 25 October: back from 15:00 to 16:00 UTC.
        (utc(2026, 10, 17), [utc(2026, 10, 19, 15), utc(2026, 10, 26, 16)]),
    ],
)
def test_a_weekly_reminder_keeps_its_time_on_sofias_clock_across_summer_time(
    after: datetime, expected: list[datetime]
) -> None:
    found = runs("0 18 * * 1", "Europe/Sofia", after=after, until=after + timedelta(days=14))
    assert found == expected
    assert {run.astimezone(SOFIA).strftime("%a %H:%M") for run in found} == {"Mon 18:00"}


def test_a_run_in_the_hour_skipped_in_march_comes_right_after_it() -> None:
    """03:30 does not exist in Sofia on 29 March 2026 (03:00 EET is 04:00 EEST)."""
    found = runs("30 3 * * *", "Europe/Sofia", after=utc(2026, 3, 28, 12), until=utc(2026, 3, 31))
    assert [run.astimezone(SOFIA).isoformat() for run in found] == [
        "2026-03-29T04:00:00+03:00",
        "2026-03-30T03:30:00+03:00",
    ]


def test_a_run_in_the_hour_repeated_in_october_comes_once() -> None:
    """03:30 comes twice in Sofia on 25 October 2026 (EEST, then EET); the reminder once."""
    found = runs("30 3 * * *", "Europe/Sofia", after=utc(2026, 10, 24, 12), until=utc(2026, 10, 27))
    assert [run.astimezone(SOFIA).isoformat() for run in found] == [
        "2026-10-25T03:30:00+03:00",
        "2026-10-26T03:30:00+02:00",
    ]
    # From the second 03:10, the first 03:30 is past: the next run is tomorrow's, not that one.
    second_pass = utc(2026, 10, 25, 1, 10)
    assert second_pass.astimezone(SOFIA).strftime("%H:%M %Z") == "03:10 EET"
    assert next_run("30 3 * * *", "Europe/Sofia", after=second_pass) == utc(2026, 10, 26, 1, 30)


@pytest.mark.parametrize(
    ("start", "end"),
    [(utc(2026, 3, 28, 22), utc(2026, 3, 29, 3)), (utc(2026, 10, 24, 22), utc(2026, 10, 25, 3))],
)
def test_an_hourly_reminder_stays_hourly_across_summer_time(start: datetime, end: datetime) -> None:
    found = runs("0 * * * *", "Europe/Sofia", after=start, until=end)
    assert [run.astimezone(UTC) for run in found] == [
        start + timedelta(hours=hour) for hour in range(1, 5)
    ]


@pytest.mark.parametrize(
    ("cron", "field"),
    [
        ("0 9 * * 8", "weekday '8'"),
        ("0 9 * * 5-1", "weekday '5-1'"),
        ("0 9 * * */0", "weekday '*/0'"),
        ("0 9 * * 1,", "weekday '1,'"),
        ("0 9 * * funday", "weekday 'funday'"),
        ("0 9 * mon *", "month 'mon'"),
        ("60 9 * * *", "minute '60'"),
        ("0 24 * * *", "hour '24'"),
        ("0 9 0 * *", "day of the month '0'"),
        ("0 9 32 * *", "day of the month '32'"),
        ("0 9 13 0 *", "month '0'"),
        # Not standard cron, though cronsim reads them: Quartz's L, W and #.
        ("0 9 L * *", "day of the month 'L'"),
        ("0 9 15W * *", "day of the month '15W'"),
        ("0 9 * * 5L", "weekday '5L'"),
        ("0 9 * * mon#2", "weekday 'mon#2'"),
        ("0 9 * * 1", None),
    ],
)
def test_what_is_not_standard_cron_is_refused_naming_the_field(
    cron: str, field: str | None
) -> None:
    if field is None:
        assert validate_cron(cron) == cron
        return
    with pytest.raises(ValueError, match="give") as error:
        validate_cron(cron)
    assert str(error.value).startswith(field)
    assert field in refusal(cron)


@pytest.mark.parametrize(
    ("cron", "count"),
    [
        ("0 9 * *", 4),
        ("0 0 9 * * *", 6),  # seconds first, as Quartz and cronsim would take it
        ("@daily", 1),
        ("every day", 2),
        ("", 0),
    ],
)
def test_a_cron_expression_needs_five_fields(cron: str, count: int) -> None:
    assert refusal(cron) == (
        f"not a cron expression: wrong number of fields; got {count}, expected 5"
    )


@pytest.mark.parametrize(
    "cron", ["0 0 31 2 *", "0 0 30 2 *", "0 12 31 4,6,9,11 *", "*/5 * 30-31 feb *"]
)
def test_a_date_that_never_comes_is_refused(cron: str) -> None:
    assert "no run in the next five years" in refusal(cron)
    assert next_run(cron, "Europe/Sofia", after=NOW) is None


def test_a_leap_day_is_a_date_that_comes() -> None:
    check_cron("0 9 29 2 *", "Europe/Sofia", at_most_hourly=True, now=NOW)
    assert next_run("0 9 29 2 *", "UTC", after=NOW) == utc(2028, 2, 29, 9)
    # Except in the five years before 2104: 2100 is no leap year.
    spring_2097 = utc(2097, 3, 1)
    with pytest.raises(InvalidInput, match="cannot be used"):
        check_cron("0 9 29 2 *", "UTC", at_most_hourly=False, now=spring_2097)
    assert next_run("0 9 29 2 *", "UTC", after=spring_2097) == utc(2104, 2, 29, 9)


def test_refusing_a_date_that_never_comes_is_cheap() -> None:
    """APScheduler searched for 31 February for about 130 ms each time; cronsim knows at once."""
    started = time.perf_counter()
    for _ in range(100):
        with pytest.raises(InvalidInput):
            check_cron("0 0 31 2 *", "Europe/Sofia", at_most_hourly=False, now=NOW)
        assert next_run("0 0 31 2 *", "Europe/Sofia", after=NOW) is None
    assert time.perf_counter() - started < 1.0  # about 25 ms on a developer's machine


@pytest.mark.parametrize(
    "cron",
    [
        "* * * * *",
        "*/30 * * * *",
        "0,30 9 * * *",
        "*/45 9 * * *",  # 09:00 and 09:45
        "0,59 9 * * *",
        "0-1 9 * * 1",
        "0,30 9 1 1 *",  # once a year, but twice within that hour
    ],
)
def test_a_mediator_may_not_schedule_more_than_once_an_hour(cron: str) -> None:
    assert "more than once an hour" in refusal(cron, at_most_hourly=True)
    check_cron(cron, "Europe/Sofia", at_most_hourly=False, now=NOW)


@pytest.mark.parametrize(
    "cron", ["0 * * * *", "59 */1 * * *", "0 9,10 * * *", "30 8-17 * * 1-5", "0 18 * * 1"]
)
def test_hourly_or_less_often_is_fine_for_a_mediator(cron: str) -> None:
    check_cron(cron, "Europe/Sofia", at_most_hourly=True, now=NOW)
    found = [
        run.astimezone(UTC)
        for run in runs(cron, "Europe/Sofia", after=NOW, until=NOW + timedelta(days=15))
    ]
    assert min(later - earlier for earlier, later in pairwise(found)) >= timedelta(hours=1)
