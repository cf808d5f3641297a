"""PostgreSQL connections are pinged after sitting idle in the pool, not at every checkout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

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
