"""Exactly one scheduler runs jobs, however many processes start one; and whether one leads.

APScheduler 3 cannot share a job store between schedulers, so every process keeps its own
(in memory) and only the leader's runs. Leadership is a lock that dies with its holder:

- Redis (``LT_REDIS_URL``): a key with a short expiry, renewed while the leader lives;
- PostgreSQL: a session advisory lock, held by one open connection;
- SQLite: an exclusive lock on a file beside the database (one machine, by definition).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import secrets
from pathlib import Path
from typing import IO, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

LOCK_NAME = "learntogether:scheduler"
# pg_try_advisory_lock takes a 64-bit key: a fixed one for the scheduler.
ADVISORY_KEY = 0x4C54_5343_4845_44  # "LTSCHED"
LEASE_SECONDS = 30


class Leadership(Protocol):
    async def hold(self) -> bool:
        """Take or keep the lead; True while this process leads. Never raises."""

    async def release(self) -> None: ...


class RedisLeadership:
    _RENEW = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
    )

    def __init__(
        self, url: str, *, lease_seconds: float = LEASE_SECONDS, name: str = LOCK_NAME
    ) -> None:
        self.redis: Redis = Redis.from_url(url)
        self.name = name
        self.token = secrets.token_hex(16)
        self.lease_ms = int(lease_seconds * 1000)
        self.leading = False

    async def hold(self) -> bool:
        try:
            if self.leading:
                renewed = await self.redis.eval(
                    self._RENEW, 1, self.name, self.token, self.lease_ms
                )
                self.leading = bool(renewed)
            else:
                taken = await self.redis.set(self.name, self.token, nx=True, px=self.lease_ms)
                self.leading = bool(taken)
        except RedisError as error:
            log.warning("scheduler lock in Redis unavailable: %s", error)
            self.leading = False
        return self.leading

    async def release(self) -> None:
        with contextlib.suppress(RedisError):
            if self.leading:
                await self.redis.eval(
                    "if redis.call('get', KEYS[1]) == ARGV[1] then "
                    "return redis.call('del', KEYS[1]) else return 0 end",
                    1,
                    self.name,
                    self.token,
                )
        self.leading = False
        await self.redis.aclose()


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


def leadership_for(engine: AsyncEngine, redis_url: str | None) -> Leadership:
    """Redis when configured, else the database's own lock."""
    if redis_url:
        return RedisLeadership(redis_url)
    url = make_url(engine.url)
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(engine)
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return SoleLeadership()
    return FileLeadership(Path(database).with_suffix(".scheduler.lock"))


async def leader_exists(engine: AsyncEngine, redis_url: str | None) -> bool:
    """Whether some process (this one or another) holds the scheduler's lock now.

    Raises what the lock's store raises (RedisError, SQLAlchemyError) when it cannot be asked.
    """
    if redis_url:
        redis: Redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(await redis.exists(LOCK_NAME))
        finally:
            await redis.aclose()
    url = make_url(engine.url)
    if url.get_backend_name() == "postgresql":
        async with engine.connect() as connection:
            held = await connection.scalar(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1)"
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
