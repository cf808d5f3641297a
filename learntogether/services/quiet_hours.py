"""Quiet hours: the part of a learner's day when the system sends them nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def quiet_until(
    now: datetime, *, start: time | None, end: time | None, timezone: str
) -> datetime | None:
    """When the learner's quiet hours end (UTC), if ``now`` is inside them; else None.

    ``start``–``end`` is local time in ``timezone`` and may run over midnight (22:00–07:00); the
    start is inside, the end is not. Equal start and end mean no quiet hours.
    """
    if start is None or end is None or start == end:
        return None
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


def covers(at: time, *, start: time | None, end: time | None) -> bool:
    """Whether the wall-clock time ``at`` falls in quiet hours ``start``–``end`` (which may run
    over midnight; the start is inside, the end is not)."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= at < end
    return at >= start or at < end
