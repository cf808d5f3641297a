"""How many SQL statements a learner's press costs, counted through the stand-in end to end.

A bound per press keeps the hot path from growing a query at a time: hundreds of learners press
at once after a broadcast (see bench/updates.py). Transaction control (BEGIN, COMMIT, SAVEPOINT)
is not counted; the statements are shown when a count is not the expected one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from learntogether.db.models import Answer, LessonProgress, ProgressStatus, QuizAttempt
from learntogether.runtime import BotParts
from tests.conftest import TestDatabase
from tests.content.samples import every_kind_lesson, lesson
from tests.factories import create_learner, import_sample_curriculum
from tests.standin import BotAPIStandIn, SimUser

pytestmark = pytest.mark.usefixtures("curriculum")
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@pytest.fixture
async def curriculum(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    lessons = {"01-every-kind.yaml": every_kind_lesson(), "02-what-segregation-is.yaml": lesson()}
    await import_sample_curriculum(session_maker, tmp_path / "lessons", lessons)


@contextmanager
def statements(database: TestDatabase, *, width: int = 160) -> Iterator[list[str]]:
    """The SQL statements run on the database inside the block, transaction control left out,
    each its first ``width`` characters."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(_CONTROL):
            seen.append(" ".join(statement.split())[:width])

    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", note)


@contextmanager
def flushes() -> Iterator[list[str]]:
    """The classes of the objects each ORM flush inside the block wrote (a flush with nothing to
    write is not one)."""
    seen: list[str] = []

    def note(session: Session, *_args: Any) -> None:
        changed = [*session.new, *session.dirty, *session.deleted]
        seen.append(",".join(sorted({type(instance).__name__ for instance in changed})))

    event.listen(Session, "before_flush", note)
    try:
        yield seen
    finally:
        event.remove(Session, "before_flush", note)


async def press_counted(
    database: TestDatabase, user: SimUser, button: str, expect: str, *, width: int = 160
) -> list[str]:
    """Press ``button``, wait for a message saying ``expect`` and for the update to settle."""
    with statements(database, width=width) as seen:
        await user.press(button)
        await user.wait_for(lambda m: expect in m["text"])
        count = -1
        while count != len(seen):  # the last commit comes after the reply
            count = len(seen)
            await asyncio.sleep(0.2)
    return list(seen)


async def test_presses_through_a_lesson_take_a_few_statements_each(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    database: TestDatabase,
) -> None:
    await create_learner(session_maker, 6101)
    ana = standin.add_user(6101, first_name="Ana", language_code="en")
    await ana.send("/lessons")
    catalogue = await ana.next_message()
    track = catalogue["reply_markup"]["inline_keyboard"][0][0]["text"]
    seen = {
        "track": await press_counted(database, ana, track, "Every kind (4 min)"),
        "catalogue": await press_counted(database, ana, "◀ All tracks", "come first"),
    }
    await ana.press(track)
    await ana.wait_for(lambda m: "Every kind (4 min)" in m["text"])
    seen |= {
        "open": await press_counted(database, ana, "🆕 Every kind", "step 1 of 2"),
        "step": await press_counted(database, ana, "Next ▶", "Second step."),
        "quiz": await press_counted(database, ana, "Start the quiz ▶", "Question 1 of 5"),
        "answer": await press_counted(database, ana, "B", "Question 2 of 5"),
    }
    # On PostgreSQL a step forward moves the progress inside its record's statement; a lesson's
    # first opening writes its progress inside the start's, and whether a start is the learner's
    # first is asked there too (before: open 6, step 4). An answer's row and its attempt's next
    # question are written inside the answer's record (before: answer 5). The catalogue and a
    # track read the offer and the learner's progress in it in one statement (before: 3).
    # Before the curriculum was kept in the process: 6, 12, 12, 8 and 14; before this round 4,
    # 16, 10, 5 and 11 on both databases. A counted record (opening a lesson, a step, an answer)
    # is one statement on PostgreSQL: the activity and every roll-up it adds to (participation
    # counts, months, weeks and totals, lesson reach), with the learner's newest cohort looked up
    # inside it; opening asks whether the lesson was started before inside it. On SQLite the activity, then
    # per roll-up an UPDATE and, the first time in a quarter hour, an INSERT. The progress or
    # attempt a button names is read with its version (and an attempt with its progress) in one
    # statement.
    bounds = {
        "postgresql": {"track": 2, "catalogue": 2, "open": 3, "step": 3, "quiz": 4, "answer": 3},
        "sqlite": {"track": 2, "catalogue": 2, "open": 13, "step": 9, "quiz": 4, "answer": 9},
    }[database.engine.dialect.name]
    counts = {name: len(seen[name]) for name in bounds}
    assert all(counts[name] <= bound for name, bound in bounds.items()), (counts, seen)
    # The documents were read for /lessons; no press reads one again.
    assert not [s for press in seen.values() for s in press if "lesson_versions.document" in s]


async def test_opening_a_lesson_and_a_step_write_the_progress_without_the_orm_unit_of_work(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    database: TestDatabase,
) -> None:
    # The most frequent press writes one column: an ORM load and flush for it cost more of the
    # bot's CPU than the statements themselves (bench/updates.py, py-spy); opening writes a row.
    learner = await create_learner(session_maker, 6102)
    ana = standin.add_user(6102, first_name="Ana", language_code="en")
    await ana.send("/lessons")
    catalogue = await ana.next_message()
    await ana.press(catalogue["reply_markup"]["inline_keyboard"][0][0]["text"])
    await ana.wait_for(lambda m: "Every kind (4 min)" in m["text"])
    with flushes() as flushed:
        seen = await press_counted(database, ana, "🆕 Every kind", "step 1 of 2")
    assert flushed == [], flushed
    assert len([s for s in seen if "INSERT INTO lesson_progress" in s]) == 1, seen
    for button, expect, step in (("Next ▶", "Second step.", 1), ("◀ Back", "step 1 of 2", 0)):
        with flushes() as flushed:
            seen = await press_counted(database, ana, button, expect)
        assert flushed == [], flushed
        # Forward, inside the step's record on PostgreSQL; back, alone (nothing recorded).
        assert len([s for s in seen if "UPDATE lesson_progress SET step_index" in s]) == 1, seen
        async with session_maker() as session:
            where = await session.scalar(
                select(LessonProgress.step_index).where(LessonProgress.user_id == learner.id)
            )
        assert where == step


async def test_starting_a_quiz_and_answering_write_without_the_orm_unit_of_work(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    database: TestDatabase,
) -> None:
    # Most presses on the lesson path answer a question: the answer's row and the attempt's next
    # question are plain writes, inside the answer's record on PostgreSQL.
    learner = await create_learner(session_maker, 6103)
    ana = standin.add_user(6103, first_name="Ana", language_code="en")
    await ana.send("/lessons")
    catalogue = await ana.next_message()
    await ana.press(catalogue["reply_markup"]["inline_keyboard"][0][0]["text"])
    await ana.wait_for(lambda m: "Every kind (4 min)" in m["text"])
    await ana.press("🆕 Every kind")
    await ana.wait_for(lambda m: "step 1 of 2" in m["text"])
    await ana.press("Next ▶")
    await ana.wait_for(lambda m: "Second step." in m["text"])
    with flushes() as flushed:
        seen = await press_counted(database, ana, "Start the quiz ▶", "Question 1 of 5")
    assert flushed == [], flushed
    assert len([s for s in seen if "INSERT INTO quiz_attempts" in s]) == 1, seen
    with flushes() as flushed:
        seen = await press_counted(database, ana, "B", "Question 2 of 5", width=10_000)
    assert flushed == [], flushed
    written = [s for s in seen if "INSERT INTO answers" in s]
    moved = [s for s in seen if "UPDATE quiz_attempts SET question_index" in s]
    if database.engine.dialect.name == "postgresql":  # one statement: the record's
        assert len(written) == 1 and written == moved, seen
    else:
        assert (len(written), len(moved)) == (1, 1), seen
    async with session_maker() as session:
        attempt = await session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learner.id))
        assert attempt is not None
        answers = list(await session.scalars(select(Answer).where(Answer.attempt_id == attempt.id)))
    assert (attempt.question_index, attempt.poll_id, attempt.finished_at) == (1, None, None)
    assert [(a.question_key, a.choice, a.correct, a.answered_at is not None) for a in answers] == [
        ("one", [1], True, True)
    ]
    for button, expect in (
        ("☐ A", "☑ A"),
        ("☐ C", "☑ C"),
        ("Submit", "Question 3 of 5"),
        ("True", "Question 4 of 5"),
        ("1 · Strongly disagree", "Question 5 of 5"),
    ):
        await ana.press(button)
        await ana.wait_for(lambda m, expect=expect: expect in f"{m['text']}{m.get('reply_markup')}")  # type: ignore[misc]
    with flushes() as flushed:
        seen = await press_counted(database, ana, "Skip", "You answered 3 of 3", width=10_000)
    # The last answer finishes the attempt and the progress as plain rows too; reviews planned
    # and a certificate are still the ORM's. Neither the lesson's nor the track's stored document
    # is read: the process keeps them.
    assert not {"QuizAttempt", "LessonProgress"} & {n for f in flushed for n in f.split(",")}
    assert not [s for s in seen if "lesson_versions.document" in s or "tracks.document" in s], seen
    bound = {"postgresql": 20, "sqlite": 36}[database.engine.dialect.name]
    assert len(seen) <= bound, (len(seen), seen)
    async with session_maker() as session:
        progress = await session.scalar(
            select(LessonProgress).where(LessonProgress.user_id == learner.id)
        )
        finished = await session.get(QuizAttempt, attempt.id)
    assert progress is not None and finished is not None
    assert (progress.status, progress.passed, progress.best_score) == (
        ProgressStatus.COMPLETED,
        True,
        100.0,
    )
    assert progress.completed_at is not None
    assert (finished.score, finished.max_score, finished.passed) == (3, 3, True)
    assert finished.finished_at is not None and finished.question_index == 5
