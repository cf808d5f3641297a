"""``learntogether worker`` as a real process: killed mid-broadcast, restarted, nothing lost."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import BroadcastStatus, Reminder
from learntogether.delivery.worker import default_batch_size, default_concurrency
from learntogether.services import reminders
from learntogether.services.actors import Actor
from learntogether.services.reminders import ReminderInput
from tests.conftest import PG_URL, TestDatabase
from tests.delivery.conftest import (
    add_learners,
    broadcast_row,
    committed_broadcast,
    committed_cohort,
    counts_of,
)
from tests.factories import eventually
from tests.standin import BotAPIStandIn

LEARNERS = 60
SEND_RATE = 25
LEASE_SECONDS = 2
# Two processes start, elect a leader and send: seconds on a quiet machine, over 40 s on a busy
# one (seen with the load average above 6 on two cores).
WAIT = 90.0
Starter = Callable[[], Awaitable[asyncio.subprocess.Process]]


def _logs(folder: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(folder.glob("worker-*.log")))


@pytest.fixture
async def start_worker_process(
    database: TestDatabase, standin: BotAPIStandIn, tmp_path: Path
) -> AsyncIterator[Starter]:
    """Start ``learntogether worker`` on the test database and the stand-in; killed after."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("LT_")},
        "LT_DATABASE_URL": database.url,
        "LT_BOT_TOKEN": standin.token,
        "LT_TELEGRAM_API_URL": standin.base_url,
        "LT_SEND_RATE": str(SEND_RATE),
        "LT_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        "LT_SEND_TIMEOUT_SECONDS": "1",
        "LT_SCHEDULER_TICK_SECONDS": "0.5",
    }
    started: list[asyncio.subprocess.Process] = []

    async def start() -> asyncio.subprocess.Process:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "learntogether", "worker",
            env=env, cwd=tmp_path, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_worker_killed_mid_broadcast_loses_nothing_after_restart(
    database: TestDatabase,
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker_process: Starter,
    tmp_path: Path,
) -> None:
    if database.backend == "sqlite" and PG_URL:
        pytest.skip("starting processes is slow: once a run, on PostgreSQL when it is there")
    # The first worker boots while the test writes the broadcast.
    first = await start_worker_process()
    await committed_cohort(session_maker)
    ids = list(range(5001, 5001 + LEARNERS))
    await add_learners(session_maker, standin, ids, cohort="SLV1")
    info = await committed_broadcast(session_maker, "Hello")

    async def some_sent() -> bool:
        return len(standin.calls_of("sendMessage")) >= 10

    await eventually(some_sent, within=WAIT)
    first.kill()  # SIGKILL: no chance to put anything back
    await first.wait()
    sent_by_first = len(standin.calls_of("sendMessage"))
    assert sent_by_first < LEARNERS, "the first worker finished before it was killed"

    await start_worker_process()

    async def finished() -> bool:
        return (await broadcast_row(session_maker, info)).status is BroadcastStatus.DONE

    try:
        await eventually(finished, within=WAIT)
    except AssertionError:
        pytest.fail(f"the broadcast did not finish; the workers said:\n{_logs(tmp_path)}")
    counts = await counts_of(session_maker, info)
    assert (counts.sent, counts.total) == (LEARNERS, LEARNERS)
    received = {telegram_id: len(standin.users[telegram_id].messages) for telegram_id in ids}
    assert all(count >= 1 for count in received.values()), received
    duplicates = sum(count - 1 for count in received.values())
    # At most what the killed worker held: claimed, maybe sent, not yet recorded.
    assert duplicates <= 4 * default_batch_size(SEND_RATE) + default_concurrency(SEND_RATE)
    assert standin.rate_limit_violations == 0


async def test_two_worker_processes_send_a_due_reminder_once(
    database: TestDatabase,
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker_process: Starter,
    tmp_path: Path,
) -> None:
    if database.backend == "sqlite" and PG_URL:
        pytest.skip("starting processes is slow: once a run, on PostgreSQL when it is there")
    await committed_cohort(session_maker)
    ids = [6001, 6002]
    await add_learners(session_maker, standin, ids, cohort="SLV1")
    # Due at the last whole minute, and not again until tomorrow.
    due = utcnow() - timedelta(minutes=1)
    async with session_maker() as session:
        info = await reminders.create_reminder(
            session,
            cohort_code="SLV1",
            data=ReminderInput(cron=f"{due.minute} {due.hour} * * *", timezone="UTC", text="Hi"),
            actor=Actor.system("test"),
            default_locale="en",
        )
        reminder = await session.get(Reminder, info.id)
        assert reminder is not None
        reminder.created_at = due - timedelta(minutes=1)
        await session.commit()
    await asyncio.gather(start_worker_process(), start_worker_process())

    async def everyone_reminded() -> bool:
        return all(standin.users[telegram_id].messages for telegram_id in ids)

    try:
        await eventually(everyone_reminded, within=WAIT)
    except AssertionError:
        pytest.fail(f"no reminder arrived; the workers said:\n{_logs(tmp_path)}")
    await asyncio.sleep(3)  # several more ticks of both schedulers
    assert [len(standin.users[telegram_id].messages) for telegram_id in ids] == [1, 1]
    assert _logs(tmp_path).count("this process now runs the scheduled jobs") == 1
