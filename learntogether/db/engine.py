"""Engines and session makers: SQLite with foreign keys and WAL, PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

log = logging.getLogger(__name__)

# A pooled connection idle this long is pinged before it is used again (see _ping_after_idle).
PING_AFTER_IDLE_SECONDS = 10.0


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; the message is one line without a password."""


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine, preparing SQLite files and connection settings.

    Statements' parameters (learners' names, message texts, token hashes) are never put into
    error messages, so a failed statement logs no personal data.
    """
    kwargs.setdefault("hide_parameters", True)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", 10)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it sat idle in the pool for a while.

    ``pool_pre_ping`` pings at every checkout: under load (a connection back in the pool for
    milliseconds, checked out two or three times an update) that was a round trip an update for
    nothing. A connection that waited ``PING_AFTER_IDLE_SECONDS`` may have been closed by a
    restarted server or a firewall; it is pinged, and a dead one replaced before anyone uses it
    (the pool reconnects on ``DisconnectionError``). A server lost under load is found by the
    statement that fails, and SQLAlchemy then replaces every pooled connection.
    """
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError(f"a pooled connection is gone: {error}") from error


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys, WAL and a busy timeout; explicit BEGIN so SAVEPOINT and DDL are transactional."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.info[_READING] = False
        connection.exec_driver_sql("BEGIN")
        connection.info[_READING] = True

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before_statement(
        connection: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if connection.info.get(_READING) and not _reads_only(statement, context):
            connection.info[_READING] = False
            _take_write_lock(connection.info, cursor, writers)

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(connection: Any) -> None:
        if connection.invalidated:
            # A statement was cancelled midway (a stopping task): asking for ``info`` would raise
            # PendingRollbackError in place of the cancellation. The connection's check-in
            # lets the next writer go.
            return
        connection.info[_READING] = False
        _let_next_writer(connection.info)

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _let_next_writer(record.info)  # a connection returned without its transaction ended

    @event.listens_for(engine.sync_engine, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _error: BaseException | None) -> None:
        _end_abandoned_transaction(record.driver_connection)

    writers = _Writers()


# A transaction that has only read so far, and the turn a writing one holds (_configure_sqlite).
_READING, _TURN = "lt_sqlite_reading", "lt_sqlite_turn"
# How long a transaction waits for its turn to write before it tries anyway (and SQLite's busy
# timeout decides): a turn never comes to a transaction whose own update holds it.
WRITE_TURN_SECONDS = 30.0


class _Writers:
    """This process's transactions take SQLite's one write lock in turn, first come first
    served: SQLite's busy handler polls with growing sleeps, so under load some waiters lost the
    race again and again until their busy timeout ("database is locked")."""

    def __init__(self) -> None:
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def turn(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._turns.get(loop)
        if lock is None:
            lock = self._turns[loop] = asyncio.Lock()
        return lock


async def _wait_for_turn(turn: asyncio.Lock, seconds: float) -> bool:
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can time out a lock it acquired.
    try:
        async with asyncio.timeout(seconds):
            await turn.acquire()
    except TimeoutError:
        return False
    return True


def _let_next_writer(info: dict[str, Any]) -> None:
    turn: asyncio.Lock | None = info.pop(_TURN, None)
    if turn is not None and turn.locked():
        turn.release()


def _end_abandoned_transaction(driver: Any) -> None:
    """Stop the statement of a connection given up midway, and roll its transaction back.

    A task cancelled during a statement (a stopping worker, a handler's timeout) leaves SQLite
    running it in aiosqlite's thread. SQLAlchemy then closes the connection, but SQLite closes a
    connection only once its statements are gone: the cancelled cursor's lives until the garbage
    collector frees it, and with it the transaction and the write lock. Every writer meanwhile
    waited out its busy timeout and failed ("database is locked"). Interrupting ends the
    statement now, and the rollback, queued in aiosqlite's thread before the close, ends the
    transaction. aiosqlite offers both only as coroutines, hence its attributes.
    """
    connection = getattr(driver, "_connection", None)  # aiosqlite's sqlite3.Connection
    queue = getattr(driver, "_tx", None)
    if connection is None or queue is None:
        return
    connection.interrupt()
    queue.put_nowait((None, connection.rollback))


def _reads_only(statement: str, context: Any) -> bool:
    """A SELECT (or PRAGMA) that takes no lock: not ``with_for_update()``, which SQLite does not
    render, so it is read from the statement being compiled (SQLAlchemy's ``_for_update_arg``)."""
    if statement.lstrip()[:6].upper() not in ("SELECT", "PRAGMA"):
        return False
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is None


def _take_write_lock(info: dict[str, Any], cursor: Any, writers: _Writers) -> None:
    """Turn a transaction that has only read into one holding SQLite's write lock.

    A deferred transaction that read and then writes fails at once ("database is locked") when
    another connection wrote since it read, whatever the busy timeout; beginning every transaction
    IMMEDIATE avoided that but made every update, reads included, queue for the one write lock
    and hold it across the awaits of its reads (under 200 learners some waited past the busy
    timeout). So a transaction begins deferred, and its first write (or savepoint, or
    ``SELECT … FOR UPDATE``) ends the reading part and begins IMMEDIATE: the writes are atomic
    and serialised, and what was read before is as fresh as PostgreSQL's READ COMMITTED gives.
    """
    turn = writers.turn()
    if await_only(_wait_for_turn(turn, WRITE_TURN_SECONDS)):
        info[_TURN] = turn
    else:
        log.warning("no turn to write to SQLite after %ss; trying anyway", WRITE_TURN_SECONDS)
    try:
        cursor.execute("COMMIT")
        cursor.execute("BEGIN IMMEDIATE")
    except BaseException:
        _let_next_writer(info)
        raise


def create_session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(
    session_maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed when the block ends, and rolled back if it raises."""
    async with session_maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def check_database(engine: AsyncEngine) -> None:
    """Open a connection and run ``SELECT 1``, or raise DatabaseUnavailable with a clear reason."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as error:
        reason = str(error.orig).splitlines()[0] if error.orig is not None else str(error)
        raise DatabaseUnavailable(f"cannot use the database at {where}: {reason}") from None
    except (OSError, socket.gaierror, TimeoutError) as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise DatabaseUnavailable(f"cannot reach the database at {where}: {reason}") from None
