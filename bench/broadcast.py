"""Delivery benchmark: a broadcast to N learners through the Bot API stand-in at L messages a second.

    .venv/bin/python -m bench.broadcast                    # about a minute: 1,000 at 25/s, paid 10,000
    .venv/bin/python -m bench.broadcast --learners 10000   # the full 10,000 at 25/s (about 7 minutes)
    .venv/bin/python -m bench.broadcast --database-url postgresql://postgres@127.0.0.1/lt_bench

One run measures, with the stand-in in a process of its own (as Telegram is another machine):

1. the baseline: raw ``sendMessage`` round trips with no limiter and no database, the most this
   machine can push through aiogram and the stand-in;
2. a broadcast through the real outbox and ``DeliveryWorker`` at ``--rate`` L (default 25, the
   stand-in allowing Telegram's 30/s and 1/s a chat): the rate the stand-in saw as a share of L
   (goal 0.95) and the stand-in's limit violations (goal 0);
3. a paid broadcast (``allow_paid_broadcast``) at ``--paid-rate`` (default 950, the stand-in
   allowing 1000/s: as 25 of 30, it leaves room for jitter): goal 900/s.

The rate is the stand-in's: sends delivered between its first and last delivered send. The
database is a fresh SQLite file unless ``--database-url`` names an empty PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.migrate import upgrade
from learntogether.db.models import Cohort, Membership, Role, User, UserStatus
from learntogether.delivery import DeliveryWorker
from learntogether.delivery.worker import default_concurrency
from learntogether.i18n import create_i18n
from learntogether.services import broadcasts
from learntogether.services.actors import Actor
from learntogether.services.learners import PRIVACY_VERSION
from tests.standin import BotAPIStandIn

TEXT = {
    "en": "Workshop on <b>Friday</b> at the school: bring a colleague.",
    "bg": "Работилница в <b>петък</b> в училището: доведете колега.",
}
BASELINE_SENDS = 3000
AUTHOR = Actor.system("bench")


@dataclass(frozen=True)
class Outcome:
    name: str
    learners: int
    limit: float | None
    seconds: float
    """From the first delivered send to the last, as the stand-in saw them."""
    wall_seconds: float
    """From the start of sending (or the worker) to the end."""
    delivered: int
    violations: int
    busiest_second: int

    @property
    def rate(self) -> float:
        return (self.delivered - 1) / self.seconds if self.seconds > 0 else 0.0


class StandIn:
    """The stand-in process and its control URL."""

    def __init__(self, process: asyncio.subprocess.Process, api: str, control: str) -> None:
        self.process, self.api, self.control = process, api, control

    @classmethod
    async def start(cls, users: int) -> StandIn:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.standin_server", "--users", str(users),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode().split()
        if not line or line[0] != "READY":
            raise SystemExit("error: the stand-in did not start")
        return cls(process, line[1], line[2])

    async def call(self, method: str, path: str, **params: str) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.control + path, params=params) as response,
        ):
            result: dict[str, Any] = await response.json()
            return result

    async def limits(self, *, global_rate: str, per_chat: str, paid: str) -> None:
        await self.call(
            "POST", "/limits", **{"global": global_rate, "per_chat": per_chat, "paid": paid}
        )
        await self.call("POST", "/reset")

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()


async def seed(engine: AsyncEngine, learners: int, paid_learners: int) -> None:
    """Learners 1..max who agreed to the notice; cohort BENCH has the first ``learners``, PAID the
    first ``paid_learners``."""
    now = datetime.now(UTC)
    total = max(learners, paid_learners)
    async with engine.begin() as connection:
        existing = await connection.scalar(select(func.count()).select_from(User))
        if existing:
            raise SystemExit("error: the database already has learners; use an empty one")
        await connection.execute(
            insert(User),
            [
                {
                    "telegram_id": index,
                    "first_name": f"Learner {index}",
                    "locale": "bg" if index % 3 == 0 else "en",
                    "role": Role.TEACHER,
                    "country": "BG",
                    "status": UserStatus.ACTIVE,
                    "consent_version": PRIVACY_VERSION,
                    "consented_at": now,
                }
                for index in range(1, total + 1)
            ],
        )
        ids = {
            telegram_id: user_id
            for user_id, telegram_id in await connection.execute(select(User.id, User.telegram_id))
        }
        for code, size in (("BENCH", learners), ("PAID", paid_learners)):
            if not size:
                continue
            cohort_id = await connection.scalar(
                insert(Cohort).values(code=code, name=code, country="BG").returning(Cohort.id)
            )
            await connection.execute(
                insert(Membership),
                [{"cohort_id": cohort_id, "user_id": ids[index]} for index in range(1, size + 1)],
            )


async def baseline(
    bot: Bot, standin: StandIn, *, sends: int, chats: int, concurrency: int
) -> Outcome:
    """Raw round trips: no limiter, no database, ``concurrency`` requests in flight."""
    await standin.limits(global_rate="none", per_chat="none", paid="none")
    chat_ids = iter([1 + index % chats for index in range(sends)])

    async def sender() -> None:
        for chat_id in chat_ids:
            await bot.send_message(chat_id=chat_id, text=TEXT["en"], parse_mode="HTML")

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return await _outcome("baseline (no limiter, no database)", standin, sends, None, wall)


async def broadcast(
    session_maker: async_sessionmaker[AsyncSession],
    bot: Bot,
    standin: StandIn,
    *,
    name: str,
    cohort: str,
    learners: int,
    rate: float,
    paid: bool,
) -> Outcome:
    """One broadcast through the outbox and a delivery worker, until every row is settled."""
    await standin.limits(global_rate="30", per_chat="1", paid="1000")
    async with session_maker() as session:
        await broadcasts.create_broadcast(session, actor=AUTHOR, text=TEXT, cohort=cohort)
        await session.commit()
    worker = DeliveryWorker(
        bot, session_maker, i18n=create_i18n(), send_rate=rate, paid_broadcast=paid
    )
    started = time.perf_counter()
    await worker.run(until_idle=True)
    wall = time.perf_counter() - started
    return await _outcome(name, standin, learners, rate, wall)


async def _outcome(
    name: str, standin: StandIn, learners: int, limit: float | None, wall: float
) -> Outcome:
    stats = await standin.call("GET", "/stats")
    first, last = stats["first"], stats["last"]
    return Outcome(
        name=name,
        learners=learners,
        limit=limit,
        seconds=(last - first) if first is not None else 0.0,
        wall_seconds=wall,
        delivered=stats["delivered"],
        violations=stats["violations"],
        busiest_second=stats["busiest_second"],
    )


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"load average {load:.1f} at the end"
    )


def report(outcomes: list[Outcome], base: Outcome, backend: str) -> None:
    print(f"\nDelivery benchmark, {datetime.now(UTC):%Y-%m-%d}, {machine()}, {backend}\n")
    print(
        "| run | learners | limit L | rate | rate / L | rate / baseline | violations | busiest second | wall |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for outcome in [base, *outcomes]:
        limit = f"{outcome.limit:g}/s" if outcome.limit else "none"
        share = f"{outcome.rate / outcome.limit:.3f}" if outcome.limit else ""
        print(
            f"| {outcome.name} | {outcome.learners:,} | {limit} | {outcome.rate:.1f}/s | {share} "
            f"| {outcome.rate / base.rate:.3f} | {outcome.violations} | {outcome.busiest_second} "
            f"| {outcome.wall_seconds:.1f} s |"
        )
    failed = [
        outcome.name
        for outcome in outcomes
        if outcome.delivered != outcome.learners or outcome.violations
    ]
    if failed:
        print(f"\nnot everything arrived within the limits: {', '.join(failed)}")


async def run(arguments: argparse.Namespace) -> None:
    paid_learners = 0 if arguments.no_paid else arguments.paid_learners
    users = max(arguments.learners, paid_learners)
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        url = Settings(_env_file=None, database_url=url).database_url
        engine = create_engine(url)
        standin = await StandIn.start(users)
        bot = Bot(
            BotAPIStandIn().token,
            session=AiohttpSession(api=TelegramAPIServer.from_base(standin.api)),
        )
        try:
            await upgrade(engine)
            await seed(engine, arguments.learners, paid_learners)
            session_maker = create_session_maker(engine)
            concurrency = default_concurrency(max(arguments.rate, arguments.paid_rate))
            base = await baseline(
                bot, standin, sends=BASELINE_SENDS, chats=users, concurrency=concurrency
            )
            print(f"baseline: {base.rate:.0f} sends/s", flush=True)
            outcomes = [
                await broadcast(
                    session_maker,
                    bot,
                    standin,
                    name="broadcast",
                    cohort="BENCH",
                    learners=arguments.learners,
                    rate=arguments.rate,
                    paid=False,
                )
            ]
            print(f"broadcast: {outcomes[-1].rate:.1f} sends/s", flush=True)
            if paid_learners:
                outcomes.append(
                    await broadcast(
                        session_maker,
                        bot,
                        standin,
                        name="paid broadcast",
                        cohort="PAID",
                        learners=paid_learners,
                        rate=arguments.paid_rate,
                        paid=True,
                    )
                )
            report(outcomes, base, engine.url.get_backend_name())
        finally:
            await bot.session.close()
            await standin.stop()
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="A broadcast through the Bot API stand-in at a limit, against a baseline."
    )
    parser.add_argument("--learners", type=int, default=1000, help="recipients of the broadcast")
    parser.add_argument("--rate", type=float, default=25, help="LT_SEND_RATE for the broadcast")
    parser.add_argument("--paid-learners", type=int, default=10000, help="recipients when paid")
    parser.add_argument("--paid-rate", type=float, default=950, help="LT_SEND_RATE when paid")
    parser.add_argument("--no-paid", action="store_true", help="skip the paid broadcast")
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
