"""Connections and transactions: PostgreSQL's are pinged after sitting idle in the pool, not at
every checkout; SQLite's take the write lock at their first write, not at their first read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from learntogether.db import engine as engine_module
from tests.conftest import TestDatabase


@pytest.fixture
async def pg_engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    if database.backend != "postgresql":
        pytest.skip("pings are PostgreSQL's")
    engine = engine_module.create_engine(database.url, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture
def pings(pg_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The pings the engine's dialect sends."""
    sent: list[object] = []
    ping = pg_engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(pg_engine.dialect, "do_ping", counted)
    return sent


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")))


async def test_a_connection_used_again_at_once_is_not_pinged(
    pg_engine: AsyncEngine, pings: list[object]
) -> None:
    first = await _backend_pid(pg_engine)
    again = [await _backend_pid(pg_engine) for _ in range(5)]
    assert again == [first] * 5
    assert pings == []


async def test_a_connection_closed_by_the_server_while_idle_is_replaced_before_use(
    pg_engine: AsyncEngine,
    database: TestDatabase,
    pings: list[object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    killed = await _backend_pid(pg_engine)
    async with database.engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    replaced = await _backend_pid(pg_engine)
    assert replaced != killed
    assert len(pings) == 1


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = engine_module.create_engine(sqlite_url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    await engine.dispose()


async def _writes_at_once(engine: AsyncEngine) -> bool:
    """Whether another connection can write now (it waits 0.1 s for the lock, not 5)."""
    async with engine.connect() as other:
        await other.exec_driver_sql("PRAGMA busy_timeout=100")
        try:
            await other.execute(text("INSERT INTO notes (body) VALUES ('other')"))
            await other.commit()
        except OperationalError as error:
            if "database is locked" not in str(error):
                raise
            return False
    return True


async def _in_transaction(engine: AsyncEngine, *statements: str) -> AsyncConnection:
    connection = await engine.connect()
    await connection.begin()
    for statement in statements:
        await connection.execute(text(statement))
    return connection


async def test_a_sqlite_transaction_that_only_reads_lets_others_write(
    sqlite_engine: AsyncEngine,
) -> None:
    reader = await _in_transaction(sqlite_engine, "SELECT count(*) FROM notes")
    try:
        assert await _writes_at_once(sqlite_engine)
    finally:
        await reader.close()


async def test_a_sqlite_transaction_holds_the_write_lock_from_its_first_write_to_its_end(
    sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "WRITE_TURN_SECONDS", 0.1)
    writer = await _in_transaction(
        sqlite_engine, "SELECT count(*) FROM notes", "INSERT INTO notes (body) VALUES ('mine')"
    )
    try:
        assert not await _writes_at_once(sqlite_engine)
        await writer.execute(text("INSERT INTO notes (body) VALUES ('mine again')"))
        await writer.commit()
        assert await _writes_at_once(sqlite_engine)
    finally:
        await writer.close()
    async with sqlite_engine.connect() as connection:
        bodies = await connection.scalars(text("SELECT body FROM notes ORDER BY id"))
        assert list(bodies) == ["mine", "mine again", "other"]


async def test_a_sqlite_select_for_update_takes_the_write_lock(
    sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "WRITE_TURN_SECONDS", 0.1)
    async with sqlite_engine.connect() as connection:
        await connection.begin()
        await connection.execute(select(text("id")).select_from(text("notes")).with_for_update())
        assert not await _writes_at_once(sqlite_engine)


async def test_a_sqlite_writer_waits_its_turn_instead_of_failing(
    sqlite_engine: AsyncEngine,
) -> None:
    first = await _in_transaction(sqlite_engine, "INSERT INTO notes (body) VALUES ('first')")

    async def write_second() -> None:
        async with sqlite_engine.begin() as connection:
            await connection.exec_driver_sql("PRAGMA busy_timeout=100")
            await connection.execute(text("INSERT INTO notes (body) VALUES ('second')"))

    second = asyncio.create_task(write_second())
    await asyncio.sleep(0.3)  # three busy timeouts of the second writer
    assert not second.done()
    await first.commit()
    await first.close()
    await second
    async with sqlite_engine.connect() as connection:
        bodies = await connection.scalars(text("SELECT body FROM notes ORDER BY id"))
        assert list(bodies) == ["first", "second"]


async def test_a_sqlite_statement_cancelled_midway_ends_its_transaction_and_stays_cancelled(
    sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A task cancelled during a statement (a worker stopping) is cancelled, not failed with
    "invalid transaction"; its statement stops and its transaction ends, so the next writer
    writes at once. Before, ending the transaction raised PendingRollbackError in place of the
    cancellation (the delivery worker's status loop logged it and went on forever), and SQLite
    kept the write lock until the garbage collector freed the cancelled cursor."""
    monkeypatch.setattr(engine_module, "WRITE_TURN_SECONDS", 0.5)
    started = asyncio.Event()

    async def write_then_read_long() -> None:
        async with AsyncSession(sqlite_engine) as session:
            await session.execute(text("INSERT INTO notes (body) VALUES ('mine')"))
            started.set()
            await session.execute(text(_LONG_COUNT))

    task = asyncio.create_task(write_then_read_long())
    await started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # SQLite stopped the statement and ended the transaction: another connection writes at once.
    assert await _writes_at_once(sqlite_engine)
    assert "no turn to write" not in caplog.text
    async with sqlite_engine.connect() as connection:
        bodies = await connection.scalars(text("SELECT body FROM notes ORDER BY id"))
        assert list(bodies) == ["other"]


# A statement that takes SQLite about ten seconds unless it is interrupted.
_LONG_COUNT = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000000) "
    "SELECT count(*) FROM n"
)
