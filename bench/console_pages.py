"""Time the server side of every console page on a seeded database (see ``bench/seed.py``).

    .venv/bin/python -m bench.console_pages --database-url postgresql://postgres@127.0.0.1:5432/lt_bench

Builds the app in this process (as ``learntogether run`` does, without the bot), signs in
through a one-time link made by the sign-in service (as an admin, who sees every row, unless
``--role`` says otherwise), then GETs each page with httpx over the app's ASGI interface: no
network, no browser, so the time is the server's (routing, session check, services, queries,
templates); the dashboard reads its figures anew each time (a reader in the same minute would get
the kept reading in about 10 ms). Every page is fetched once to warm up, then ``--runs`` times; the best and median
are printed and pages whose median is over the goal (300 ms) are flagged. Pages that need an id
(a cohort, a learner, a broadcast) take the largest cohort, a learner of it and the newest
broadcast. The baseline, in the same run, is ``GET /healthz`` (the app's cheapest route).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.console.dashboard import Readings
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.migrate import upgrade
from learntogether.db.models import (
    Broadcast,
    Cohort,
    Lesson,
    Membership,
    QuizAttempt,
    TokenRole,
    Track,
)
from learntogether.runtime import build_app
from learntogether.services import console_sessions
from learntogether.services.actors import Actor

GOAL_MS = 300.0
BASE_URL = "http://console.bench"


@dataclass(frozen=True)
class Timing:
    path: str
    status: int
    best_ms: float
    median_ms: float

    @property
    def slow(self) -> bool:
        return self.median_ms > GOAL_MS


async def _pages(session: AsyncSession) -> list[str]:
    """Every page of the console, with ids and choices from the data."""
    pages = [
        "/",
        "/cohorts",
        "/broadcasts",
        "/broadcasts/new",
        "/learners",
        "/learners?q=a",
        "/reports/participation",
        "/reports/participation?group_by=region",
        "/reports/participation?group_by=cohort&period=month&tz=Europe%2FSofia",
        "/reports/participation?group_by=region&period=week",
        "/reports/participation.csv?group_by=region&period=week",
        "/reports/funnel",
        "/reports/funnel.csv",
        "/reports/questions",
        "/reports/questions.csv",
        "/reports/awareness",
        "/reports/awareness?group_by=region",
        "/reports/awareness.csv?group_by=cohort",
        "/access/sessions",
        "/access/tokens",
        "/access/audit",
    ]
    biggest = (
        await session.execute(
            select(Cohort.code, Cohort.id)
            .join(Membership, Membership.cohort_id == Cohort.id)
            .group_by(Cohort.code, Cohort.id)
            .order_by(func.count().desc(), Cohort.code)
            .limit(1)
        )
    ).first()
    if biggest is not None:
        code, cohort_id = biggest
        pages += [f"/cohorts/{code}", f"/cohorts/{code}/nudge", f"/cohorts/{code}/invite.png"]
        member = await session.scalar(
            select(Membership.user_id).where(Membership.cohort_id == cohort_id).limit(1)
        )
        if member is not None:
            pages.append(f"/learners/{member}")
    busiest = await session.scalar(
        select(Lesson.slug)
        .join(Lesson.versions)
        .join(QuizAttempt)
        .group_by(Lesson.slug)
        .order_by(func.count().desc())
        .limit(1)
    )
    if busiest is not None:
        pages.append(f"/reports/questions?lesson={busiest}")
    for slug in await session.scalars(select(Track.slug).order_by(Track.position).limit(2)):
        pages.append(f"/reports/funnel?track={slug}")
    newest = await session.scalar(select(func.max(Broadcast.id)))
    if newest is not None:
        pages.append(f"/broadcasts/{newest}")
    return pages


def _names(pattern: str, path: str) -> bool:
    """``pattern`` is a path, or the start of paths when it ends with ``*``."""
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


async def _sign_in(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    role: TokenRole,
    cohorts: list[str] | None,
) -> None:
    async with session_maker() as session:
        link = await console_sessions.create_link(
            session,
            base_url=BASE_URL,
            name="Benchmark",
            role=role,
            cohort_codes=cohorts,
            actor=Actor.system("bench"),
        )
        await session.commit()
    path = link.url.removeprefix(BASE_URL)
    confirmed = await client.post(path)
    if confirmed.status_code != 303:
        raise SystemExit(f"signing in failed: {confirmed.status_code} {confirmed.text[:200]}")


async def _time(client: AsyncClient, path: str, runs: int) -> Timing:
    status = (await client.get(path)).status_code  # warm-up: templates, plans, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        status = answer.status_code
    return Timing(path, status, min(times), statistics.median(times))


async def measure(
    url: str,
    *,
    runs: int = 3,
    role: TokenRole = TokenRole.ADMIN,
    migrate: bool = True,
    only: Sequence[str] = (),
) -> tuple[Timing, list[Timing]]:
    """The baseline's timing and every page's (only those ``only`` names, when given), in
    order."""
    settings = Settings(_env_file=None, database_url=url, bot_username="lt_bench_bot")
    engine = create_engine(settings.database_url)
    try:
        if migrate:
            await upgrade(engine)
        session_maker = create_session_maker(engine)
        async with session_maker() as session:
            pages = [
                path
                for path in await _pages(session)
                if not only or any(_names(pattern, path) for pattern in only)
            ]
            cohorts = None
            if role is TokenRole.MEDIATOR:
                code = await session.scalar(select(Cohort.code).order_by(Cohort.id).limit(1))
                cohorts = [code] if code is not None else None
        app = build_app(settings, session_maker=session_maker, bot_parts=None)
        # The dashboard keeps a reading for a minute: time a new one each run, as the first
        # reader of the minute waits for it.
        app.state.dashboard_readings = Readings(fresh_for=-1)
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url=BASE_URL) as client:
            await _sign_in(client, session_maker, role, cohorts)
            baseline = await _time(client, "/healthz", runs)
            timings = [await _time(client, path, runs) for path in pages]
    finally:
        await engine.dispose()
    return baseline, timings


def report(baseline: Timing, timings: Sequence[Timing], runs: int) -> str:
    lines = [
        f"console pages: best and median of {runs} runs after a warm-up; "
        f"baseline GET /healthz {baseline.median_ms:.1f} ms"
    ]
    for timing in timings:
        flag = f"  OVER {GOAL_MS:.0f} ms" if timing.slow else ""
        failed = "" if timing.status < 400 else f"  HTTP {timing.status}"
        lines.append(
            f"  {timing.path:72} best {timing.best_ms:8.1f} ms  median {timing.median_ms:8.1f} ms"
            f"{failed}{flag}"
        )
    slow = [timing for timing in timings if timing.slow]
    lines.append(f"{len(slow)} of {len(timings)} pages over {GOAL_MS:.0f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console_pages", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--role", type=TokenRole, choices=list(TokenRole), default=TokenRole.ADMIN)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATH",
        help="time only the page PATH, or the pages starting with PATH when it ends with '*' "
        "(repeatable)",
    )
    arguments = parser.parse_args(argv)
    baseline, timings = asyncio.run(
        measure(
            arguments.database_url,
            runs=arguments.runs,
            role=arguments.role,
            only=arguments.only,
        )
    )
    print(report(baseline, timings, arguments.runs))
    # A page that failed is an error of the run, not a slow page.
    return 1 if any(timing.status >= 400 for timing in timings) else 0


if __name__ == "__main__":
    sys.exit(main())
