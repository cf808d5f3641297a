"""Places: one key across scripts and case, typed places stored as known, merging spellings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import (
    Activity,
    AuditLog,
    Goal,
    GoalMeasure,
    LessonReach,
    ParticipationCount,
    ParticipationMonth,
    ParticipationTotal,
    User,
    Verb,
)
from learntogether.services import learners, places
from learntogether.services.actors import SYSTEM
from learntogether.services.errors import InvalidInput, NotAllowed
from learntogether.services.places import PlaceMerge, place_key
from learntogether.services.reports import Figure, GroupBy, participation
from tests.factories import mediating
from tests.report_builders import add_cohort, add_learner, at, record
from tests.services.test_events import counting_statements


@pytest.mark.parametrize("spelling", ["Сливен", "Sliven", "SLIVEN", "sliven ", " Slivén", "СЛИВЕН"])
def test_spellings_of_sliven_share_one_key(spelling: str) -> None:
    assert place_key(spelling) == "sliven"


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        # The Bulgarian streamlined system, letter by letter where it differs from Russian.
        ("Щръклево", "shtraklevo"),
        ("Хасково", "haskovo"),
        ("Царево", "tsarevo"),
        ("Ямбол", "yambol"),
        ("Юндола", "yundola"),
        ("Стара   Загора", "stara zagora"),
        ("Gorna Oryahovitsa", "gorna oryahovitsa"),
        ("Târgu Mureș", "targu mures"),
    ],
)
def test_place_key_transliterates_and_drops_diacritics(spelling: str, key: str) -> None:
    assert place_key(spelling) == key


def test_different_places_keep_different_keys() -> None:
    assert place_key("Sliven") != place_key("Slivn")
    assert place_key("Kotel") != place_key("Котлен")


async def test_a_typed_place_is_stored_as_the_cohorts_spelling(session: AsyncSession) -> None:
    await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    learner = await add_learner(session)
    stored = await learners.set_municipality(session, learner=learner, municipality=" сливен ")
    assert stored == learner.municipality == "Sliven"


async def test_learners_spelling_used_most_wins_without_a_cohort(session: AsyncSession) -> None:
    for name in ("Kotel", "Kotel", "KOTEL"):
        other = await add_learner(session)
        other.municipality = name
    learner = await add_learner(session)
    assert (
        await learners.set_municipality(session, learner=learner, municipality="Котел") == "Kotel"
    )


async def test_an_unknown_place_is_stored_cleaned_as_typed(session: AsyncSession) -> None:
    learner = await add_learner(session)
    stored = await learners.set_municipality(
        session, learner=learner, municipality="  Nova   Zagora "
    )
    assert stored == "Nova Zagora"
    assert await learners.set_municipality(session, learner=learner, municipality="  ") is None


async def test_retyping_ones_own_place_is_not_matched_to_ones_own_old_spelling(
    session: AsyncSession,
) -> None:
    learner = await add_learner(session)
    learner.municipality = "sliven"
    stored = await learners.set_municipality(session, learner=learner, municipality="Sliven")
    assert stored == "Sliven"


async def test_known_places_list_every_spelling_with_its_counts(session: AsyncSession) -> None:
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    await add_learner(session, cohort=cohort)
    stray = await add_learner(session)
    stray.municipality = "Slivén"
    await session.flush()
    known, total = await places.list_places(session, actor=SYSTEM)
    assert total == 2
    assert [(p.name, p.key, p.learners, p.cohorts) for p in known] == [
        ("Sliven", "sliven", 1, 1),
        ("Slivén", "sliven", 1, 0),
    ]


async def test_merging_rewrites_learners_reports_and_goals_and_is_audited(
    session: AsyncSession,
) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    typo = await add_cohort(session, "SLV2", region="Sliven", municipality="Slivn")
    first = await add_learner(session, cohort=sliven)
    second = await add_learner(session, cohort=typo)
    third = await add_learner(session, cohort=typo)
    for learner, cohort in ((first, sliven), (second, typo), (third, typo)):
        await record(session, learner, Verb.JOINED, at(5), cohort=cohort)
    goal = Goal(
        name="Sliven joins",
        measure=GoalMeasure.LEARNERS_JOINED,
        target=3,
        deadline=at(30).date(),
        filters={"municipality": "Slivn"},
    )
    session.add(goal)
    await session.flush()
    before = await participation(session, group_by=GroupBy.MUNICIPALITY, figures=[Figure.JOINED])
    assert [(r["municipality"], r["joined"]) for r in before.rows] == [("Sliven", 1), ("Slivn", 2)]

    merged = await places.merge_places(
        session, merge=PlaceMerge.model_validate({"from": "Slivn", "into": "Sliven"}), actor=SYSTEM
    )

    assert (merged.learners, merged.cohorts, merged.activities, merged.goals) == (2, 1, 2, 1)
    assert merged.participation_counts == 2
    after = await participation(session, group_by=GroupBy.MUNICIPALITY, figures=[Figure.JOINED])
    assert [(r["municipality"], r["joined"]) for r in after.rows] == [("Sliven", 3)]
    for table in (
        User,
        Activity,
        ParticipationCount,
        ParticipationMonth,
        ParticipationTotal,
        LessonReach,
    ):
        left = await session.scalar(
            select(func.count()).select_from(table).where(table.municipality == "Slivn")
        )
        assert left == 0, table.__tablename__
    assert (await session.get(Goal, goal.id)).filters == {"municipality": "Sliven"}  # type: ignore[union-attr]
    audit = (await session.scalars(select(AuditLog).where(AuditLog.entity == "place"))).one()
    assert (audit.action, audit.before, (audit.after or {}).get("municipality")) == (
        "merge",
        {"municipality": "Slivn"},
        "Sliven",
    )


async def test_a_spelling_only_past_report_rows_have_is_listed_and_merged(
    session: AsyncSession,
) -> None:
    moved = await add_learner(session)
    moved.municipality = "Slivén"
    await record(session, moved, Verb.JOINED, at(5))
    await learners.set_municipality(session, learner=moved, municipality="Sofia")
    known, _ = await places.list_places(session, actor=SYSTEM)
    assert [(p.name, p.learners, p.cohorts) for p in known] == [("Slivén", 0, 0), ("Sofia", 1, 0)]
    merged = await places.merge_places(
        session, merge=PlaceMerge.model_validate({"from": "Slivén", "into": "Sliven"}), actor=SYSTEM
    )
    assert (merged.learners, merged.activities, merged.participation_counts) == (0, 1, 1)
    table = await participation(session, group_by=GroupBy.MUNICIPALITY, figures=[Figure.JOINED])
    assert [(r["municipality"], r["joined"]) for r in table.rows] == [("Sliven", 1)]


async def test_merging_an_unknown_or_the_same_spelling_names_the_field(
    session: AsyncSession,
) -> None:
    await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    with pytest.raises(InvalidInput) as unknown:
        await places.merge_places(
            session,
            merge=PlaceMerge.model_validate({"from": "Nowhere", "into": "Sliven"}),
            actor=SYSTEM,
        )
    assert unknown.value.problems[0].path == "$.from"
    with pytest.raises(InvalidInput) as same:
        await places.merge_places(
            session,
            merge=PlaceMerge.model_validate({"from": "Sliven", "into": "Sliven"}),
            actor=SYSTEM,
        )
    assert same.value.problems[0].path == "$.into"


async def test_only_an_admin_merges_places(session: AsyncSession) -> None:
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Slivn")
    with pytest.raises(NotAllowed):
        await places.merge_places(
            session,
            merge=PlaceMerge.model_validate({"from": "Slivn", "into": "Sliven"}),
            actor=mediating(cohort.id),
        )
    assert cohort.municipality == "Slivn"


async def test_a_typed_place_costs_two_grouped_reads_and_one_write(session: AsyncSession) -> None:
    await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    for _ in range(3):
        await add_learner(session)
    learner = await add_learner(session)
    with counting_statements(session) as statements:
        await learners.set_municipality(session, learner=learner, municipality="Сливен")
    assert [statement.split()[0] for statement in statements] == ["SELECT", "SELECT", "UPDATE"]
    assert all("GROUP BY" in statement for statement in statements[:2])
