"""Time the nudge sweep over a seeded database (see ``bench/seed.py``).

    .venv/bin/python -m bench.nudges --database-url postgresql://postgres@127.0.0.1:5432/lt_bench

Runs the sweep ``--runs`` times, each in a transaction that is rolled back (nothing is sent),
and prints the time to find the quiet learners and the time of the whole sweep including the
outbox rows it writes. Baseline, in the same run: ``SELECT count(*) FROM users``. Goal: the sweep
over 100,000 learners in under a second on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sqlalchemy import func, select

from learntogether.config import Settings
from learntogether.db.base import utcnow
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.models import User
from learntogether.services import reminders


async def main(url: str, runs: int) -> None:
    engine = create_engine(Settings(_env_file=None, database_url=url).database_url)
    session_maker = create_session_maker(engine)
    for _ in range(runs):
        async with session_maker() as session:
            started = time.perf_counter()
            learners = await session.scalar(select(func.count()).select_from(User)) or 0
            baseline = time.perf_counter() - started
            started = time.perf_counter()
            quiet, recent = await reminders.quiet_members(session, now=utcnow(), cohort_ids=None)
            finding = time.perf_counter() - started
            started = time.perf_counter()
            result = await reminders.send_nudges(session)
            sweep = time.perf_counter() - started
            await session.rollback()
        print(
            f"{learners:,} learners: baseline {baseline * 1000:.0f} ms; quiet learners found in "
            f"{finding * 1000:.0f} ms (×{finding / baseline:.1f}; {len(quiet):,} quiet, {recent:,} "
            f"nudged this week); whole sweep with {result.nudged:,} outbox rows "
            f"{sweep * 1000:.0f} ms"
        )
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database_url, arguments.runs))
