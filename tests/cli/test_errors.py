"""Operator mistakes are one clear line on stderr and exit status 1, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from learntogether.cli import app

runner = CliRunner()


def _one_line_error(result_stderr: str) -> str:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1, result_stderr
    assert "Traceback" not in result_stderr
    return lines[0]


def test_bad_setting_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"LT_API_PORT": "99999"})
    assert result.exit_code == 1
    line = _one_line_error(result.stderr)
    assert line.startswith("error: invalid settings: LT_API_PORT: ")


def test_bad_database_url_is_one_line() -> None:
    result = runner.invoke(
        app, ["db", "upgrade"], env={"LT_DATABASE_URL": "oracle://scott@tiger/db"}
    )
    assert result.exit_code == 1
    assert _one_line_error(result.stderr) == (
        "error: invalid settings: LT_DATABASE_URL: database 'oracle' is not supported (use sqlite or postgresql)"
    )


def test_unreachable_database_is_one_line_without_password() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://lt:hunter2@127.0.0.1:{port}/lt"
    result = runner.invoke(app, ["db", "upgrade"], env={"LT_DATABASE_URL": url})
    assert result.exit_code == 1
    line = _one_line_error(result.stderr)
    assert line.startswith(
        f"error: cannot reach the database at postgresql+asyncpg://lt:***@127.0.0.1:{port}/lt"
    )
    assert "hunter2" not in result.output


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"LT_DATABASE_URL": f"sqlite:///{tmp_path / 'lt.db'}", "LT_API_PORT": str(port)}
        result = runner.invoke(app, ["api"], env=env)
    assert result.exit_code == 1
    assert _one_line_error(result.stderr) == (
        f"error: port {port} on 127.0.0.1 is already in use; set LT_API_PORT to another port"
    )


def test_bot_without_token_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bot"], env={"LT_DATABASE_URL": f"sqlite:///{tmp_path / 'lt.db'}"})
    assert result.exit_code == 1
    assert (
        _one_line_error(result.stderr) == "error: LT_BOT_TOKEN is not set: there is no bot to run"
    )


def test_a_database_never_migrated_is_one_line_saying_what_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    for command in (
        ["token", "create", "--name", "office", "--role", "admin"],
        ["console", "link", "--role", "admin", "--name", "Ana"],
    ):
        result = runner.invoke(app, command, env={"LT_DATABASE_URL": url})
        assert result.exit_code == 1, result.output
        assert _one_line_error(result.stderr) == (
            "error: the database has no tables yet: run `learntogether db upgrade` first"
            " (`learntogether run` does it when it starts)"
        )
