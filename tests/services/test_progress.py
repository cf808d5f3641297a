from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Verb
from learntogether.services.progress import streak, summary
from tests.report_builders import add_cohort, add_learner, at, record

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


async def test_streak_days_are_the_learners_days_in_their_countrys_zone(
    session: AsyncSession,
) -> None:
    """No zone chosen: a Bulgarian learner's day is Sofia's (UTC+2 in January), not UTC's."""
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    in_sofia = await add_learner(session, cohort=cohort)
    in_utc = await add_learner(session, cohort=cohort)
    in_utc.timezone = "UTC"
    for learner in (in_sofia, in_utc):
        # 00:30 and 14:00 on 6 January in Sofia; 5 and 6 January in UTC.
        await record(session, learner, Verb.JOINED, at(5, 22, 30))
        await record(session, learner, Verb.STARTED, at(6, 12))
    now = at(6, 13)
    sofia = await summary(session, learner=in_sofia, chain=["bg", "en"], now=now)
    utc = await summary(session, learner=in_utc, chain=["bg", "en"], now=now)
    assert (sofia.streak_days, utc.streak_days) == (1, 2)
    assert (sofia.certificates, sofia.lessons_started) == (0, 0)
