"""Input types every front end shares: values the database, the calendar and the zone data hold.

An id beyond the 32-bit column, a moment whose time zone pushes it past the year 9999, a time
zone name the operating system cannot even look up: each is refused where the input is read, as
a field problem, instead of failing as a 500 deep in the database or the standard library.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, Field

MAX_INTEGER = 2**31 - 1
"""An ``Integer`` column holds 32 bits in PostgreSQL."""
MAX_ROW_ID = MAX_INTEGER
"""Row ids are 32-bit integers in both databases."""
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]

# A day or moment this far inside the calendar can be moved by a day or a zone's offset.
FIRST_DAY = date(1, 1, 2)
LAST_DAY = date(9999, 12, 30)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]


def within_calendar(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC) if value.tzinfo is not None else value
    except OverflowError:
        raise ValueError("is beyond the calendar once in UTC") from None
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


Moment = Annotated[datetime, AfterValidator(within_calendar)]
AwareMoment = Annotated[AwareDatetime, AfterValidator(within_calendar)]


def zone_problem(name: str) -> str | None:
    """Why ``name`` is no IANA time zone, or None when it is one."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name too long for a file name is not even looked up.
        return f"'{name[:64]}' is not a time zone (e.g. Europe/Sofia)"
    return None


def _known_zone(name: str) -> str:
    problem = zone_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_known_zone)]
