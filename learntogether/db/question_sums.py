"""Item analysis's sums (``question_sums``), kept as quizzes finish.

Item analysis (``services/reports/questions.py``) reads the answers of each learner's first
finished attempt at a lesson's quiz, of every version or of one. Read from ``answers``, that is
a pass over every answer given to the quiz (the benchmark's pre-survey: 205,344 answers of 22,783
first attempts, 0.3 to 1.4 s); summed here it is a few rows per question and choice.

**First** is the attempt finished first (then the lower id), not the one started first: an
attempt left half answered can be finished after a newer one (a mediator records the quiz from
paper while the learner's own attempt waits in the bot), and what measured the learner is the
result they had first.

``add_attempt`` runs as an attempt finishes, in its transaction, and adds its answers when the
learner has no other finished attempt at its version (with ``first_of_lesson`` when none at any
version of the lesson either): one statement. ``rebuild`` computes every sum from ``answers``
(``learntogether db recount``, the benchmark's bulk seed), ``rebuild_if_missing`` after the
migration that created the table. Answers and attempts are never deleted (erasing a learner's
data keeps the answers, their text nulled), so nothing ever leaves the sums.

Only models are imported here: the services, ``db upgrade`` and the seed all build on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    SQLColumnExpression,
    String,
    Subquery,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from learntogether.db import tables
from learntogether.db.models import Answer, LessonVersion, QuestionSum, QuizAttempt

FIGURES = ("answers", "right_answers", "rest", "right_times_rest", "rest_squared")
KEY = ("lesson_version_id", "first_of_lesson", "question_key", "choice")


def choice_key(choice: Iterable[int] | None) -> str:
    """An answer's choice as ``question_sums.choice`` keeps it: the indexes (or the likert
    point) in ascending order, comma-separated; empty for none."""
    return ",".join(str(int(index)) for index in sorted(choice or ()))


def chosen_of(key: str) -> list[int]:
    """The indexes (or likert point) a ``choice`` key names."""
    return [int(index) for index in key.split(",")] if key else []


async def add_attempt(
    session: AsyncSession,
    *,
    attempt_id: int,
    user_id: int,
    version_id: int,
    lesson_id: int,
    answers: Sequence[Answer],
) -> None:
    """Add the answers of the attempt ``attempt_id`` (``user_id``'s, at ``version_id`` of
    ``lesson_id``), finishing now, to the sums when it is the learner's first finished attempt at
    its version; one statement."""
    if not answers:
        return
    right_total = sum(answer.correct is True for answer in answers)
    params: dict[str, Any] = {
        "attempt_id": attempt_id,
        "user_id": user_id,
        "version_id": version_id,
        "summed_version_id": version_id,
        "lesson_id": lesson_id,
    }
    for number, answer in enumerate(answers):
        right = int(answer.correct is True)
        params |= {
            f"key_{number}": answer.question_key,
            f"choice_{number}": choice_key(answer.choice),
            f"right_{number}": right,
            f"rest_{number}": right_total - right,
        }
    statement = _add_statement(len(answers), session.get_bind().dialect.name)
    await session.execute(statement, params)


@cache
def _add_statement(count: int, dialect_name: str) -> Any:
    """``add_attempt``'s statement for ``count`` answers, built once per process (building and
    keying it anew was most of a finished quiz's Python time in SQLAlchemy)."""
    rows = [
        select(
            bindparam(f"key_{number}", type_=String).label("question_key"),
            bindparam(f"choice_{number}", type_=String).label("choice"),
            bindparam(f"right_{number}", type_=BigInteger).label("right_answers"),
            bindparam(f"rest_{number}", type_=BigInteger).label("rest"),
        )
        for number in range(count)
    ]
    given = (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("given")
    others = select(QuizAttempt.id).where(
        QuizAttempt.user_id == bindparam("user_id"),
        QuizAttempt.finished_at.is_not(None),
        QuizAttempt.id != bindparam("attempt_id"),
    )
    at_version = others.where(QuizAttempt.lesson_version_id == bindparam("version_id"))
    at_lesson = others.join(LessonVersion, LessonVersion.id == QuizAttempt.lesson_version_id).where(
        LessonVersion.lesson_id == bindparam("lesson_id")
    )
    answered_right, rest = given.c.right_answers, given.c.rest
    added = select(
        bindparam("summed_version_id", type_=BigInteger),
        ~at_lesson.exists(),
        given.c.question_key,
        given.c.choice,
        literal(1, BigInteger),
        answered_right,
        rest,
        answered_right * rest,
        rest * rest,
    ).where(~at_version.exists())
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # On the table: an ORM entity's INSERT executed with parameters is a bulk INSERT of them.
    sums = tables.question_sums
    statement = dialect.insert(sums).from_select([*KEY, *FIGURES], added)
    return statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: sums.c[name] + getattr(statement.excluded, name) for name in FIGURES},
    )


def first_rank(*partition: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """A finished attempt's place among the finished attempts of its ``partition`` (a learner's
    at a version, at a lesson), first finished first: 1 is the one item analysis reads."""
    return func.row_number().over(
        partition_by=partition, order_by=(QuizAttempt.finished_at, QuizAttempt.id)
    )


def answers_summed(firsts: Subquery, *carried: str) -> Select[Any]:
    """The answers of the attempts in ``firsts`` (by its ``id``) grouped by the columns of
    ``firsts`` named ``carried``, question and choice as stored: the key, then answers, right
    answers, and the sums of rest, right × rest and rest²."""
    right = case((Answer.correct.is_(True), 1), else_=0)
    # The rest of the quiz: the attempt's right answers but this one (likert and open are never
    # right, so they add nothing).
    per_answer = (
        select(
            *(firsts.c[name] for name in carried),
            Answer.question_key,
            Answer.choice,
            right.label("right"),
            (func.sum(right).over(partition_by=Answer.attempt_id) - right).label("rest"),
        )
        .join(firsts, firsts.c.id == Answer.attempt_id)
        .subquery()
    )
    a = per_answer.c
    keys = [*(a[name] for name in carried), a.question_key, a.choice]
    return select(
        *keys,
        func.count(),
        func.sum(a.right),
        func.sum(a.rest),
        func.sum(a.right * a.rest),
        func.sum(a.rest * a.rest),
    ).group_by(*keys)


async def rebuild(connection: AsyncConnection | AsyncSession) -> int:
    """Replace every sum with one computed from ``answers``; returns the rows written."""
    await _lock(connection)
    ranked = (
        select(
            QuizAttempt.id,
            QuizAttempt.lesson_version_id,
            first_rank(QuizAttempt.user_id, QuizAttempt.lesson_version_id).label("rank"),
            first_rank(QuizAttempt.user_id, LessonVersion.lesson_id).label("lesson_rank"),
        )
        .join(LessonVersion, LessonVersion.id == QuizAttempt.lesson_version_id)
        .where(QuizAttempt.finished_at.is_not(None))
        .subquery("ranked")
    )
    firsts = (
        select(
            ranked.c.id,
            ranked.c.lesson_version_id,
            (ranked.c.lesson_rank == 1).label("first_of_lesson"),
        )
        .where(ranked.c.rank == 1)
        .subquery("firsts")
    )
    grouped = await connection.execute(
        answers_summed(firsts, "lesson_version_id", "first_of_lesson")
    )
    # The same choice can be stored in another order (a multiple choice as tapped).
    sums: dict[tuple[int, bool, str, str], list[int]] = defaultdict(lambda: [0] * len(FIGURES))
    for version_id, first_of_lesson, question_key, choice, *figures in grouped:
        summed = sums[(version_id, bool(first_of_lesson), question_key, choice_key(choice))]
        for index, value in enumerate(figures):
            summed[index] += int(value)
    await connection.execute(delete(QuestionSum))
    rows = [
        dict(zip(KEY, key, strict=True)) | dict(zip(FIGURES, figures, strict=True))
        for key, figures in sums.items()
    ]
    if rows:
        await connection.execute(insert(QuestionSum), rows)
    return len(rows)


async def rebuild_if_missing(connection: AsyncConnection) -> bool:
    """Build the sums when attempts were finished but there are none (a database that just got
    the table); True when it did."""
    await _lock(connection)
    finished = await connection.scalar(select(exists().where(QuizAttempt.finished_at.is_not(None))))
    if not finished or await connection.scalar(select(exists().select_from(QuestionSum))):
        return False
    await rebuild(connection)
    return True


async def _lock(connection: AsyncConnection | AsyncSession) -> None:
    """Hold finishing attempts (and another rebuild) off the sums until this transaction ends.

    SQLite has one writer at a time anyway.
    """
    dialect = (
        connection.get_bind().dialect.name
        if isinstance(connection, AsyncSession)
        else connection.dialect.name
    )
    if dialect == "postgresql":
        await connection.execute(
            text(f"LOCK TABLE {QuestionSum.__tablename__} IN SHARE ROW EXCLUSIVE MODE")
        )
