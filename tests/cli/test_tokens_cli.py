"""``learntogether token …`` on each database backend."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from learntogether.cli import app
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.models import ApiToken
from learntogether.services.tokens import split_token
from tests.conftest import TestDatabase

runner = CliRunner()


@pytest.fixture
def env(database: TestDatabase, session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return {"LT_DATABASE_URL": database.url, "LT_LOG_LEVEL": "WARNING"}


def test_create_prints_the_token_alone_on_the_last_line(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["token", "create", "--role", "admin", "--name", "office"], env=env)
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("lt_") and " " not in last
    assert "created admin token" in result.stdout


def test_only_a_hash_of_the_secret_is_stored(env: dict[str, str]) -> None:
    result = runner.invoke(
        app, ["token", "create", "--role", "viewer", "--name", "funder"], env=env
    )
    secret = split_token(result.stdout.strip().splitlines()[-1])[1]

    async def stored_token() -> ApiToken:
        engine = create_engine(env["LT_DATABASE_URL"])
        try:
            async with create_session_maker(engine)() as session:
                return (await session.scalars(select(ApiToken))).one()
        finally:
            await engine.dispose()

    # The command runs its own event loop, so this test is synchronous and reads with one too.
    stored = asyncio.run(stored_token())
    assert secret not in (stored.secret_hash, stored.prefix, stored.name)
    assert len(stored.secret_hash) == 64


def test_list_shows_names_and_roles_but_no_secret(env: dict[str, str]) -> None:
    created = runner.invoke(
        app, ["token", "create", "--role", "viewer", "--name", "funder"], env=env
    )
    secret = created.stdout.strip().splitlines()[-1]
    listed = runner.invoke(app, ["token", "list"], env=env)
    assert listed.exit_code == 0
    assert "funder" in listed.stdout and "viewer" in listed.stdout
    assert secret not in listed.stdout and split_token(secret)[1] not in listed.stdout


def test_revoke_by_name_hides_it_from_list_but_not_from_list_all(env: dict[str, str]) -> None:
    runner.invoke(app, ["token", "create", "--role", "viewer", "--name", "funder"], env=env)
    revoked = runner.invoke(app, ["token", "revoke", "funder"], env=env)
    assert revoked.exit_code == 0
    assert "revoked token" in revoked.stdout
    assert "funder" not in runner.invoke(app, ["token", "list"], env=env).stdout
    assert "(revoked)" in runner.invoke(app, ["token", "list", "--all"], env=env).stdout


def test_revoke_unknown_token_is_one_line_error(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["token", "revoke", "ghost"], env=env)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: No token with id, prefix or name 'ghost'."


def test_mediator_token_needs_a_known_cohort(env: dict[str, str]) -> None:
    missing = runner.invoke(app, ["token", "create", "--role", "mediator", "--name", "m"], env=env)
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "error: A mediator token needs at least one cohort."
    unknown = runner.invoke(
        app, ["token", "create", "--role", "mediator", "--name", "m", "--cohort", "X"], env=env
    )
    assert unknown.stderr.strip() == "error: No cohort with code X."


def test_unknown_role_is_refused_by_the_parser(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["token", "create", "--role", "owner", "--name", "x"], env=env)
    assert result.exit_code == 2
    assert "owner" in result.output
