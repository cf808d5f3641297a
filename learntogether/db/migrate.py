"""Alembic migrations, run on the application's async engine (there is no alembic.ini).

``upgrade(engine)`` is what ``learntogether run`` and ``learntogether db upgrade`` call.

After changing a model, write the next revision with::

    .venv/bin/python -m learntogether.db.migrate revision "add goal notes"

That migrates a fresh temporary SQLite database to head, autogenerates
``migrations/versions/0002_add_goal_notes.py`` from the difference and prints its path
(``--database-url`` compares against another database already at head instead). Review it by
hand (autogenerate misses CHECK constraint changes, renames and data moves), then run
``pytest tests/db``: it fails while the models and the revisions disagree.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from learntogether.db import activity_log, question_sums
from learntogether.db.engine import create_engine

logger = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key: processes starting together (api, bot, worker) migrate one at a time.
_POSTGRES_MIGRATION_LOCK = 7_274_201


class MigrationError(Exception):
    """A migration left the database inconsistent; it was rolled back."""


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # "%%" because Alembic's ini interpolation reads "%(...)s".
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "40")
    return config


def head_revision() -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database up to ``revision``, in one transaction.

    At head, derived tables that a revision created empty are then filled from the record
    (the participation counts: ``activity_log.rebuild_if_missing``; item analysis's sums:
    ``question_sums.rebuild_if_missing``).
    """
    await _run_alembic(engine, lambda config: command.upgrade(config, revision))
    if revision == "head":
        async with engine.begin() as connection:
            if await activity_log.rebuild_if_missing(connection):
                logger.info("participation counts built from the activity record")
            if await question_sums.rebuild_if_missing(connection):
                logger.info("item analysis's sums built from the answers")


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Migrate the database down to ``revision`` ("base" drops every table), in one transaction."""
    await _run_alembic(engine, lambda config: command.downgrade(config, revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_revision_of)


def _revision_of(connection: Connection) -> str | None:
    # Only reading the revision: alembic's lines about its dialect say nothing to an operator.
    quiet = logging.getLogger("alembic.runtime.migration")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        return MigrationContext.configure(connection).get_current_revision()
    finally:
        quiet.setLevel(level)


async def make_revision(message: str, *, database_url: str | None = None) -> Path:
    """Autogenerate the next numbered revision from the models; returns the new file."""
    script = ScriptDirectory.from_config(alembic_config())
    numbers = [int(rev.revision) for rev in script.walk_revisions() if rev.revision.isdigit()]
    rev_id = f"{max(numbers, default=0) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(database_url or f"sqlite+aiosqlite:///{scratch}/autogenerate.db")
        try:
            if database_url is None:
                await upgrade(engine)
            await _run_alembic(
                engine,
                lambda config: command.revision(
                    config, message=message, autogenerate=True, rev_id=rev_id
                ),
            )
        finally:
            await engine.dispose()
    return next(MIGRATIONS_DIR.joinpath("versions").glob(f"{rev_id}_*.py"))


async def _run_alembic(engine: AsyncEngine, operation: Callable[[Config], object]) -> None:
    """Run an Alembic command on one connection of ``engine`` (Alembic's asyncio recipe)."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        operation(config)

    async with engine.connect() as connection:
        await connection.run_sync(_in_migration_transaction, run)


def _in_migration_transaction(connection: Connection, run: Callable[[Connection], None]) -> None:
    """Run ``run`` in one transaction, guarded per backend.

    SQLite: a batch migration copies a table, drops the original and renames the copy; with
    foreign keys on, that drop would cascade-delete every referencing row (memberships,
    progress …). So foreign keys are off while migrating (the pragma only works outside a
    transaction) and ``PRAGMA foreign_key_check`` must come back clean before the commit.
    PostgreSQL: an advisory lock makes concurrent starters wait for the first one's migration.
    """
    if connection.dialect.name != "sqlite":
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
                )
            run(connection)
        return
    _set_sqlite_foreign_keys(connection, enabled=False)
    try:
        with connection.begin():
            run(connection)
            violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise MigrationError(f"migration broke foreign keys: {violations[:5]}")
    finally:
        _set_sqlite_foreign_keys(connection, enabled=True)


def _set_sqlite_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    # Straight to the driver: a SQLAlchemy execute would first BEGIN (see engine.py).
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    finally:
        cursor.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m learntogether.db.migrate")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate the next revision")
    revision.add_argument("message", help='what changes, e.g. "add goal notes"')
    revision.add_argument("--database-url", help="compare against this database (at head)")
    arguments = parser.parse_args(argv)
    path = asyncio.run(make_revision(arguments.message, database_url=arguments.database_url))
    print(path)


if __name__ == "__main__":
    main()
