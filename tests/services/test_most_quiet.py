"""The cohorts with the most members gone quiet, counted at once over every cohort."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import Cohort, Membership, UserStatus
from learntogether.services import cohorts
from learntogether.services.actors import SYSTEM
from tests.factories import mediating
from tests.report_builders import add_cohort, add_learner


async def _cohort(session: AsyncSession, code: str, *, nudge_after_days: int = 7) -> Cohort:
    cohort = await add_cohort(session, code, region="Sliven", municipality="Sliven")
    cohort.nudge_after_days = nudge_after_days
    return cohort


async def _members(
    session: AsyncSession,
    cohort: Cohort,
    days_idle: Sequence[int | None],
    status: UserStatus = UserStatus.ACTIVE,
) -> None:
    """Members last active that many days ago (None: never, and joined 30 days ago)."""
    now = utcnow()
    for idle in days_idle:
        learner = await add_learner(session, cohort=cohort)
        learner.last_active_at = now - timedelta(days=idle) if idle is not None else None
        learner.status = status
        if idle is None:
            await session.execute(
                update(Membership)
                .where(Membership.user_id == learner.id)
                .values(joined_at=now - timedelta(days=30))
            )
    await session.flush()


def _named(found: list[tuple[cohorts.CohortInfo, int]]) -> list[tuple[str, int]]:
    return [(cohort.code, quiet) for cohort, quiet in found]


async def test_each_cohort_counts_its_members_quiet_for_its_own_days(
    session: AsyncSession,
) -> None:
    weekly = await _cohort(session, "WEEK", nudge_after_days=7)
    fortnightly = await _cohort(session, "FORT", nudge_after_days=14)
    await _members(session, weekly, [10, 10, 1])
    await _members(session, fortnightly, [10, 10, 10, 20])
    found = await cohorts.most_quiet(session, actor=SYSTEM, limit=5)
    assert _named(found) == [("WEEK", 2), ("FORT", 1)]
    assert [cohort.members for cohort, _ in found] == [3, 4]
    counts = await cohorts.quiet_counts(session, actor=SYSTEM, codes=["WEEK", "FORT"])
    assert counts == {"WEEK": 2, "FORT": 1}


async def test_most_quiet_first_then_by_name_at_most_the_limit(session: AsyncSession) -> None:
    for code, quiet in [("C", 2), ("A", 1), ("B", 2), ("D", 3)]:
        await _members(session, await _cohort(session, code), [9] * quiet)
    found = await cohorts.most_quiet(session, actor=SYSTEM, limit=3)
    assert _named(found) == [("D", 3), ("B", 2), ("C", 2)]


async def test_blocked_members_archived_and_lively_cohorts_are_left_out(
    session: AsyncSession,
) -> None:
    lively = await _cohort(session, "LIVE")
    await _members(session, lively, [1, 2])
    blocked = await _cohort(session, "BLOCK")
    await _members(session, blocked, [30], status=UserStatus.BLOCKED)
    archived = await _cohort(session, "OLD")
    await _members(session, archived, [30])
    archived.archived_at = utcnow()
    never = await _cohort(session, "NEVER")
    await _members(session, never, [None])
    newcomers = await _cohort(session, "NEW")
    await _members(session, newcomers, [None])
    await session.execute(
        update(Membership)
        .where(Membership.cohort_id == newcomers.id)
        .values(joined_at=utcnow() - timedelta(days=2))
    )
    assert _named(await cohorts.most_quiet(session, actor=SYSTEM, limit=5)) == [("NEVER", 1)]


async def test_a_mediator_ranks_their_own_cohorts_only(session: AsyncSession) -> None:
    mine = await _cohort(session, "MINE")
    await _members(session, mine, [30])
    other = await _cohort(session, "OTHER")
    await _members(session, other, [30, 30])
    assert _named(await cohorts.most_quiet(session, actor=mediating(mine.id), limit=5)) == [
        ("MINE", 1)
    ]
    assert await cohorts.most_quiet(session, actor=mediating(), limit=5) == []
