"""Item analysis of a lesson's quiz, as Moodle's quiz statistics do it.

It reads the stored answers of each learner's **first finished attempt** (the one finished first;
later attempts are practised, not measured), summed as attempts finish (``db/question_sums.py``)
or, for a mediator, from the answers of its cohorts' members. One row per question and option, in
the order of the document; the question's own figures repeat on each of its rows:

- ``answers``: learners who answered the question;
- ``facility``: the share of them answering right (scored questions only);
- ``discrimination``: the correlation (Pearson, point-biserial) of the question's score (1 right,
  0 wrong) with the score on the rest of the quiz (right answers to the other scored questions).
  Near 1: those who know the rest get this right; near 0 or below: the question measures
  something else or misleads. Null without variation on either side;
- ``most_chosen_wrong``: the wrong option chosen most (ties: the first);
- ``option`` (numbered from 1; a likert row's option is its point 1–5), ``option_text``,
  ``correct``, ``chosen`` (learners who chose it) and ``chosen_share`` (of ``answers``).

An open question has one row without an option. Option texts and the right options come from the
version analysed (``version``) or the newest published one; answers of every version are analysed
unless a version is given.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.content.schema import LessonDocument, Question
from learntogether.db.models import (
    Lesson,
    LessonVersion,
    QuestionKind,
    QuestionSum,
    QuizAttempt,
)
from learntogether.db.question_sums import answers_summed, chosen_of, first_rank
from learntogether.i18n import SOURCE_LOCALE, locale_chain
from learntogether.services.actors import SYSTEM, Actor
from learntogether.services.errors import N_
from learntogether.services.player import SCORED
from learntogether.services.quizzes import LIKERT_POINTS
from learntogether.services.reports.query import (
    Cell,
    ReportTable,
    member_condition,
    newest_documents,
    rounded,
    share,
    wrong,
)

NAME = "questions"
COLUMNS = [
    "question",
    "question_text",
    "kind",
    "answers",
    "facility",
    "discrimination",
    "most_chosen_wrong",
    "option",
    "option_text",
    "correct",
    "chosen",
    "chosen_share",
]


async def questions(
    session: AsyncSession,
    *,
    lesson: str,
    version: int | None = None,
    locale: str = SOURCE_LOCALE,
    actor: Actor = SYSTEM,
) -> ReportTable:
    """Item analysis of the quiz of ``lesson`` (a slug), texts in ``locale`` (falling back to
    English). A mediator ``actor`` keeps to learners who are members of its cohorts.

    Raises InvalidInput naming the field for an unknown lesson or version.
    """
    lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == lesson))
    if lesson_id is None:
        raise wrong("lesson", N_("no lesson '{lesson}'", lesson=lesson))
    if version is None:
        version_ids = list(
            await session.scalars(
                select(LessonVersion.id).where(LessonVersion.lesson_id == lesson_id)
            )
        )
        document = (await newest_documents(session, [lesson_id]))[lesson_id][1]
    else:
        found = (
            await session.execute(
                select(LessonVersion.id, LessonVersion.document).where(
                    LessonVersion.lesson_id == lesson_id, LessonVersion.number == version
                )
            )
        ).first()
        if found is None:
            raise wrong(
                "version",
                N_("lesson '{lesson}' has no version {version}", lesson=lesson, version=version),
            )
        version_ids, document = [found[0]], found[1]
    analysed = await _analyse(session, version_ids, actor, every_version=version is None)
    chain = locale_chain(locale)
    rows: list[dict[str, Cell]] = []
    for question in LessonDocument.model_validate(document).questions():
        rows += _rows(question, analysed.get(question.key, _Sums()), chain)
    return ReportTable(NAME, COLUMNS, rows)


@dataclass
class _Sums:
    """One question's answers: how many, right, the sums for its discrimination, and how many
    chose each option (by stored index, or likert point)."""

    answers: int = 0
    right: int = 0
    rest: int = 0
    right_times_rest: int = 0
    rest_squared: int = 0
    chosen: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def discrimination(self) -> float | None:
        return correlation(
            self.answers,
            self.right,
            self.rest,
            self.right_times_rest,
            self.right,
            self.rest_squared,
        )


async def _analyse(
    session: AsyncSession, version_ids: list[int], actor: Actor, *, every_version: bool
) -> dict[str, _Sums]:
    """Every figure per question: from the sums kept as attempts finish (``db/question_sums.py``)
    for an actor who sees every learner, from the answers of first attempts for a mediator (its
    cohorts' members now: a few)."""
    if actor.cohort_ids is None:
        grouped = await _summed(session, version_ids, every_version=every_version)
    else:
        grouped = await _from_answers(session, version_ids, actor)
    sums: dict[str, _Sums] = defaultdict(_Sums)
    for key, chosen, (count, right, rest, right_times_rest, rest_squared) in grouped:
        question = sums[key]
        question.answers += count
        question.right += right
        question.rest += rest
        question.right_times_rest += right_times_rest
        question.rest_squared += rest_squared
        for index in chosen:
            question.chosen[index] += count
    return sums


_Grouped = list[tuple[str, list[int], tuple[int, ...]]]
"""Per question and choice made: the key, the options chosen, and the answers, right answers,
and the sums of rest, right × rest and rest²."""


async def _summed(
    session: AsyncSession, version_ids: list[int], *, every_version: bool
) -> _Grouped:
    """The kept sums of the versions; of every version, the learners' first attempts at the
    lesson only."""
    s = QuestionSum
    rows = await session.execute(
        select(
            s.question_key,
            s.choice,
            func.sum(s.answers),
            func.sum(s.right_answers),
            func.sum(s.rest),
            func.sum(s.right_times_rest),
            func.sum(s.rest_squared),
        )
        .where(
            s.lesson_version_id.in_(version_ids),
            *([s.first_of_lesson.is_(True)] if every_version else []),
        )
        .group_by(s.question_key, s.choice)
    )
    return [(key, chosen_of(choice), _ints(figures)) for key, choice, *figures in rows]


async def _from_answers(session: AsyncSession, version_ids: list[int], actor: Actor) -> _Grouped:
    """One pass over the answers of first attempts, grouped by question and the choice made (few
    distinct choices)."""
    ranked = (
        select(QuizAttempt.id, first_rank(QuizAttempt.user_id).label("rank"))
        .where(
            QuizAttempt.lesson_version_id.in_(version_ids),
            QuizAttempt.finished_at.is_not(None),
            member_condition(actor, QuizAttempt.user_id),
        )
        .subquery()
    )
    first_attempts = select(ranked.c.id).where(ranked.c.rank == 1).subquery()
    rows = await session.execute(answers_summed(first_attempts))
    return [
        (key, [int(index) for index in choice or []], _ints(figures))
        for key, choice, *figures in rows
    ]


def _ints(figures: Sequence[Any]) -> tuple[int, ...]:
    return tuple(int(value) for value in figures)


def correlation(n: int, sx: int, sy: int, sxy: int, sxx: int, syy: int) -> float | None:
    """Pearson's r from the sums of x, y, xy, x² and y² over n pairs; None without variance."""
    spread = (n * sxx - sx * sx) * (n * syy - sy * sy)
    if n < 2 or spread <= 0:
        return None
    return rounded((n * sxy - sx * sy) / math.sqrt(spread))


def _rows(question: Question, sums: _Sums, chain: Sequence[str]) -> list[dict[str, Cell]]:
    key = question.key
    answers = sums.answers
    chosen = sums.chosen
    scored = question.kind in SCORED
    if question.kind is QuestionKind.LIKERT:
        options: list[tuple[int, str | None, bool | None]] = [
            (point, None, None) for point in range(1, LIKERT_POINTS + 1)
        ]
    elif question.kind is QuestionKind.OPEN:
        options = []
    else:
        options = [
            (index + 1, pick_text(option.text, chain), option.correct)
            for index, option in enumerate(question.options)
        ]
    # Likert answers store the point itself; choice answers the option's index from 0.
    offset = 0 if question.kind is QuestionKind.LIKERT else 1

    def times(number: int) -> int:
        return chosen.get(number - offset, 0)

    wrong = [(times(number), -number) for number, _, right in options if right is False]
    most_wrong = -max(wrong)[1] if wrong and max(wrong)[0] > 0 else None
    shared: dict[str, Cell] = {
        "question": key,
        "question_text": pick_text(question.text, chain),
        "kind": question.kind.value,
        "answers": answers,
        "facility": share(sums.right, answers) if scored else None,
        "discrimination": sums.discrimination if scored else None,
        "most_chosen_wrong": most_wrong,
    }
    if not options:
        return [
            {
                **shared,
                "option": None,
                "option_text": None,
                "correct": None,
                "chosen": None,
                "chosen_share": None,
            }
        ]
    return [
        {
            **shared,
            "option": number,
            "option_text": text,
            "correct": right,
            "chosen": times(number),
            "chosen_share": share(times(number), answers),
        }
        for number, text, right in options
    ]
