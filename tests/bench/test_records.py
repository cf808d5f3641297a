"""The activity record benchmark at a tiny size, so that the script cannot rot."""

from __future__ import annotations

from pathlib import Path

from bench.records import measure
from learntogether.db.models import Verb


async def test_a_tiny_run_measures_steps_and_answers(tmp_path: Path) -> None:
    results = await measure(f"sqlite:///{tmp_path / 'records.db'}", records=10, learners=2)
    assert [result.verb for result in results] == [Verb.STEP, Verb.ANSWERED]
    assert all(result.cpu_ms > 0 and result.wall_ms > 0 for result in results)
    # SQLite: the activity and an UPDATE a roll-up (four for a step, three for an answer); each
    # learner's first record in a quarter hour also writes the roll-ups' rows (an INSERT each).
    step, answer = (result.statements for result in results)
    assert 5 <= step <= 5 + 2 * 2 * 4 / 10, step
    assert 4 <= answer <= 4 + 2 * 3 / 10, answer
