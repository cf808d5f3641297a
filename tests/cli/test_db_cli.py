"""``learntogether db upgrade|downgrade`` on a fresh SQLite file."""

from __future__ import annotations

from typer.testing import CliRunner

from learntogether.cli import app
from learntogether.db.migrate import head_revision

runner = CliRunner()


def test_upgrade_downgrade_upgrade_reports_each_revision(sqlite_url: str) -> None:
    env = {"LT_DATABASE_URL": sqlite_url}
    up = runner.invoke(app, ["db", "upgrade"], env=env)
    assert up.exit_code == 0, up.output
    assert up.stdout.strip().endswith(f"is at revision {head_revision()}")
    down = runner.invoke(app, ["db", "downgrade", "base"], env=env)
    assert down.stdout.strip().endswith("is at revision None")
    again = runner.invoke(app, ["db", "upgrade"], env=env)
    assert again.stdout.strip().endswith(f"is at revision {head_revision()}")
