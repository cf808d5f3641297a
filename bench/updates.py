"""Update handling benchmark: N learners press through lessons at once, against a bare aiogram bot.

    .venv/bin/python -m bench.updates                              # 200 learners, SQLite, 20 s
    .venv/bin/python -m bench.updates --database-url postgresql://postgres@127.0.0.1/lt_bench
    .venv/bin/python -m bench.updates --database-url postgresql://... \\
        --webhook-workers 2 --redis-url redis://127.0.0.1:6379/5   # also webhook mode

This process is Telegram and its users: the Bot API stand-in (``tests/standin``) and ``--learners``
simulated learners, each in a closed loop (the next press as soon as the previous one is answered
and the screen changed). The bots under test run in processes of their own, one after the other:

1. the baseline: a bare aiogram 3 bot (polling) that answers a press and edits its message, and
   answers /start with a message; the most this machine and aiogram do per update;
2. the product, ``learntogether run`` (polling, one process): each learner onboards (/start,
   language, role, privacy, municipality, no reminders: the "start" phase), then presses through lessons
   (catalogue → track → lesson → steps → quiz, the "lesson" phase) for ``--seconds``;
3. with ``--webhook-workers N`` (PostgreSQL and ``--redis-url``), ``learntogether api --workers N``
   in webhook mode, the stand-in posting over 8 connections, one update of a chat at a time.

Printed per phase: updates a second, press→answer p50/p95/p99 (from the press to the bot's
``answerCallbackQuery``, on the stand-in's clock), CPU a update (user and system time of the bot's
processes during the phase), the ratio to the baseline, presses left unanswered, and the edits
Telegram would refuse as "message is not modified". The stand-in lets any rate through
(``LT_SEND_RATE`` is set to 1000): this measures handling, not the send limiter.

The database is a fresh SQLite file unless ``--database-url`` names an empty PostgreSQL database;
``--redis-url`` names a Redis database the benchmark empties first. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.standin import BotAPIStandIn, SimUser, button_texts

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 180.0
REPLY_TIMEOUT_SECONDS = 15.0
SETTLE_SECONDS = 0.05
# BENCH_LOG_DIR=DIR keeps each bot's log there.
LOG_DIRECTORY = os.environ.get("BENCH_LOG_DIR")
WEBHOOK_SECRET = "bench-secret"  # noqa: S105 - a benchmark's own webhook
WEBHOOK_CONNECTIONS = 8
NOT_MODIFIED = "message is not modified"
TOKEN = "123456789:BENCH-token"  # noqa: S105 - the stand-in's fake token

# Which button a learner presses next, by callback prefix (bot/callbacks.py).
NEXT_QUESTION, ANSWER, TOGGLE, SUBMIT, SKIP = "nq", "an", "tg", "sb", "sk"
OPEN_LESSON, FINISH, START_QUIZ, STEP, TRACK, CATALOGUE = "ol", "fn", "sq", "st", "tk", "ct"


# The baseline ------------------------------------------------------------------------------


async def serve_baseline(api_url: str, token: str) -> None:
    """A bare aiogram bot: /start gets a message with a button; a press is answered and its
    message edited to the next step (a new text, so Telegram would take the edit)."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.filters import CommandStart
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    def keyboard(step: int) -> InlineKeyboardMarkup:
        button = InlineKeyboardButton(text="Next ▶", callback_data=f"b:{step}")
        return InlineKeyboardMarkup(inline_keyboard=[[button]])

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Step 0", reply_markup=keyboard(1))

    @dispatcher.callback_query()
    async def press(query: CallbackQuery) -> None:
        step = int((query.data or "b:0").split(":")[1])
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(f"Step {step}", reply_markup=keyboard(step + 1))

    await dispatcher.start_polling(bot, polling_timeout=10)


# The bots' processes -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User and system time of ``pid`` and its descendants so far."""
    total = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class BotProcess:
    def __init__(self, name: str, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=self.log
        )

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def check(self) -> None:
        if self.process.poll() is not None:
            self.log.seek(0)
            raise SystemExit(f"error: {self.name} exited:\n{self.log.read().decode()[-3000:]}")

    def stop(self) -> list[str]:
        """Stop the bot; the errors it logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.seek(0)
        text = self.log.read().decode(errors="replace")
        self.log.close()
        if LOG_DIRECTORY:
            slug = "".join(c if c.isalnum() else "-" for c in self.name)[:40]
            (Path(LOG_DIRECTORY) / f"{slug}.log").write_text(text)
        lines = text.splitlines()
        return [
            line
            for line in lines
            if "ERROR" in line
            or line.startswith(("Traceback", "sqlalchemy", "TimeoutError", "asyncio"))
        ]


def product_environment(standin: BotAPIStandIn, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LT_BOT_TOKEN": standin.token,
        "LT_TELEGRAM_API_URL": standin.base_url,
        "LT_DATABASE_URL": database_url,
        "LT_LESSONS_DIR": str(ROOT / "lessons"),
        "LT_API_PORT": str(free_port()),
        "LT_SEND_RATE": "1000",
        "LT_LOG_LEVEL": "WARNING",
        **extra,
    }


async def wait_until_ready(
    standin: BotAPIStandIn, bot: BotProcess, method: str, count: int = 1
) -> None:
    """Until the bot has called ``method`` ``count`` more times and then nothing for a second:
    it has started and waits for updates."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    target = len(standin.calls_of(method)) + count
    while len(standin.calls_of(method)) < target:
        bot.check()
        if time.monotonic() > deadline:
            raise SystemExit(f"error: {bot.name} did not call {method} in time")
        await asyncio.sleep(0.1)
    seen = -1
    while seen != len(standin.calls):
        seen = len(standin.calls)
        await asyncio.sleep(1.0)


# The learners ------------------------------------------------------------------------------


@dataclass
class Phase:
    """What the learners did in one phase against one bot."""

    updates: int = 0
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    failures: int = 0
    """Learners who got something else than the next screen (an error, a timeout)."""
    started: float = 0.0
    ended: float = 0.0
    cpu: float = 0.0
    not_modified: int = 0

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Learner:
    """A simulated learner who waits for the bot after each thing they do."""

    def __init__(self, standin: BotAPIStandIn, user: SimUser, rng: random.Random) -> None:
        self.standin, self.user, self.rng = standin, user, rng
        self.toggled = False

    async def _until(self, done: Callable[[], bool]) -> bool:
        """Wait for ``done``, then until the bot leaves the chat alone for ``SETTLE_SECONDS``
        (one update may edit a message and then send another): a person reads the screen the
        bot finished, and presses on it."""
        try:
            await self.standin._wait_until(
                lambda: True if done() else None, REPLY_TIMEOUT_SECONDS, lambda: "no reply"
            )
        except AssertionError:
            return False
        seen = -1
        while seen != self.user.changes:
            seen = self.user.changes
            await asyncio.sleep(SETTLE_SECONDS)
        return True

    async def send(self, phase: Phase, text: str, expect: str | None = None) -> bool:
        """Write ``text``; wait for a reply (one that contains ``expect``, if given)."""
        before = self.user.changes
        await self.user.send(text)
        phase.updates += 1
        if expect is None:
            return await self._until(lambda: self.user.changes > before)
        return await self._until(lambda: self._shows(expect))

    def _shows(self, expect: str) -> bool:
        """Whether one of the newest messages says ``expect`` or has a button of that text."""
        return any(
            expect in message.get("text", "") or expect in button_texts(message)
            for message in self.user.messages[-3:]
        )

    async def press(self, phase: Phase, data: str, expect: str | None = None) -> bool:
        """Press the button with ``data`` (or text) on the newest keyboard; wait for the answer
        and for the screen to change."""
        before = self.user.changes
        query_id = await self.user.press(data)
        phase.updates += 1
        query = self.standin.callback_queries[query_id]
        answered = await self._until(
            lambda: (
                query.answered
                and (
                    self.user.changes > before
                    if expect is None
                    else any(expect in m.get("text", "") for m in self.user.messages[-3:])
                )
            )
        )
        if query.answered_at is not None and query.pressed_at is not None:
            phase.latencies.append(query.answered_at - query.pressed_at)
        else:
            phase.unanswered += 1
        return answered

    async def vote(self, phase: Phase, message: dict[str, Any]) -> bool:
        before = self.user.changes
        await self.user.answer_poll(message, [0])
        phase.updates += 1
        return await self._until(lambda: self.user.changes > before + 1)

    async def onboard(self, phase: Phase) -> None:
        """/start, English, a role, the privacy notice, a municipality, no reminders
        (tests/bot/steps.py);
        from /start again, up to three times, when the bot failed on the way."""
        for _ in range(3):
            try:
                if (
                    await self.send(phase, "/start", "✓ English")
                    and await self.press(phase, "✓ English", "Which of these describes you best?")
                    and await self.press(phase, "Teacher", "Your privacy")
                    and await self.press(phase, "I agree", "In which municipality")
                    and await self.send(phase, "Sliven", "When shall I remind you?")
                    and await self.press(phase, "No reminders, thanks", "You are all set!")
                ):
                    return
            except AssertionError:  # no such button: the bot said something else
                pass
            phase.failures += 1

    def _choose(self) -> str | None:
        """The callback data of the button to press next, None to send /lessons."""
        keyboard = next(
            (
                m
                for m in reversed(self.user.messages)
                if "inline_keyboard" in m.get("reply_markup", {})
            ),
            None,
        )
        if keyboard is None:
            return None
        by_prefix: dict[str, list[str]] = {}
        for row in keyboard["reply_markup"]["inline_keyboard"]:
            for button in row:
                if "callback_data" in button:
                    data = button["callback_data"]
                    by_prefix.setdefault(data.split(":", 1)[0], []).append(data)
        pick = self.rng.choice
        toggled, self.toggled = self.toggled, False
        if NEXT_QUESTION in by_prefix:
            return by_prefix[NEXT_QUESTION][0]
        if TOGGLE in by_prefix:
            if toggled and SUBMIT in by_prefix:
                return by_prefix[SUBMIT][0]
            self.toggled = True
            return pick(by_prefix[TOGGLE])
        if ANSWER in by_prefix:
            return pick(by_prefix[ANSWER])
        if SKIP in by_prefix:
            return by_prefix[SKIP][0]
        for prefix in (OPEN_LESSON, FINISH, START_QUIZ):
            if prefix in by_prefix:
                return pick(by_prefix[prefix])
        if STEP in by_prefix:  # forward: the highest step index
            return max(by_prefix[STEP], key=lambda data: int(data.rsplit(":", 1)[1]))
        for prefix in (TRACK, CATALOGUE):
            if prefix in by_prefix:
                return pick(by_prefix[prefix])
        return pick([data for datas in by_prefix.values() for data in datas])

    async def take_lessons(self, phase: Phase, deadline: float) -> None:
        """Press through lessons until ``deadline``; /lessons when there is nothing to press."""
        await self.send(phase, "/lessons")
        while time.monotonic() < deadline:
            last = self.user.messages[-1] if self.user.messages else {}
            poll = last.get("poll")
            if poll and not poll.get("is_closed") and self.user.id not in self._voters(poll):
                ok = await self.vote(phase, last)
            elif (data := self._choose()) is None:
                ok = await self.send(phase, "/lessons")
            else:
                ok = await self.press(phase, data)
            if not ok:
                await self.send(phase, "/lessons")

    def _voters(self, poll: dict[str, Any]) -> set[int]:
        record = self.standin.polls.get(poll["id"])
        return set(record.votes) if record is not None else set()

    async def press_baseline(self, phase: Phase, deadline: float) -> None:
        while time.monotonic() < deadline:
            keyboard = self.user.messages[-1]
            await self.press(
                phase, keyboard["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            )


async def run_phase(
    standin: BotAPIStandIn,
    bot: BotProcess,
    learners: list[Learner],
    act: Callable[[Learner, Phase], Awaitable[object]],
) -> Phase:
    phase = Phase()
    calls_before = len(standin.calls)
    cpu_before = bot.cpu()
    phase.started = time.monotonic()
    await asyncio.gather(*(act(learner, phase) for learner in learners))
    phase.ended = time.monotonic()
    phase.cpu = bot.cpu() - cpu_before
    refused = [
        call
        for call in standin.calls[calls_before:]
        if call.method == "editMessageText" and NOT_MODIFIED in (call.description or "")
    ]
    phase.not_modified = len(refused)

    return phase


# The runs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    name: str
    start: Phase
    lesson: Phase
    errors: list[str]
    """Errors the bot logged (the first line of each)."""


async def run_baseline(standin: BotAPIStandIn, ids: range, seconds: float, directory: Path) -> Run:
    command = [sys.executable, "-m", "bench.updates", "--serve-baseline", standin.base_url]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bot = BotProcess("the baseline bot", command, env, directory)
    try:
        await wait_until_ready(standin, bot, "getMe")
        learners = [_learner(standin, user_id) for user_id in ids]
        start = await run_phase(
            standin, bot, learners, lambda learner, phase: learner.send(phase, "/start")
        )
        deadline = time.monotonic() + seconds
        lesson = await run_phase(
            standin, bot, learners, lambda learner, phase: learner.press_baseline(phase, deadline)
        )
    finally:
        errors = bot.stop()
    return Run("baseline: bare aiogram bot", start, lesson, errors)


async def run_product(
    standin: BotAPIStandIn,
    ids: range,
    seconds: float,
    directory: Path,
    database_url: str,
    *,
    workers: int = 0,
    redis_url: str | None = None,
) -> Run:
    if workers:
        port = free_port()
        env = product_environment(
            standin,
            database_url,
            LT_BOT_MODE="webhook",
            LT_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
            LT_WEBHOOK_SECRET=WEBHOOK_SECRET,
            LT_REDIS_URL=redis_url or "",
            LT_API_PORT=str(port),
        )
        for step in (["db", "upgrade"], ["lessons", "import", str(ROOT / "lessons")]):
            setup = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "learntogether", *step,
                env=env, cwd=directory, stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            if await setup.wait():
                raise SystemExit(f"error: learntogether {' '.join(step)} failed")
        command = [sys.executable, "-m", "learntogether", "api", "--workers", str(workers)]
        name, ready = f"learntogether api --workers {workers} (webhook, Redis)", "setWebhook"
        expected = workers  # every worker sets the webhook as it starts
    else:
        env = product_environment(standin, database_url)
        command = [sys.executable, "-m", "learntogether", "run"]
        # The bot registers its commands as it starts, then polls.
        name, ready = "learntogether run (one process, polling)", "setMyCommands"
        expected = 1
    bot = BotProcess(name, command, env, directory)
    try:
        await wait_until_ready(standin, bot, ready, expected)
        learners = [_learner(standin, user_id) for user_id in ids]
        start = await run_phase(
            standin, bot, learners, lambda learner, phase: learner.onboard(phase)
        )
        deadline = time.monotonic() + seconds
        lesson = await run_phase(
            standin, bot, learners, lambda learner, phase: learner.take_lessons(phase, deadline)
        )
    except BaseException:
        if os.environ.get("BENCH_DEBUG"):
            print(
                [
                    (c.method, c.status, c.description, c.params.get("offset"))
                    for c in standin.calls[-30:]
                ],
                standin.pending_updates,
            )
        raise
    finally:
        errors = bot.stop()
    return Run(name, start, lesson, errors)


def _learner(standin: BotAPIStandIn, user_id: int) -> Learner:
    user = standin.users.get(user_id) or standin.add_user(
        user_id, first_name=f"Learner {user_id}", language_code="en"
    )
    return Learner(standin, user, random.Random(user_id))  # noqa: S311 - not for secrets


# Output ------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def report(runs: list[Run], *, learners: int, database: str) -> None:
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )
    print(f"load average {os.getloadavg()[0]:.1f}; {learners} learners; database: {database}")
    baseline = runs[0]
    for kind in ("start", "lesson"):
        print(f"\n{kind} phase")
        print(
            f"{'bot':<52} {'updates':>8} {'upd/s':>8} {'× base':>7} {'p50':>9} {'p95':>9} "
            f"{'p99':>9} {'CPU/upd':>9} {'unans.':>6} {'failed':>6} {'not mod.':>8}"
        )
        for run in runs:
            phase: Phase = getattr(run, kind)
            base: Phase = getattr(baseline, kind)
            cpu = phase.cpu / phase.updates * 1000 if phase.updates else float("nan")
            print(
                f"{run.name:<52} {phase.updates:>8,} {phase.rate:>8.1f} "
                f"{phase.rate / base.rate if base.rate else float('nan'):>7.2f} "
                f"{_ms(phase.percentile(0.50)):>9} {_ms(phase.percentile(0.95)):>9} "
                f"{_ms(phase.percentile(0.99)):>9} {cpu:>6.2f} ms {phase.unanswered:>6} "
                f"{phase.failures:>6} {phase.not_modified:>8}"
            )
    for run in runs:
        if run.errors:
            print(f"\n{run.name} logged {len(run.errors)} error lines, the first: {run.errors[0]}")


async def bench(arguments: argparse.Namespace) -> list[Run]:
    learners: int = arguments.learners
    with tempfile.TemporaryDirectory(prefix="lt-bench-updates-") as name:
        directory = Path(name)
        database_url = arguments.database_url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        if arguments.redis_url:
            from redis.asyncio import Redis

            redis = Redis.from_url(arguments.redis_url)
            await redis.flushdb()
            await redis.aclose()
        async with BotAPIStandIn(
            token=TOKEN,
            global_rate=None,
            paid_global_rate=None,
            webhook_connections=WEBHOOK_CONNECTIONS,
        ) as standin:
            runs = [
                await run_baseline(standin, range(1, learners + 1), arguments.seconds, directory)
            ]
            product_ids = range(100_001, 100_001 + learners)
            runs.append(
                await run_product(standin, product_ids, arguments.seconds, directory, database_url)
            )
            if arguments.webhook_workers:
                webhook_ids = range(200_001, 200_001 + learners)
                runs.append(
                    await run_product(
                        standin,
                        webhook_ids,
                        arguments.seconds,
                        directory,
                        database_url,
                        workers=arguments.webhook_workers,
                        redis_url=arguments.redis_url,
                    )
                )
    report(runs, learners=learners, database=database_url.split("://")[0])
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the lesson phase")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--webhook-workers", type=int, default=0, help="also webhook mode")
    parser.add_argument("--redis-url", help="a Redis database to empty and use (webhook mode)")
    parser.add_argument("--serve-baseline", metavar="API_URL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_baseline:
        asyncio.run(serve_baseline(arguments.serve_baseline, TOKEN))
        return
    if arguments.webhook_workers and not (
        arguments.database_url
        and arguments.database_url.startswith("postgresql")
        and arguments.redis_url
    ):
        parser.error("--webhook-workers needs a PostgreSQL --database-url and --redis-url")
    asyncio.run(bench(arguments))


if __name__ == "__main__":
    main()
