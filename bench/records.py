"""Activity record benchmark: the CPU and statements one counted activity costs to write.

    .venv/bin/python -m bench.records                       # SQLite, in a temporary file
    .venv/bin/python -m bench.records --database-url postgresql://postgres@127.0.0.1:5432/lt_bu_x

Learners of one cohort record lesson steps, then quiz answers, as a press does
(``activity_log.record``: the activity and its participation counts, months, weeks, totals and
lesson reach), committing every 50 records, all at one moment (``--at``; by default a Wednesday
in the middle of a month: inside its week and month, so every roll-up is written). CPU seconds
of this process per record (``time.process_time``, which a busy machine disturbs less than wall
time), wall time, and the statements run (transaction control left out) are printed per verb.
The PostgreSQL database must be empty: the tables are created and dropped again.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.config import Settings
from learntogether.db import activity_log
from learntogether.db.base import Base
from learntogether.db.engine import create_engine
from learntogether.db.models import Cohort, Lesson, LessonStatus, Membership, Track, User, Verb

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@dataclass(frozen=True)
class Measured:
    verb: Verb
    cpu_ms: float
    wall_ms: float
    statements: float


MIDWEEK = datetime(2026, 1, 14, 12, tzinfo=UTC)


async def measure(
    url: str, records: int, learners: int = 50, at: datetime = MIDWEEK
) -> list[Measured]:
    """Per verb (step, answer): CPU and wall milliseconds and statements a record."""
    engine = create_engine(Settings(_env_file=None, database_url=url).database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(_CONTROL):
            seen.append(statement)

    results = []
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            cohort = Cohort(
                code="B1", name="B1", country="BG", region="Sliven", municipality="Sliven"
            )
            people = [
                User(telegram_id=n, first_name="Learner", locale="bg", region="Sliven")
                for n in range(learners)
            ]
            track = Track(slug="bench", title={"en": "Bench"}, position=0)
            session.add_all([cohort, track, *people])
            await session.flush()
            lesson = Lesson(
                slug="bench-1", track_id=track.id, position=1, status=LessonStatus.PUBLISHED
            )
            session.add(lesson)
            session.add_all(Membership(cohort_id=cohort.id, user_id=p.id) for p in people)
            await session.commit()
            event.listen(engine.sync_engine, "before_cursor_execute", note)
            for verb in (Verb.STEP, Verb.ANSWERED):
                seen.clear()
                cpu, wall = time.process_time(), time.perf_counter()
                for n in range(records):
                    await activity_log.record(
                        session,
                        people[n % learners],
                        verb,
                        occurred_at=at,
                        track_id=track.id,
                        lesson_id=lesson.id,
                        data={"step": n} if verb is Verb.STEP else None,
                    )
                    if n % 50 == 49:
                        await session.commit()
                await session.commit()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                results.append(
                    Measured(verb, cpu / records * 1000, wall / records * 1000, len(seen) / records)
                )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
        await engine.dispose()
    return results


async def main(url: str | None, records: int, at: datetime) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = url or f"sqlite:///{Path(directory) / 'records.db'}"
        results = await measure(database, records, at=at)
    print(f"{records} records a verb at {at.isoformat()}; {database.split(':')[0]}")
    for result in results:
        print(
            f"{result.verb.value:9} {result.cpu_ms:6.3f} ms CPU a record {result.wall_ms:7.3f} ms"
            f" wall {result.statements:5.2f} statements"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--records", type=int, default=2000, help="records a verb")
    parser.add_argument(
        "--at",
        type=datetime.fromisoformat,
        default=MIDWEEK,
        help="when the records happen, ISO 8601 with its offset (default %(default)s)",
    )
    arguments = parser.parse_args()
    if arguments.at.tzinfo is None:
        parser.error("--at needs its offset from UTC, e.g. 2026-01-14T12:00+00:00")
    asyncio.run(main(arguments.database_url, arguments.records, arguments.at))
