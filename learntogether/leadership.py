"""Exactly one scheduler runs jobs, however many processes start one; and whether one leads.

APScheduler 3 cannot share a job store between schedulers, so every process keeps its own
(in memory) and only the leader's runs. Leadership is a lock in the database, which dies with
its holder:

- PostgreSQL: a session advisory lock, held by one open connection;
- SQLite: an exclusive lock on a file beside the database (one machine, by definition).

Not in Redis, even with ``LT_REDIS_URL``: the jobs need the database anyway, so its lock adds no
dependency, while a lock in Redis made the scheduler stop whenever Redis did. Falling back to the
database's lock only during an outage would not do: a process cut off from Redis alone would
take the database's lock while the leader still held Redis's, and both would lead.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# pg_try_advisory_lock takes a 64-bit key: a fixed one for the scheduler.
ADVISORY_KEY = 0x4C54_5343_4845_44  # "LTSCHED"
# A leader checks that it still holds the lock, and the others seek it, at least this often.
CHECK_SECONDS = 10


class Leadership(Protocol):
    async def hold(self) -> bool:
        """Take or keep the lead; True while this process leads. Never raises."""

    async def release(self) -> None: ...


class PostgresLeadership:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.connection: AsyncConnection | None = None

    async def hold(self) -> bool:
        try:
            if self.connection is not None:
                # The lock lives as long as this connection: check it is still there.
                await self.connection.execute(text("SELECT 1"))
                return True
            connection = await self.engine.connect()
            taken = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            )
            await connection.commit()
            if taken:
                self.connection = connection
                return True
            await connection.close()
        except (SQLAlchemyError, OSError) as error:
            log.warning("scheduler lock in PostgreSQL unavailable: %s", error)
            await self._drop()
        return False

    async def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.connection.close()
            self.connection = None

    async def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY}
                )
        await self._drop()


class FileLeadership:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[bytes] | None = None

    async def hold(self) -> bool:
        if self.file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.file = handle
        return True

    async def release(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.file.fileno(), fcntl.LOCK_UN)
            self.file.close()
            self.file = None


class SoleLeadership:
    """An in-memory database lives in one process: that process leads."""

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def leadership_for(engine: AsyncEngine) -> Leadership:
    """The database's own lock."""
    url = make_url(engine.url)
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(engine)
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return SoleLeadership()
    return FileLeadership(Path(database).with_suffix(".scheduler.lock"))


async def leader_exists(engine: AsyncEngine) -> bool:
    """Whether some process (this one or another) holds the scheduler's lock now.

    Raises SQLAlchemyError when the database cannot be asked.
    """
    url = make_url(engine.url)
    if url.get_backend_name() == "postgresql":
        async with engine.connect() as connection:
            held = await connection.scalar(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
                    # Advisory locks are per database; the server lists every database's.
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database()))"
                ),
                {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFFFFFF},
            )
        return bool(held)
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return True
    return _file_locked(Path(database).with_suffix(".scheduler.lock"))


def _file_locked(path: Path) -> bool:
    if not path.exists():
        return False
    with path.open("ab") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False
