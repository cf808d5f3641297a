"""Item analysis: answers, facility, discrimination, options chosen, first attempts only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import correlation

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Cohort, QuizAttempt, Role, User
from learntogether.services import learners, quizzes
from learntogether.services.actors import SYSTEM
from learntogether.services.errors import InvalidInput
from learntogether.services.reports import questions
from learntogether.services.reports.questions import COLUMNS
from tests.content.samples import every_kind_lesson
from tests.factories import mediating
from tests.report_builders import add_cohort, import_track, take_quiz

CHAIN = ["en"]
# Per learner, in question order: one (B right), many (A and C right), tf (True right), feel
# (likert), think (open).
Answers = tuple[list[int], list[int], list[int], list[int], str | None]
FIRST: dict[str, Answers] = {
    "l1": ([1], [0, 2], [0], [5], "Mix the groups."),  # 3 right
    "l2": ([1], [0], [0], [4], None),  # 2 right
    "l3": ([0], [0, 1, 2], [1], [2], "Not sure."),  # 0 right
    "l4": ([0], [0, 2], [0], [4], "Talk to parents."),  # 2 right
}
ALL_WRONG: Answers = ([0], [1], [1], [1], None)


async def _curriculum(session: AsyncSession) -> None:
    await import_track(session, [("kinds", every_kind_lesson())])


async def _learner(session: AsyncSession, telegram_id: int, cohort: Cohort | None = None) -> User:
    return await learners.register(
        session,
        telegram_id=telegram_id,
        first_name="L",
        locale="en",
        role=Role.TEACHER,
        cohort_code=cohort.code if cohort else None,
    )


@pytest.fixture
async def answered(session: AsyncSession) -> dict[str, User]:
    """Four first attempts; l1 tries again (all wrong) and l5 leaves an attempt unfinished."""
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    await _curriculum(session)
    people = {}
    for number, (name, answers) in enumerate(FIRST.items(), start=1):
        people[name] = await _learner(session, number, sliven if name in ("l1", "l2") else None)
        await take_quiz(session, people[name], "kinds", answers)
    await take_quiz(session, people["l1"], "kinds", ALL_WRONG)
    people["l5"] = await _learner(session, 5)
    await take_quiz(session, people["l5"], "kinds", FIRST["l1"][:2])
    return people


def _discrimination(item: list[int], totals: list[int]) -> float:
    return round(correlation(item, [total - x for x, total in zip(item, totals, strict=True)]), 3)


TOTALS = [3, 2, 0, 2]


def _question(rows: Sequence[Mapping[str, object]], key: str) -> list[Mapping[str, object]]:
    return [row for row in rows if row["question"] == key]


async def test_single_choice_figures(session: AsyncSession, answered: dict[str, User]) -> None:
    table = await questions(session, lesson="kinds")
    assert table.columns == COLUMNS
    shared = {
        "question": "one",
        "question_text": "Pick B.",
        "kind": "single",
        "answers": 4,
        "facility": 0.5,
        "discrimination": _discrimination([1, 1, 0, 0], TOTALS),
        "most_chosen_wrong": 1,
    }
    assert _question(table.rows, "one") == [
        {
            **shared,
            "option": 1,
            "option_text": "A",
            "correct": False,
            "chosen": 2,
            "chosen_share": 0.5,
        },
        {
            **shared,
            "option": 2,
            "option_text": "B",
            "correct": True,
            "chosen": 2,
            "chosen_share": 0.5,
        },
    ]


async def test_multiple_and_true_false_figures(
    session: AsyncSession, answered: dict[str, User]
) -> None:
    rows = (await questions(session, lesson="kinds")).rows
    many = _question(rows, "many")
    assert {
        (row["answers"], row["facility"], row["discrimination"], row["most_chosen_wrong"])
        for row in many
    } == {(4, 0.5, _discrimination([1, 0, 0, 1], TOTALS), 2)}
    assert [(r["option"], r["correct"], r["chosen"], r["chosen_share"]) for r in many] == [
        (1, True, 4, 1.0),
        (2, False, 1, 0.25),
        (3, True, 3, 0.75),
    ]
    tf = _question(rows, "tf")
    assert {(r["facility"], r["discrimination"], r["most_chosen_wrong"]) for r in tf} == {
        (0.75, _discrimination([1, 1, 0, 1], TOTALS), 2)
    }
    assert [(r["option_text"], r["chosen"]) for r in tf] == [("True", 3), ("False", 1)]


async def test_likert_and_open_questions_have_no_right_answer(
    session: AsyncSession, answered: dict[str, User]
) -> None:
    rows = (await questions(session, lesson="kinds")).rows
    feel = _question(rows, "feel")
    assert [(r["option"], r["chosen"], r["chosen_share"]) for r in feel] == [
        (1, 0, 0.0),
        (2, 1, 0.25),
        (3, 0, 0.0),
        (4, 2, 0.5),
        (5, 1, 0.25),
    ]
    assert {
        (r["answers"], r["facility"], r["discrimination"], r["most_chosen_wrong"], r["correct"])
        for r in feel
    } == {(4, None, None, None, None)}
    assert _question(rows, "think") == [
        {
            "question": "think",
            "question_text": "What will you try?",
            "kind": "open",
            "answers": 4,
            "facility": None,
            "discrimination": None,
            "most_chosen_wrong": None,
            "option": None,
            "option_text": None,
            "correct": None,
            "chosen": None,
            "chosen_share": None,
        }
    ]


async def test_erased_learners_answers_still_count(
    session: AsyncSession, answered: dict[str, User]
) -> None:
    before = await questions(session, lesson="kinds")
    await learners.erase(session, learner=answered["l3"])
    assert (await questions(session, lesson="kinds")).rows == before.rows


async def test_mediator_sees_its_cohorts_learners_only(
    session: AsyncSession, answered: dict[str, User]
) -> None:
    sliven = await session.scalar(select(Cohort.id).where(Cohort.code == "SLV1"))
    assert sliven is not None
    rows = (await questions(session, lesson="kinds", actor=mediating(sliven))).rows
    one = _question(rows, "one")
    # l1 and l2 only: both right, so no variance and no wrong option chosen.
    assert [(r["answers"], r["facility"], r["discrimination"], r["chosen"]) for r in one] == [
        (2, 1.0, None, 0),
        (2, 1.0, None, 2),
    ]
    assert {r["most_chosen_wrong"] for r in one} == {None}


async def test_a_version_and_unknown_names(
    session: AsyncSession, answered: dict[str, User]
) -> None:
    first = await questions(session, lesson="kinds", version=1)
    assert first.rows == (await questions(session, lesson="kinds")).rows
    with pytest.raises(InvalidInput) as version:
        await questions(session, lesson="kinds", version=9)
    assert [p.path for p in version.value.problems] == ["$.version"]
    with pytest.raises(InvalidInput) as lesson_:
        await questions(session, lesson="nope")
    assert [p.path for p in lesson_.value.problems] == ["$.lesson"]


async def test_no_answers_yet(session: AsyncSession) -> None:
    await _curriculum(session)
    rows = (await questions(session, lesson="kinds")).rows
    assert {(r["answers"], r["facility"], r["chosen"]) for r in rows if r["kind"] == "single"} == {
        (0, None, 0)
    }


async def test_the_attempt_finished_first_is_analysed_not_the_one_started_first(
    session: AsyncSession,
) -> None:
    """A half-answered attempt finished after a newer one (a mediator recorded the quiz from paper
    meanwhile) is practice: the learner was measured by the newer one."""
    await _curriculum(session)
    cohort = await add_cohort(session, "SLV9", region="Sliven", municipality="Sliven")
    ana = await _learner(session, 1, cohort)
    await take_quiz(session, ana, "kinds", FIRST["l1"][:2])
    await take_quiz(session, ana, "kinds", ALL_WRONG)
    older = await session.scalar(
        select(QuizAttempt).where(QuizAttempt.user_id == ana.id, QuizAttempt.finished_at.is_(None))
    )
    assert older is not None
    for index, given in enumerate(FIRST["l1"][2:], start=2):
        await quizzes.answer(
            session,
            learner=ana,
            attempt_id=older.id,
            index=index,
            chosen=given if isinstance(given, list) else [],
            text=given if isinstance(given, str) else None,
            chain=CHAIN,
        )
    for actor in (SYSTEM, mediating(cohort.id)):
        one = _question((await questions(session, lesson="kinds", actor=actor)).rows, "one")
        assert [(r["answers"], r["facility"], r["chosen"]) for r in one] == [
            (1, 0.0, 1),
            (1, 0.0, 0),
        ]
