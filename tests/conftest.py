"""Shared fixtures: a migrated database on each backend, per-test transactions, clean databases."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from gettext import GNUTranslations
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies import models as fastapi_models
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from learntogether.config import Settings
from learntogether.db.base import Base
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.migrate import upgrade
from learntogether.i18n import CatalogI18n

pytest_plugins = ["tests.standin.fixtures", "tests.delivery.workers"]

PG_URL = os.environ.get("LT_TEST_DATABASE_URL")
# How long after its timeout a test the alarm did not stop may hang before the run is ended.
HUNG_GRACE_SECONDS = 60
_BACKSTOP = pytest.StashKey[threading.Timer]()
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
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        assert PG_URL is not None
        url = Settings(database_url=PG_URL).database_url
        if worker is not None:
            # Tests run side by side (pytest-xdist): each worker empties its own database.
            url = await _create_database(url, f"{make_url(url).database}_{worker}")
    engine = create_engine(url)
    if backend == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    yield TestDatabase(backend=backend, url=url, engine=engine)
    await engine.dispose()
    if backend == "postgresql" and worker is not None:
        await _drop_database(url)


async def _on_server(url: str, statement: str) -> None:
    """Run ``statement`` outside a transaction in the server's maintenance database."""
    engine = create_async_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _create_database(url: str, name: str) -> str:
    """A new empty database ``name`` on ``url``'s server (one left by a crashed run is dropped)."""
    await _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _on_server(url, f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _drop_database(url: str) -> None:
    await _on_server(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


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
    tables = reversed(Base.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        if database.backend == "postgresql":
            # One round trip instead of one a table (a tenth of a second a test on a busy
            # machine); TRUNCATE would take a second.
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            deletes = [str(table.delete().compile(connection)) for table in tables]
            await driver.execute(";".join(deletes))
        else:
            for table in tables:
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


@pytest.fixture(autouse=True, scope="session")
def catalogs_compiled_once() -> Iterator[None]:
    """Compile each set of ``.po`` catalogs once a session, not once an app or a bot.

    Every API app, console, bot and delivery worker a test builds compiles the seven catalogs
    (``CatalogI18n.find_locales``): a quarter of a second of CPU each time, the largest part of
    building a bot or an app, which most tests do. The compiled catalogs are shared, as a process
    shares its one set: a chain copies the catalogs it joins and leaves them as they were. The
    cache is keyed on the files' paths, sizes and modification times, so a catalog a test writes
    or changes is compiled anew.
    """
    compile_catalogs = CatalogI18n.find_locales
    compiled: dict[tuple[object, ...], dict[str, GNUTranslations]] = {}

    def find_locales(self: CatalogI18n) -> dict[str, GNUTranslations]:
        files = sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po"))
        key = tuple((str(file), file.stat().st_mtime_ns, file.stat().st_size) for file in files)
        if key not in compiled:
            compiled[key] = compile_catalogs(self)
        return dict(compiled[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CatalogI18n, "find_locales", find_locales)
        yield


@pytest.hookimpl(wrapper=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> object:
    """A backstop to pytest-timeout's alarm, which fails the test by raising where the main
    thread is: when that is another task of the event loop (a busy worker), that task dies and
    the test hangs on. A minute later this names the test and ends the run (exit status 1)."""
    backstop = threading.Timer(
        settings.timeout + HUNG_GRACE_SECONDS, _end_hung_run, (item, settings)
    )
    backstop.daemon = True
    backstop.start()
    item.stash[_BACKSTOP] = backstop
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> object:
    backstop = item.stash.get(_BACKSTOP, None)
    if backstop is not None:
        backstop.cancel()
    return (yield)


def _end_hung_run(item: pytest.Item, settings: Any) -> None:
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    item.config.get_terminal_writer().line(
        f"\n{item.nodeid} hung: still running {HUNG_GRACE_SECONDS}s after its "
        f"{settings.timeout:g}s timeout; the run ends here"
    )
    # Dumps every thread's stack and exits the process with status 1.
    item.config.pluginmanager.getplugin("timeout").timeout_timer(item, settings)
