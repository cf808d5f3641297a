"""Awareness before and after: paired learners only, reversed items, groups, suppression."""

from __future__ import annotations

from statistics import mean

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Cohort, Role, User
from learntogether.services import learners
from learntogether.services.errors import InvalidInput
from learntogether.services.reports import GroupBy, awareness
from tests.content.samples import lesson, survey
from tests.factories import mediating
from tests.report_builders import add_cohort, import_track, take_quiz

CHAIN = ["en"]
ITEMS = ["mixed", "fair"]  # "fair" is reversed: agreeing means less awareness
# Points (mixed, fair) before and after, by learner.
SLIVEN = {
    1: ((2, 4), (4, 2)),
    2: ((3, 3), (4, 2)),
    3: ((1, 5), (3, 3)),
    4: ((2, 4), (2, 4)),
    5: ((4, 2), (5, 1)),
    6: ((3, 4), (4, 1)),
}
SOFIA = {7: ((2, 4), (3, 3)), 8: ((1, 5), (5, 1))}


def _value(item: str, point: int) -> int:
    return 6 - point if item == "fair" else point


def _expected(
    answers: dict[int, tuple[tuple[int, int], tuple[int, int]]],
) -> list[dict[str, object]]:
    """The rows the report should give for these learners, computed plainly."""
    before = {
        i: [_value(item, pre[i]) for pre, _ in answers.values()] for i, item in enumerate(ITEMS)
    }
    after = {
        i: [_value(item, post[i]) for _, post in answers.values()] for i, item in enumerate(ITEMS)
    }
    every_before = [value for values in before.values() for value in values]
    every_after = [value for values in after.values() for value in values]
    rows: list[dict[str, object]] = [_row(None, len(answers), every_before, every_after)]
    rows += [_row(item, len(answers), before[i], after[i]) for i, item in enumerate(ITEMS)]
    return rows


def _row(
    item: str | None, learners_: int, before: list[int], after: list[int]
) -> dict[str, object]:
    return {
        "item": item,
        "learners": learners_,
        "pre_mean": round(mean(before), 3),
        "post_mean": round(mean(after), 3),
        "shift": round(mean(after) - mean(before), 3),
        "suppressed": False,
    }


def _suppressed(learners_: int) -> list[dict[str, object]]:
    return [
        {
            "item": item,
            "learners": learners_,
            "pre_mean": None,
            "post_mean": None,
            "shift": None,
            "suppressed": True,
        }
        for item in [None, *ITEMS]
    ]


async def _survey(session: AsyncSession, learner: User, slug: str, points: tuple[int, ...]) -> None:
    await take_quiz(session, learner, slug, [[point] for point in points])


@pytest.fixture
async def surveyed(session: AsyncSession) -> dict[int, User]:
    """Six teachers of SLV1 and two parents of SOF1 answered both surveys.

    Learner 1 took the pre-survey again afterwards (its first answers count) and the
    post-survey twice (its latest answers count); learner 9 (SLV1) never took the post-survey.
    """
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    sofia = await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
    pre, post = survey("pre", ITEMS), survey("post", ITEMS)
    for document in (pre, post):
        document["quiz"]["questions"][1]["reverse"] = True
    await import_track(session, [("before", pre), ("middle", lesson()), ("after", post)])
    people: dict[int, User] = {}
    for number, (pre_points, post_points) in {**SLIVEN, **SOFIA}.items():
        cohort: Cohort = sliven if number in SLIVEN else sofia
        people[number] = await learners.register(
            session,
            telegram_id=number,
            first_name="L",
            locale="bg",
            role=Role.TEACHER if number in SLIVEN else Role.PARENT,
            cohort_code=cohort.code,
        )
        await _survey(session, people[number], "before", pre_points)
        if number == 1:
            await _survey(session, people[number], "after", (1, 5))
        await _survey(session, people[number], "after", post_points)
    await _survey(session, people[1], "before", (5, 1))
    people[9] = await learners.register(
        session, telegram_id=9, first_name="L", locale="bg", role=Role.TEACHER, cohort_code="SLV1"
    )
    await _survey(session, people[9], "before", (1, 1))
    return people


async def test_overall_and_per_item_for_paired_learners(
    session: AsyncSession, surveyed: dict[int, User]
) -> None:
    table = await awareness(session, track="demo")
    assert table.columns == ["item", "learners", "pre_mean", "post_mean", "shift", "suppressed"]
    assert table.rows == _expected({**SLIVEN, **SOFIA})


async def test_by_cohort_suppresses_small_groups(
    session: AsyncSession, surveyed: dict[int, User]
) -> None:
    table = await awareness(session, track="demo", group_by=GroupBy.COHORT)
    assert table.columns[0] == "cohort"
    assert table.rows == [
        *({"cohort": "SLV1", **row} for row in _expected(SLIVEN)),
        *({"cohort": "SOF1", **row} for row in _suppressed(2)),
    ]
    smaller = await awareness(session, track="demo", group_by=GroupBy.COHORT, min_group=2, floor=2)
    assert [row for row in smaller.rows if row["cohort"] == "SOF1"] == [
        {"cohort": "SOF1", **row} for row in _expected(SOFIA)
    ]


async def test_by_role_and_region(session: AsyncSession, surveyed: dict[int, User]) -> None:
    by_role = await awareness(session, track="demo", group_by=GroupBy.ROLE)
    assert by_role.rows == [
        *({"role": "parent", **row} for row in _suppressed(2)),
        *({"role": "teacher", **row} for row in _expected(SLIVEN)),
    ]
    by_region = await awareness(session, track="demo", group_by=GroupBy.REGION, min_group=6)
    assert by_region.rows == [
        *({"region": "Sliven", **row} for row in _expected(SLIVEN)),
        *({"region": "Sofia-city", **row} for row in _suppressed(2)),
    ]


async def test_erased_learners_keep_counting(
    session: AsyncSession, surveyed: dict[int, User]
) -> None:
    before = await awareness(session, track="demo", group_by=GroupBy.REGION)
    await learners.erase(session, learner=surveyed[3])
    assert (await awareness(session, track="demo", group_by=GroupBy.REGION)).rows == before.rows


async def test_mediator_sees_its_cohort_only(
    session: AsyncSession, surveyed: dict[int, User]
) -> None:
    sofia = await session.scalar(select(Cohort.id).where(Cohort.code == "SOF1"))
    assert sofia is not None
    scope = mediating(sofia)
    table = await awareness(session, track="demo", group_by=GroupBy.COHORT, actor=scope)
    assert table.rows == [{"cohort": "SOF1", **row} for row in _suppressed(2)]
    overall = await awareness(session, track="demo", min_group=1, floor=1, actor=scope)
    assert overall.rows == _expected(SOFIA)


async def test_a_track_without_both_surveys_or_unknown_is_named(session: AsyncSession) -> None:
    await import_track(session, [("middle", lesson())])
    for track in ("demo", "nope"):
        with pytest.raises(InvalidInput) as error:
            await awareness(session, track=track)
        assert [p.path for p in error.value.problems] == ["$.track"]
    with pytest.raises(InvalidInput) as small:
        await awareness(session, track="demo", min_group=0)
    assert [p.path for p in small.value.problems] == ["$.min_group"]


async def test_a_reader_cannot_go_below_the_privacy_floor(
    session: AsyncSession, surveyed: dict[int, User]
) -> None:
    with pytest.raises(InvalidInput) as error:
        await awareness(session, track="demo", group_by=GroupBy.COHORT, min_group=1)
    assert error.value.problems[0].path == "$.min_group"
    assert "at least 5" in error.value.problems[0].message
    # A deployment that raised its floor above Sliven's six withholds their figures too.
    raised = await awareness(session, track="demo", group_by=GroupBy.COHORT, floor=7)
    assert {row["cohort"]: row["suppressed"] for row in raised.rows} == {"SLV1": True, "SOF1": True}
