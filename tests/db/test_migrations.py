"""The Alembic revisions build the schema the models describe, up and down, on each backend."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import learntogether.db.models  # noqa: F401  (registers every table on Base.metadata)
from learntogether.db import migrate
from learntogether.db.base import Base
from learntogether.db.engine import create_engine
from learntogether.db.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from learntogether.db.models import ParticipationWeek, Verb
from learntogether.db.models.activity import PARTICIPATION_FIGURES
from tests.conftest import TestDatabase
from tests.report_builders import add_learner, record

APP_TABLES = set(Base.metadata.tables)
FORBIDDEN_WORDS = ("ethnic", "roma", "race")


@pytest.fixture
async def migration_engine(database: TestDatabase, sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine to migrate up and down: a fresh SQLite file, or the session's PostgreSQL database.

    The PostgreSQL database is shared with the other tests, so it is left at head, and its pool is
    emptied so that no connection keeps statements prepared against the dropped tables.
    """
    if database.backend == "sqlite":
        engine = create_engine(sqlite_url)
        yield engine
        await engine.dispose()
    else:
        yield database.engine
        await upgrade(database.engine)
        await database.engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


async def test_upgrade_to_head_creates_every_table(migration_engine: AsyncEngine) -> None:
    await upgrade(migration_engine)

    assert await table_names(migration_engine) == APP_TABLES
    assert await current_revision(migration_engine) == head_revision()


async def test_downgrade_to_base_drops_every_table(migration_engine: AsyncEngine) -> None:
    await upgrade(migration_engine)

    await downgrade(migration_engine, "base")

    assert await table_names(migration_engine) == set()
    assert await current_revision(migration_engine) is None


async def test_upgrade_after_downgrade_reaches_head_again(migration_engine: AsyncEngine) -> None:
    await upgrade(migration_engine)
    await downgrade(migration_engine, "base")

    await upgrade(migration_engine)

    assert await table_names(migration_engine) == APP_TABLES
    assert await current_revision(migration_engine) == head_revision()


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_the_migrated_schema(database: TestDatabase) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_schema_differences)

    assert differences == [], "a model changed without a revision; see learntogether/db/migrate.py"


async def test_never_migrated_database_has_no_revision(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        assert await current_revision(engine) is None
    finally:
        await engine.dispose()


async def test_sqlite_foreign_keys_stay_on_after_migrating(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            enabled = await connection.scalar(text("PRAGMA foreign_keys"))
    finally:
        await engine.dispose()

    assert enabled == 1


def test_no_table_or_column_records_ethnicity() -> None:
    names = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
    ]

    assert names, "the models are not registered"
    assert [name for name in names if any(word in name.lower() for word in FORBIDDEN_WORDS)] == []


BATCH_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("probe", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.drop_column("probe")
"""


async def test_sqlite_batch_migration_keeps_rows_referencing_the_copied_table(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copying ``users`` drops the original; foreign keys must not cascade that to memberships."""
    engine = create_engine(sqlite_url)
    try:
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO users (id, telegram_id) VALUES (1, 7)"))
            await connection.execute(
                text("INSERT INTO cohorts (id, code, name) VALUES (1, 'c', 'C')")
            )
            await connection.execute(
                text("INSERT INTO memberships (cohort_id, user_id) VALUES (1, 1)")
            )
        versions = tmp_path / "versions"
        versions.mkdir()
        (versions / "9001_probe.py").write_text(BATCH_REVISION.format(head=head_revision()))
        config = alembic_config()
        config.set_main_option(
            "version_locations", os.pathsep.join([str(MIGRATIONS_DIR / "versions"), str(versions)])
        )
        monkeypatch.setattr(migrate, "alembic_config", lambda: config)

        await upgrade(engine)

        async with engine.connect() as connection:
            memberships = await connection.scalar(text("SELECT count(*) FROM memberships"))
    finally:
        await engine.dispose()

    assert memberships == 1


async def test_live_tokens_sharing_a_name_are_renamed_before_names_become_unique(
    migration_engine: AsyncEngine,
) -> None:
    await upgrade(migration_engine)
    await downgrade(migration_engine, "0005")
    rows = [
        (1, "office", None),
        (2, "office", None),
        (3, "office", datetime(2026, 1, 1, tzinfo=UTC)),
        (4, "med", None),
    ]
    async with migration_engine.begin() as connection:
        for token_id, name, revoked in rows:
            await connection.execute(
                text(
                    "INSERT INTO api_tokens (id, name, role, prefix, secret_hash, revoked_at) "
                    "VALUES (:id, :name, 'admin', :prefix, 'x', :revoked)"
                ),
                {"id": token_id, "name": name, "prefix": f"p{token_id}", "revoked": revoked},
            )
    try:
        await upgrade(migration_engine)
        async with migration_engine.connect() as connection:
            names = (
                await connection.execute(text("SELECT id, name FROM api_tokens ORDER BY id"))
            ).all()
    finally:
        async with migration_engine.begin() as connection:
            await connection.execute(text("DELETE FROM api_tokens"))

    # The first keeps its name; a later live twin is told apart; revoked ones keep theirs.
    assert [tuple(row) for row in names] == [
        (1, "office"),
        (2, "office-2"),
        (3, "office"),
        (4, "med"),
    ]


async def test_the_weeks_are_summed_again_for_the_programmes_clocks(
    migration_engine: AsyncEngine,
) -> None:
    """0012w: a week's first hours (UTC) are the roll-up's now; what the older margins summed is
    thrown away and ``db upgrade`` sums the weeks again from the counts."""
    await upgrade(migration_engine)
    try:
        async with AsyncSession(migration_engine, expire_on_commit=False) as session:
            ana = await add_learner(session)
            # A Monday 02:00 UTC: within 14 hours of the week's start, outside the old margins.
            await record(session, ana, Verb.ATTENDED, datetime(2026, 3, 9, 2, tzinfo=UTC))
            await session.commit()
        await downgrade(migration_engine, "0011q")
        async with migration_engine.begin() as connection:
            # A row as the older code summed it, which the new margins would not have.
            await connection.execute(
                insert(ParticipationWeek).values(
                    week=date(2026, 3, 2),
                    user_id=ana.id,
                    **{**dict.fromkeys(PARTICIPATION_FIGURES, 0), "attended": 5},
                )
            )
        await upgrade(migration_engine)
        async with migration_engine.connect() as connection:
            weeks = (
                await connection.execute(select(ParticipationWeek.week, ParticipationWeek.attended))
            ).all()
    finally:
        await downgrade(migration_engine, "base")

    assert [tuple(row) for row in weeks] == [(date(2026, 3, 9), 1)]
