"""Shared fixtures: a migrated database on each backend, per-test transactions, clean databases."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.dependencies import models as fastapi_models
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.base import Base
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.migrate import upgrade

pytest_plugins = ["tests.standin.fixtures", "tests.delivery.workers"]

PG_URL = os.environ.get("LT_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


@dataclass
class TestDatabase:
    backend: str
    url: str
    engine: AsyncEngine

    __test__ = False


@pytest.fixture(scope="session", params=BACKENDS)
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestDatabase]:
    """A database migrated to head, fresh for this test session (PostgreSQL's is wiped first)."""
    backend: str = request.param
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        assert PG_URL is not None
        url = Settings(database_url=PG_URL).database_url
    engine = create_engine(url)
    if backend == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    yield TestDatabase(backend=backend, url=url, engine=engine)
    await engine.dispose()


@pytest.fixture
async def session(database: TestDatabase) -> AsyncIterator[AsyncSession]:
    """A session in a transaction rolled back after the test; commits become savepoints."""
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
async def session_maker(database: TestDatabase) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session maker for code that commits itself (bot, API, CLI); tables are emptied after."""
    yield create_session_maker(database.engine)
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'lt.db'}"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LT_ variable or .env file of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("LT_") and not name.startswith("LT_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def forget_apps() -> Iterator[None]:
    """Let each test's apps go when it ends.

    FastAPI (0.165) remembers, in module-level caches of 4,096 entries, which of the callables it
    sees are generators or coroutines; the request handlers it builds per app close over the app,
    so the cache kept every app a test made (a console app holds its catalogs and templates): the
    whole suite reached 2.3 GB and spent its time collecting garbage. A process serves one app;
    only tests make hundreds.
    """
    yield
    for cached in (
        fastapi_models._is_gen_callable_cached,
        fastapi_models._is_async_gen_callable_cached,
        fastapi_models._is_coroutine_callable_cached,
    ):
        cached.cache_clear()
