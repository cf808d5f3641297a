"""Quiet hours in the learner's own time zone, over midnight too."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from learntogether.services.quiet_hours import quiet_until

# 2026-11-23 is winter time in Sofia: UTC+2.
SOFIA = "Europe/Sofia"


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start", "end", "expected"),
    [
        (_utc(23, 11), time(13), time(14), _utc(23, 12)),  # 13:00 local: inside, ends 14:00
        (_utc(23, 12), time(13), time(14), None),  # 14:00 local: the end is outside
        (_utc(23, 9), time(13), time(14), None),
        (_utc(23, 21), time(22), time(7), _utc(24, 5)),  # 23:00 local, until 07:00 tomorrow
        (_utc(23, 2), time(22), time(7), _utc(23, 5)),  # 04:00 local, until 07:00 today
        (_utc(23, 10), time(22), time(7), None),
    ],
)
def test_quiet_until_the_local_end(
    now: datetime, start: time, end: time, expected: datetime | None
) -> None:
    assert quiet_until(now, start=start, end=end, timezone=SOFIA) == expected


def test_no_quiet_hours_when_unset_or_empty() -> None:
    now = _utc(23, 12)

    assert quiet_until(now, start=None, end=None, timezone=SOFIA) is None
    assert quiet_until(now, start=time(14), end=time(14), timezone=SOFIA) is None


def test_unknown_time_zone_counts_as_utc() -> None:
    assert quiet_until(_utc(23, 12), start=time(11), end=time(13), timezone="Mars/Base") == _utc(
        23, 13
    )
