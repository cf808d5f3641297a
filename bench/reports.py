"""Time each report on a seeded database (see ``bench/seed.py``).

    .venv/bin/python -m bench.reports --database-url postgresql://postgres@127.0.0.1:5432/lt_bench

Migrates the database to head first (so the report indexes exist), vacuums and analyses it,
then runs every report ``--runs`` times and prints the best and median times. The baseline,
measured in the same run, is a plain ``SELECT count(*) FROM activities``: the ratio says how many
full-table counts a report costs on this machine, which travels between machines better than
milliseconds do. Goals: participation by region < 300 ms, item analysis < 1 s (PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.config import Settings
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.migrate import upgrade
from learntogether.db.models import Activity, Lesson, Track, Verb
from learntogether.services import reports
from learntogether.services.reports import GroupBy, Period

Report = Callable[[AsyncSession], Awaitable[object]]
SOFIA = ZoneInfo("Europe/Sofia")


async def _busiest(session: AsyncSession) -> tuple[str, str]:
    """The lesson with the most answers, and the track with a survey (the first track)."""
    lesson = await session.scalar(
        select(Lesson.slug)
        .join(Activity, Activity.lesson_id == Lesson.id)
        .where(Activity.verb == Verb.ANSWERED)
        .group_by(Lesson.slug)
        .order_by(func.count().desc())
        .limit(1)
    )
    track = await session.scalar(select(Track.slug).order_by(Track.position).limit(1))
    if lesson is None or track is None:
        raise SystemExit("seed the database first: python -m bench.seed")
    return lesson, track


async def _time(
    session_factory: Callable[[], AsyncSession], report: Report, runs: int
) -> list[float]:
    times = []
    for _ in range(runs):
        async with session_factory() as session:
            started = time.perf_counter()
            await report(session)
            times.append(time.perf_counter() - started)
    return times


async def main(url: str, runs: int) -> None:
    engine = create_engine(Settings(_env_file=None, database_url=url).database_url)
    await upgrade(engine)
    # Fresh statistics, and on PostgreSQL a visibility map, so index-only scans can be used.
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        vacuum = "VACUUM ANALYZE" if engine.url.get_backend_name() == "postgresql" else "ANALYZE"
        await autocommit.execute(text(vacuum))
    session_maker = create_session_maker(engine)
    async with session_maker() as session:
        lesson, track = await _busiest(session)
        rows = await session.scalar(select(func.count()).select_from(Activity))
        latest = await session.scalar(select(func.max(Activity.occurred_at)))
    # The last three full months (in Sofia) the seed covers.
    quarter_end = (latest or datetime.now(UTC)).astimezone(SOFIA).date().replace(day=1)
    quarter_end -= timedelta(days=1)
    quarter_start = (quarter_end - timedelta(days=80)).replace(day=1)

    async def baseline(session: AsyncSession) -> object:
        return await session.scalar(select(func.count()).select_from(Activity))

    timed: list[tuple[str, Report, float | None]] = [
        ("baseline: count(*) activities", baseline, None),
        (
            "participation by region",
            lambda s: reports.participation(s, group_by=GroupBy.REGION),
            0.3,
        ),
        (
            "participation by cohort",
            lambda s: reports.participation(s, group_by=GroupBy.COHORT),
            None,
        ),
        (
            "participation by region, three months (Sofia)",
            lambda s: reports.participation(
                s, group_by=GroupBy.REGION, start=quarter_start, end=quarter_end, zone=SOFIA
            ),
            None,
        ),
        (
            "participation by region and month (Sofia)",
            lambda s: reports.participation(
                s, group_by=GroupBy.REGION, period=Period.MONTH, zone=SOFIA
            ),
            None,
        ),
        (f"funnel of {track}", lambda s: reports.funnel(s, track=track), None),
        (f"item analysis of {lesson}", lambda s: reports.questions(s, lesson=lesson), 1.0),
        (
            f"awareness of {track} by region",
            lambda s: reports.awareness(s, track=track, group_by=GroupBy.REGION),
            None,
        ),
    ]
    print(f"{engine.url.get_backend_name()}: {rows:,} activities; best and median of {runs} runs")
    # The goals are set for PostgreSQL, the production database; SQLite's figures are shown beside.
    where = "" if engine.url.get_backend_name() == "postgresql" else " (a PostgreSQL goal)"
    base: float | None = None
    for name, report, goal in timed:
        times = await _time(session_maker, report, runs)
        best, median = min(times), statistics.median(times)
        base = base or best
        verdict = (
            ""
            if goal is None
            else f"  goal {goal * 1000:.0f} ms {'met' if best < goal else 'NOT met'}{where}"
        )
        print(
            f"  {name:45} best {best * 1000:8.1f} ms  median {median * 1000:8.1f} ms  ×{best / base:6.1f}{verdict}"
        )
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database_url, arguments.runs))
