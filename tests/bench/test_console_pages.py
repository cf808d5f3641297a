"""The console pages benchmark on a tiny seeded database: it signs in, reaches every page, and
flags what is over the goal."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bench.console_pages import GOAL_MS, Timing, main, measure, report
from bench.seed import seed_database
from learntogether.db.models import TokenRole

LESSONS = Path(__file__).resolve().parents[2] / "lessons"


@pytest.fixture(scope="module")
async def seeded_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("bench") / "bench.db"
    await seed_database(
        f"sqlite+aiosqlite:///{database}",
        learners=60,
        activities=1500,
        end=date(2026, 11, 1),
        lessons_dir=LESSONS,
    )
    return database


@pytest.fixture
def seeded(seeded_once: Path, tmp_path: Path) -> str:
    """A copy of the database seeded once for this module: a run signs in, which writes."""
    for suffix in ("", "-wal"):
        if Path(f"{seeded_once}{suffix}").exists():
            shutil.copy(f"{seeded_once}{suffix}", tmp_path / f"bench.db{suffix}")
    return f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"


async def test_every_page_answers_as_an_admin_and_is_timed(seeded: str) -> None:
    baseline, timings = await measure(seeded, runs=1)
    assert baseline.status == 200
    paths = [timing.path for timing in timings]
    for page in (
        "/",
        "/reports/funnel",
        "/reports/awareness",
        "/reports/questions",
        "/access/audit",
    ):
        assert page in paths
    assert any(path.startswith("/cohorts/") for path in paths)
    assert any(path.startswith("/learners/") for path in paths)
    assert {timing.path: timing.status for timing in timings if timing.status != 200} == {}
    assert all(0 < timing.best_ms <= timing.median_ms for timing in timings)


async def test_a_mediator_reaches_the_pages_of_their_cohort(seeded: str) -> None:
    _, timings = await measure(seeded, runs=1, role=TokenRole.MEDIATOR)
    reports = [timing for timing in timings if timing.path.startswith("/reports/")]
    assert reports and all(timing.status == 200 for timing in reports)
    # The access pages are an admin's: refused, and the run says so.
    assert {timing.status for timing in timings if timing.path.startswith("/access")} == {403}


def test_slow_and_failed_pages_are_flagged() -> None:
    fast = Timing("/", 200, 10.0, 12.0)
    slow = Timing("/reports/funnel", 200, GOAL_MS, GOAL_MS + 1)
    failed = Timing("/access", 403, 1.0, 1.0)
    printed = report(Timing("/healthz", 200, 1.0, 1.0), [fast, slow, failed], 3)
    lines = printed.splitlines()
    assert "OVER" not in lines[1] and lines[2].endswith(f"OVER {GOAL_MS:.0f} ms")
    assert "HTTP 403" in lines[3]
    assert lines[-1] == "1 of 3 pages over 300 ms"


def test_command_line_prints_every_page(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", seeded, "--runs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "/reports/awareness" in printed and "pages over 300 ms" in printed


def test_only_times_the_pages_named(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "--database-url",
                seeded,
                "--runs",
                "1",
                "--only",
                "/access/tokens",
                "--only",
                "/cohorts/*",
                "--only",
                "/",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out.splitlines()
    timed = [line.split()[0] for line in printed[1:-1]]
    assert "/access/tokens" in timed
    assert any(path.startswith("/cohorts/") for path in timed)
    assert "/" in timed and "/access/tokens/new" not in timed
    assert all(path in ("/", "/access/tokens") or path.startswith("/cohorts/") for path in timed)
    assert printed[-1].endswith(f"of {len(timed)} pages over 300 ms")
