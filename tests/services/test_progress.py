from __future__ import annotations

from datetime import date

import pytest

from learntogether.services.progress import streak

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (set(), 0),
        ({TODAY}, 1),
        ({date(2026, 11, 22)}, 1),
        ({TODAY, date(2026, 11, 22), date(2026, 11, 21)}, 3),
        ({date(2026, 11, 22), date(2026, 11, 20)}, 1),
        ({date(2026, 11, 21)}, 0),
    ],
)
def test_streak_counts_days_in_a_row_ending_today_or_yesterday(
    days: set[date], expected: int
) -> None:
    assert streak(days, TODAY) == expected
