"""The activity record benchmark at a tiny size, so that the script cannot rot."""

from __future__ import annotations

from pathlib import Path

from bench.records import measure
from learntogether.db.models import Verb


async def test_a_tiny_run_measures_steps_and_answers(tmp_path: Path) -> None:
    results = await measure(f"sqlite:///{tmp_path / 'records.db'}", records=10, learners=2)
    assert [result.verb for result in results] == [Verb.STEP, Verb.ANSWERED]
    assert all(result.cpu_ms > 0 and result.wall_ms > 0 for result in results)
    # SQLite: the activity and an UPDATE a roll-up (counts, month, week, totals and, for a step,
    # lesson reach: the run's moment is inside its week and month); each learner's first record
    # of a kind also writes the roll-ups' rows (an INSERT each).
    step, answer = (result.statements for result in results)
    assert 6 <= step <= 6 + 2 * 5 / 10, step
    assert 5 <= answer <= 5 + 2 * 4 / 10, answer
