"""The scheduler runs its jobs in one process only, and hands over when the leader goes."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.base import utcnow
from learntogether.db.models import Delivery, Lesson, Review, ReviewStatus, User
from learntogether.leadership import FileLeadership, Leadership, leader_exists, leadership_for
from learntogether.scheduler import Jobs, SchedulerRunner
from learntogether.services import player, quizzes
from tests.conftest import TestDatabase
from tests.factories import create_learner, eventually, import_sample_curriculum


async def deliveries(session_maker: async_sessionmaker[AsyncSession]) -> int:
    async with session_maker() as session:
        return await session.scalar(select(func.count()).select_from(Delivery)) or 0


async def test_two_schedulers_run_a_due_reminder_once_and_the_second_takes_over(
    database: TestDatabase, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    learner = await create_learner(session_maker, 9401)
    async with session_maker() as session:
        person = await session.get(type(learner), learner.id)
        assert person is not None
        now = utcnow()
        person.timezone = "UTC"
        person.reminder_time = (now - timedelta(minutes=5)).time().replace(microsecond=0)
        if person.reminder_time > now.time():  # just after midnight: keep it in today's window
            person.reminder_time = time(0, 0)
        await session.commit()
    settings = Settings(_env_file=None, database_url=database.url)

    def leadership() -> Leadership:
        if database.backend == "sqlite":
            return FileLeadership(tmp_path / "scheduler.lock")
        return leadership_for(database.engine)

    runners = [
        SchedulerRunner(
            settings,
            engine=database.engine,
            session_maker=session_maker,
            leadership=leadership(),
            tick_seconds=0.2,
        )
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(runner.run()) for runner in runners]
    try:
        await eventually(lambda: deliveries(session_maker))
        await asyncio.sleep(1)  # several ticks of both
        assert await deliveries(session_maker) == 1
        assert sorted(runner.leading for runner in runners) == [False, True]
        leader = next(runner for runner in runners if runner.leading)
        follower = next(runner for runner in runners if not runner.leading)
        leader.stop()
        await tasks[runners.index(leader)]

        async def took_over() -> bool:
            return follower.leading

        await eventually(took_over)
        assert await deliveries(session_maker) == 1  # the follower's catch-up sends nothing twice
    finally:
        for runner in runners:
            runner.stop()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_scheduler_leads_while_redis_is_configured_but_unreachable(
    database: TestDatabase, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    # Nothing listens on port 1. The lock is the database's: Redis's outage stops no reminder.
    settings = Settings(
        _env_file=None, database_url=database.url, redis_url="redis://127.0.0.1:1/0"
    )
    runner = SchedulerRunner(
        settings, engine=database.engine, session_maker=session_maker, tick_seconds=0.2
    )
    task = asyncio.create_task(runner.run())

    async def leading() -> bool:
        return runner.leading

    try:
        await eventually(leading)
        assert await leader_exists(database.engine)
    finally:
        runner.stop()
        await task
    assert not await leader_exists(database.engine)


async def test_the_review_job_invites_to_a_round_that_fell_due(
    session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    learner = await create_learner(session_maker, 9402)
    async with session_maker() as session:
        person = await session.get(User, learner.id)
        assert person is not None
        lesson_id = await session.scalar(select(Lesson.id))
        assert lesson_id is not None
        view = await player.open_lesson(session, learner=person, lesson_id=lesson_id, chain=["en"])
        question = await quizzes.start_attempt(
            session,
            learner=person,
            progress_id=view.progress_id,
            version_id=view.version_id,
            chain=["en"],
        )
        for index in range(question.count):
            await quizzes.answer(
                session,
                learner=person,
                attempt_id=question.attempt_id,
                index=index,
                chosen=[1],
                chain=["en"],
            )
        await session.execute(
            update(Review)
            .where(Review.after_days == 1)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()

    await Jobs(session_maker).reviews()

    async with session_maker() as session:
        statuses = sorted(
            (row.after_days, row.status) for row in await session.scalars(select(Review))
        )
    assert statuses == [
        (1, ReviewStatus.QUEUED),
        (3, ReviewStatus.SCHEDULED),
        (7, ReviewStatus.SCHEDULED),
    ]
    assert await deliveries(session_maker) == 1


async def test_a_scheduler_lock_in_another_database_is_not_a_leader_here(
    database: TestDatabase,
) -> None:
    """PostgreSQL lists every database's advisory locks in pg_locks: another programme's
    scheduler on the same server does not lead this one's."""
    if database.backend != "postgresql":
        pytest.skip("SQLite's leadership is a file lock next to its database")
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from learntogether.leadership import ADVISORY_KEY

    other = create_async_engine(make_url(database.url).set(database="postgres"))
    try:
        async with other.connect() as connection:
            await connection.scalar(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            try:
                assert not await leader_exists(database.engine)
            finally:
                await connection.scalar(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY}
                )
    finally:
        await other.dispose()
