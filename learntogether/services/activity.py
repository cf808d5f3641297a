"""The append-only participation record that reports read.

Each row copies the learner's role, locale and place as they were at the time, so reports need no
joins and stay right after a learner moves or erases their data. Each is also added to the
participation counts (``reports/rollup.py``) in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Activity, Membership, User, Verb
from learntogether.services.reports import rollup


async def latest_cohort_id(session: AsyncSession, user_id: int) -> int | None:
    return await session.scalar(
        select(Membership.cohort_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.joined_at.desc(), Membership.id.desc())
        .limit(1)
    )


async def record(
    session: AsyncSession,
    learner: User,
    verb: Verb,
    *,
    cohort_id: int | None = None,
    track_id: int | None = None,
    lesson_id: int | None = None,
    lesson_version_id: int | None = None,
    question_key: str | None = None,
    score: float | None = None,
    assisted: bool = False,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Activity:
    """Record what ``learner`` did or received, with who they are now, and count it.

    ``cohort_id`` defaults to the cohort the learner joined last; ``occurred_at`` to now.
    """
    row = Activity(
        user_id=learner.id,
        verb=verb,
        cohort_id=cohort_id
        if cohort_id is not None
        else await latest_cohort_id(session, learner.id),
        track_id=track_id,
        lesson_id=lesson_id,
        lesson_version_id=lesson_version_id,
        question_key=question_key,
        score=score,
        assisted=assisted,
        role=learner.role,
        locale=learner.locale,
        country=learner.country,
        region=learner.region,
        municipality=learner.municipality,
        data=data,
    )
    if occurred_at is not None:
        row.occurred_at = occurred_at
    session.add(row)
    await session.flush()
    await rollup.add(session, row)
    return row
