"""``learntogether db upgrade|downgrade|recount`` on a fresh SQLite file."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from learntogether.cli import app
from learntogether.db import activity_log as activity
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.migrate import head_revision
from learntogether.db.models import ParticipationCount, Role, User, Verb

runner = CliRunner()


def test_upgrade_downgrade_upgrade_reports_each_revision(sqlite_url: str) -> None:
    env = {"LT_DATABASE_URL": sqlite_url}
    up = runner.invoke(app, ["db", "upgrade"], env=env)
    assert up.exit_code == 0, up.output
    assert up.stdout.strip().endswith(f"is at revision {head_revision()}")
    down = runner.invoke(app, ["db", "downgrade", "base"], env=env)
    assert down.stdout.strip().endswith("is at revision None")
    again = runner.invoke(app, ["db", "upgrade"], env=env)
    assert again.stdout.strip().endswith(f"is at revision {head_revision()}")


def _count_rows(sqlite_url: str, *, record_one_joining: bool = False) -> int:
    """The participation count rows; first, optionally, a learner joins and the counts written
    with it are removed (as in a database from before the counts existed)."""

    async def run() -> int:
        engine = create_engine(sqlite_url)
        try:
            async with create_session_maker(engine)() as session:
                if record_one_joining:
                    learner = User(telegram_id=7, first_name="Ana", role=Role.TEACHER)
                    session.add(learner)
                    await session.flush()
                    await activity.record(session, learner, Verb.JOINED)
                    await session.execute(delete(ParticipationCount))
                    await session.commit()
                rows = await session.scalar(select(func.count()).select_from(ParticipationCount))
                return int(rows or 0)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_builds_missing_counts_and_recount_rebuilds_them(sqlite_url: str) -> None:
    env = {"LT_DATABASE_URL": sqlite_url}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    assert _count_rows(sqlite_url, record_one_joining=True) == 0
    up = runner.invoke(app, ["db", "upgrade"], env=env)
    assert up.exit_code == 0, up.output
    assert _count_rows(sqlite_url) == 1
    recount = runner.invoke(app, ["db", "recount"], env=env)
    assert recount.exit_code == 0, recount.output
    assert recount.stdout.splitlines() == [
        "participation counts rebuilt: 1 rows",
        "item analysis sums rebuilt: 0 rows",
    ]
