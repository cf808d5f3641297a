"""Cron schedules of cohort reminders: which expressions are taken, and when they run.

Standard five-field cron (minute hour day month weekday), read by cronsim, which follows Debian's
cron: 0 and 7 are Sunday, 1 Monday; names ``mon``…``sun`` and ``jan``…``dec``; ranges, lists and
steps; with both a day of the month and a weekday given, a day matching either. Runs are on the
reminder's own clock, and cronsim keeps Debian's rules when that clock changes: a run at a fixed
time that falls in the hour skipped in spring comes right after it, and one in the hour repeated
in autumn comes once.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from learntogether.db.base import utcnow
from learntogether.services.errors import FieldProblem, InvalidInput

# A schedule with no run in five years is a mistake (31 February), not a plan.
HORIZON = timedelta(days=5 * 365 + 2)
FIELDS = {
    "minute": "0–59",
    "hour": "0–23",
    "day of the month": "1–31",
    "month": "1–12 or jan…dec",
    "weekday": "0–7 (0 and 7 are Sunday, 1 Monday) or sun…sat",
}
# Standard cron only: cronsim also reads Quartz's L, W and #, and seconds as a sixth field.
_VALUE = r"(?:\d+|[A-Za-z]{3})"
_TERM = rf"(?:\*|{_VALUE}(?:-{_VALUE})?)(?:/\d+)?"
_STANDARD_FIELD = re.compile(rf"{_TERM}(?:,{_TERM})*")
_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def _fields(cron: str) -> list[str]:
    """The five fields of ``cron``; ValueError naming the first that is not standard cron."""
    fields = cron.split()
    if len(fields) != len(FIELDS):
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected {len(FIELDS)}")
    for index, ((name, values), field) in enumerate(zip(FIELDS.items(), fields, strict=True)):
        if not (_STANDARD_FIELD.fullmatch(field) and _readable(index, field)):
            raise ValueError(
                f"{name} '{field}': give {values}, a range (1-5), a list (1,3) or a step (*/2)"
            )
    return fields


def _readable(index: int, field: str) -> bool:
    """Whether cronsim reads ``field`` in place ``index`` with every other field ``*``.

    Alone, so that 31 February reads as a date that never comes (see ``check_cron``), not as
    a bad day of the month, which is what cronsim calls it.
    """
    alone = ["*"] * len(FIELDS)
    alone[index] = field
    try:
        CronSim(" ".join(alone), _ANY_TIME)
    except CronSimError:
        return False
    return True


def _expression(fields: list[str]) -> str:
    """The fields as cronsim should read them to run as standard cron does."""
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        # Both restricted: standard cron runs on either. Debian's cron, and so cronsim, takes a
        # field that starts with * (*/2) as unrestricted and then wants both: spell the * out.
        day = re.sub(r"^\*", "1-31", day)
        weekday = re.sub(r"^\*", "0-7", weekday)
    return " ".join((minute, hour, day, month, weekday))


def validate_cron(cron: str) -> str:
    """``cron`` unchanged when it is standard five-field cron; ValueError saying what is not.

    Only the spelling: whether it ever runs, and how often, is for ``check_cron``.
    """
    _fields(cron)
    return cron


def _runs(fields: list[str], zone: str, after: datetime) -> CronSim:
    """cronsim's runs on ``zone``'s clock; CronSimError when there can be none (31 February)."""
    return CronSim(_expression(fields), after.astimezone(ZoneInfo(zone)))


def _first(runs: CronSim, after: datetime) -> datetime:
    # Debian's rules read the clock without telling autumn's two passes of the repeated hour
    # apart: from the second pass, the first runs found can be in the first, already past.
    # Compared in UTC: Python compares two times in one zone by the clock, ignoring the pass.
    since = after.astimezone(UTC)
    run = next(runs)
    while run.astimezone(UTC) <= since:
        run = next(runs)
    return run


def next_run(cron: str, zone: str, *, after: datetime) -> datetime | None:
    """The first run strictly after ``after``, as a time in ``zone``.

    Two such times compare and subtract by the clock, not by the instant (Python's rule for one
    zone): across autumn's repeated hour, turn them to UTC first.

    None when there is none: an impossible date, or a stored expression that is no longer
    taken; the scheduler skips such a reminder, cheaply, rather than fail on it.
    """
    try:
        return _first(_runs(_fields(cron), zone, after), after)
    except (ValueError, CronSimError, StopIteration):
        return None


def check_cron(cron: str, zone: str, *, at_most_hourly: bool, now: datetime | None = None) -> None:
    """Raise ``InvalidInput`` naming ``$.cron`` unless ``cron`` is a schedule to accept.

    Refused: what is not standard five-field cron, a schedule with no run in the next five years
    (``0 0 31 2 *``), and with ``at_most_hourly`` one that runs more than once an hour.
    """
    try:
        fields = _fields(cron)
    except ValueError as error:
        raise _refused(f"not a cron expression: {error}") from None
    moment = (now or utcnow()).astimezone(UTC)
    try:
        runs = _runs(fields, zone, moment)
        upcoming = _first(runs, moment)
    except (CronSimError, StopIteration):
        raise _never(cron, fields) from None
    if upcoming - moment > HORIZON:
        raise _never(cron, fields)
    # Every hour it runs in, it runs at each of its minutes; with one minute, its runs are an
    # hour or more apart on the clock. So more than one minute is more than once an hour,
    # however rare the days (0,30 9 1 1 *). Only summer time brings two runs closer, once a
    # year: 30 3,4 * * * runs at 04:00 and 04:30 the day 03:30 is skipped.
    if at_most_hourly and len(runs.minutes) > 1:
        raise _refused(
            f"'{cron}' runs more than once an hour; a mediator's reminder may run at most "
            "hourly: give one minute (0 * * * *)"
        )


def _never(cron: str, fields: list[str]) -> InvalidInput:
    # In standard cron only a day of the month and a month can miss each other: any weekday
    # comes within a week.
    return _refused(
        f"'{cron}' has no run in the next five years: day '{fields[2]}' does not come in "
        f"month '{fields[3]}' (like 31 February)"
    )


def _refused(message: str) -> InvalidInput:
    return InvalidInput(
        "The reminder's schedule cannot be used.", [FieldProblem("$.cron", message)]
    )


# A weekly schedule as the console's builder makes it: days of the week and one time of day.
WEEKDAYS = (1, 2, 3, 4, 5, 6, 0)
"""Cron's weekday numbers, Monday first (0 is Sunday)."""
_WEEKLY = re.compile(r"(\d{1,2}) (\d{1,2}) \* \* ([0-7](?:,[0-7])*)")


def weekly_cron(days: Collection[int], at: time) -> str:
    """``"30 18 * * 1,3"`` for Monday and Wednesday at 18:30 (cron's weekday numbers)."""
    chosen = sorted({0 if day == 7 else day for day in days}, key=WEEKDAYS.index)
    if not chosen or any(day not in WEEKDAYS for day in chosen):
        raise ValueError("name one or more days of the week, 0 (Sunday) to 6")
    return f"{at.minute} {at.hour} * * {','.join(map(str, chosen))}"


def weekly_schedule(cron: str) -> tuple[list[int], time] | None:
    """The days (Monday first) and time of a weekly cron as ``weekly_cron`` writes it, else None."""
    match = _WEEKLY.fullmatch(cron.strip())
    if match is None:
        return None
    minute, hour = int(match[1]), int(match[2])
    if minute > 59 or hour > 23:
        return None
    days = {0 if int(day) == 7 else int(day) for day in match[3].split(",")}
    return sorted(days, key=WEEKDAYS.index), time(hour, minute)
