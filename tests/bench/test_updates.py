"""The update benchmark at a tiny size, so that the script cannot rot: every bot answers."""

from __future__ import annotations

import argparse

import pytest

from bench.updates import bench


async def test_a_tiny_run_drives_the_baseline_and_the_product(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = argparse.Namespace(
        learners=2, seconds=1.0, database_url=None, webhook_workers=0, redis_url=None
    )
    baseline, product = await bench(arguments)
    for run in (baseline, product):
        assert run.start.updates > 0 and run.lesson.updates > 0, run.name
        assert run.lesson.unanswered == 0, run.name
        assert run.lesson.latencies, run.name
    # /start, language, role, privacy, municipality, no reminders
    assert product.start.updates == 2 * 6
    assert product.lesson.not_modified == 0
    printed = capsys.readouterr().out
    assert "lesson phase" in printed and "learntogether run" in printed
