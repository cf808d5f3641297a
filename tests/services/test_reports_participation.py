"""The participation report: every figure, groups, periods in a time zone, scope, erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.charts import cohort_progress_chart
from learntogether.db.models import Cohort, Lesson, Role, Track, User, Verb
from learntogether.i18n import create_i18n
from learntogether.services import learners
from learntogether.services.actors import SYSTEM
from learntogether.services.errors import InvalidInput
from learntogether.services.reports import Figure, Filters, GroupBy, Period, participation
from learntogether.services.reports.participation import (
    PastTheEnd,
    by_group_with_totals,
    participation_page,
)
from learntogether.services.reports.query import Window, offset_changes, zone_named
from tests.factories import mediating
from tests.report_builders import add_cohort, add_learner, add_track, at, record

SOFIA = ZoneInfo("Europe/Sofia")
ZEROS = dict.fromkeys((figure.value for figure in Figure), 0)


@dataclass
class World:
    sliven: Cohort
    sofia: Cohort
    track: Track
    lessons: list[Lesson]
    ana: User
    boris: User
    vera: User
    goran: User


@pytest.fixture
async def world(session: AsyncSession) -> World:
    """Four learners' January.

    ana (teacher, SLV1) completes both published lessons of the track (the second with help),
    is certified and attends a workshop; boris (teacher, SLV1) starts the first lesson twice;
    vera (parent, SOF1) completes the first lesson and checks in, both with help; goran (teacher,
    no cohort) joins and is only reminded after.
    """
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    sofia = await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
    track, lessons = await add_track(session, "mixed", lessons=2, archived=1)
    first, second, _archived = lessons
    ana = await add_learner(session, cohort=sliven)
    boris = await add_learner(session, cohort=sliven)
    vera = await add_learner(session, role=Role.PARENT, locale="rom", cohort=sofia)
    goran = await add_learner(session, locale="en")
    for learner, verb, when, options in [
        (ana, Verb.JOINED, at(5), {}),
        (ana, Verb.STARTED, at(5, 13), {"lesson": first}),
        (ana, Verb.STEP, at(5, 14), {"lesson": first, "data": {"step": 1}}),
        (ana, Verb.COMPLETED, at(6), {"lesson": first}),
        (ana, Verb.STARTED, at(6, 13), {"lesson": second}),
        (ana, Verb.COMPLETED, at(7), {"lesson": second, "assisted": True}),
        (ana, Verb.CERTIFIED, at(7, 13), {"track": track}),
        (ana, Verb.ATTENDED, at(8), {}),
        (ana, Verb.REMINDED, at(9), {}),
        (boris, Verb.JOINED, at(5), {}),
        (boris, Verb.STARTED, at(6), {"lesson": first}),
        (boris, Verb.STARTED, at(8), {"lesson": first}),
        (boris, Verb.REMINDED, at(9), {}),
        (boris, Verb.NUDGED, at(10), {}),
        (vera, Verb.JOINED, at(6), {}),
        (vera, Verb.STARTED, at(6, 13), {"lesson": first}),
        (vera, Verb.ANSWERED, at(6, 14), {"lesson": first, "assisted": True}),
        (vera, Verb.COMPLETED, at(6, 15), {"lesson": first, "assisted": True}),
        (vera, Verb.ATTENDED, at(8), {"assisted": True}),
        (vera, Verb.REVIEWED, at(9), {"lesson": first}),
        (vera, Verb.LISTENED, at(6, 13), {"lesson": first}),
    ]:
        cohort = sliven if learner in (ana, boris) else sofia
        await record(session, learner, verb, when, cohort=cohort, **options)  # type: ignore[arg-type]
    await record(session, goran, Verb.JOINED, at(7))
    await record(session, goran, Verb.REMINDED, at(8))
    return World(sliven, sofia, track, lessons, ana, boris, vera, goran)


SLIVEN_FIGURES = {
    "joined": 2,
    "active": 2,
    "lessons_started": 3,
    "lessons_completed": 2,
    "tracks_completed": 1,
    "certificates": 1,
    "attended": 1,
    "assisted_learners": 1,
    "assisted_lessons_completed": 1,
    "assisted_attended": 0,
    "reviewed": 0,
    "listened": 0,
}
SOFIA_FIGURES = {
    "joined": 1,
    "active": 1,
    "lessons_started": 1,
    "lessons_completed": 1,
    "tracks_completed": 0,
    "certificates": 0,
    "attended": 1,
    "assisted_learners": 1,
    "assisted_lessons_completed": 1,
    "assisted_attended": 1,
    "reviewed": 1,
    "listened": 1,
}
GORAN_FIGURES = {**ZEROS, "joined": 1, "active": 1}


async def test_by_region_counts_every_figure(session: AsyncSession, world: World) -> None:
    table = await participation(session, group_by=GroupBy.REGION)
    assert table.columns == ["region", *ZEROS]
    assert table.rows == [
        {"region": "Sliven", **SLIVEN_FIGURES},
        {"region": "Sofia-city", **SOFIA_FIGURES},
        {"region": None, **GORAN_FIGURES},
    ]


async def test_by_cohort_names_cohorts_by_code(session: AsyncSession, world: World) -> None:
    table = await participation(session, group_by=GroupBy.COHORT)
    assert table.rows == [
        {"cohort": "SLV1", **SLIVEN_FIGURES},
        {"cohort": "SOF1", **SOFIA_FIGURES},
        {"cohort": None, **GORAN_FIGURES},
    ]


async def test_by_role_and_by_locale(session: AsyncSession, world: World) -> None:
    by_role = await participation(
        session, group_by=GroupBy.ROLE, figures=[Figure.JOINED, Figure.LESSONS_COMPLETED]
    )
    assert by_role.rows == [
        {"role": "parent", "joined": 1, "lessons_completed": 1},
        {"role": "teacher", "joined": 3, "lessons_completed": 2},
    ]
    by_locale = await participation(session, group_by=GroupBy.LOCALE, figures=[Figure.ACTIVE])
    assert by_locale.rows == [
        {"locale": "bg", "active": 2},
        {"locale": "en", "active": 1},
        {"locale": "rom", "active": 1},
    ]


async def test_totals_without_grouping_add_up(session: AsyncSession, world: World) -> None:
    table = await participation(session)
    assert table.columns == list(ZEROS)
    assert table.rows == [
        {name: SLIVEN_FIGURES[name] + SOFIA_FIGURES[name] + GORAN_FIGURES[name] for name in ZEROS}
    ]


async def test_nothing_recorded_gives_one_row_of_zeros(session: AsyncSession) -> None:
    assert (await participation(session)).rows == [ZEROS]
    assert (await participation(session, group_by=GroupBy.REGION)).rows == []


async def test_assisted_records_count_in_figures_and_on_their_own(
    session: AsyncSession, world: World
) -> None:
    table = await participation(
        session,
        filters=Filters(cohort="SOF1"),
        figures=[
            Figure.LESSONS_COMPLETED,
            Figure.ATTENDED,
            Figure.ASSISTED_LEARNERS,
            Figure.ASSISTED_LESSONS_COMPLETED,
            Figure.ASSISTED_ATTENDED,
        ],
    )
    assert table.rows == [
        {
            "lessons_completed": 1,
            "attended": 1,
            "assisted_learners": 1,
            "assisted_lessons_completed": 1,
            "assisted_attended": 1,
        }
    ]


async def test_erased_learner_still_counts_where_they_were(
    session: AsyncSession, world: World
) -> None:
    before = await participation(session, group_by=GroupBy.REGION)
    await learners.erase(session, learner=world.ana)
    await learners.erase(session, learner=world.vera)
    assert (world.ana.region, world.ana.telegram_id) == (None, None)
    after = await participation(session, group_by=GroupBy.REGION)
    assert after.rows == before.rows


async def test_filters_narrow_by_role_place_and_track(session: AsyncSession, world: World) -> None:
    parents = await participation(session, filters=Filters(role=Role.PARENT))
    assert parents.rows == [SOFIA_FIGURES]
    place = await participation(
        session, filters=Filters(country="BG", municipality="Sliven"), figures=[Figure.JOINED]
    )
    assert place.rows == [{"joined": 2}]
    other_track, _ = await add_track(session, "other", lessons=1)
    on_track = await participation(
        session,
        filters=Filters(track="mixed"),
        figures=[Figure.LESSONS_COMPLETED, Figure.TRACKS_COMPLETED, Figure.CERTIFICATES],
    )
    assert on_track.rows == [{"lessons_completed": 3, "tracks_completed": 1, "certificates": 1}]
    elsewhere = await participation(
        session,
        filters=Filters(track=other_track.slug),
        figures=[Figure.LESSONS_COMPLETED, Figure.TRACKS_COMPLETED, Figure.CERTIFICATES],
    )
    assert elsewhere.rows == [{"lessons_completed": 0, "tracks_completed": 0, "certificates": 0}]


async def test_unknown_cohort_or_track_in_filters_is_named(
    session: AsyncSession, world: World
) -> None:
    with pytest.raises(InvalidInput) as cohort:
        await participation(session, filters=Filters(cohort="NOPE"))
    assert [(p.path, p.message) for p in cohort.value.problems] == [
        ("$.cohort", "no cohort with code 'NOPE'")
    ]
    with pytest.raises(InvalidInput) as track:
        await participation(session, filters=Filters(track="nope"))
    assert [p.path for p in track.value.problems] == ["$.track"]


async def test_track_completed_needs_every_published_lesson(
    session: AsyncSession, world: World
) -> None:
    """boris completes only the first lesson: no track; ana's archived lesson is not needed."""
    await record(session, world.boris, Verb.COMPLETED, at(9), lesson=world.lessons[0])
    await record(
        session, world.ana, Verb.COMPLETED, at(20), cohort=world.sliven, lesson=world.lessons[2]
    )
    table = await participation(session, group_by=GroupBy.REGION, figures=[Figure.TRACKS_COMPLETED])
    # Every region with records has its row, zero or not.
    assert table.rows == [
        {"region": "Sliven", "tracks_completed": 1},
        {"region": "Sofia-city", "tracks_completed": 0},
        {"region": None, "tracks_completed": 0},
    ]
    await record(session, world.boris, Verb.COMPLETED, at(21), lesson=world.lessons[1])
    by_week = await participation(
        session, period=Period.WEEK, figures=[Figure.TRACKS_COMPLETED, Figure.LESSONS_COMPLETED]
    )
    # Counted in the week of the completion that finished the track.
    assert by_week.rows == [
        {"period": "2026-01-05", "tracks_completed": 1, "lessons_completed": 4},
        {"period": "2026-01-19", "tracks_completed": 1, "lessons_completed": 2},
    ]


async def test_date_window_is_whole_days(session: AsyncSession, world: World) -> None:
    table = await participation(
        session,
        start=date(2026, 1, 6),
        end=date(2026, 1, 7),
        figures=[Figure.JOINED, Figure.LESSONS_STARTED, Figure.LESSONS_COMPLETED],
    )
    # boris's second start (the 8th) is outside; his first (the 6th) inside.
    assert table.rows == [{"joined": 2, "lessons_started": 3, "lessons_completed": 3}]
    with pytest.raises(InvalidInput) as backwards:
        await participation(session, start=date(2026, 1, 7), end=date(2026, 1, 6))
    assert [p.path for p in backwards.value.problems] == ["$.to"]


async def test_mediator_scope_sees_its_cohorts_only(session: AsyncSession, world: World) -> None:
    scope = mediating(world.sliven.id)
    by_region = await participation(session, group_by=GroupBy.REGION, actor=scope)
    assert by_region.rows == [{"region": "Sliven", **SLIVEN_FIGURES}]
    totals = await participation(session, actor=scope)
    assert totals.rows == [SLIVEN_FIGURES]
    nothing = await participation(session, actor=mediating())
    assert nothing.rows == [ZEROS]


@pytest.fixture
async def midnights(session: AsyncSession) -> list[User]:
    """Joins just before and after midnight in Sofia, in winter (+2) and in summer (+3)."""
    learners_ = [await add_learner(session) for _ in range(4)]
    for learner, when in zip(
        learners_,
        [
            datetime(2026, 1, 11, 21, 30, tzinfo=UTC),  # Sunday 23:30 in Sofia
            datetime(2026, 1, 11, 22, 30, tzinfo=UTC),  # Monday 00:30 in Sofia
            datetime(2026, 3, 31, 20, 30, tzinfo=UTC),  # 31 March 23:30 in Sofia
            datetime(2026, 3, 31, 21, 30, tzinfo=UTC),  # 1 April 00:30 in Sofia
        ],
        strict=True,
    ):
        await record(session, learner, Verb.JOINED, when)
    return learners_


async def test_weeks_and_months_begin_at_midnight_in_the_zone_asked(
    session: AsyncSession, midnights: list[User]
) -> None:
    async def periods(period: Period, zone: ZoneInfo | None) -> list[tuple[object, object]]:
        table = await participation(session, period=period, zone=zone, figures=[Figure.JOINED])
        return [(row["period"], row["joined"]) for row in table.rows]

    assert await periods(Period.WEEK, None) == [("2026-01-05", 2), ("2026-03-30", 2)]
    assert await periods(Period.WEEK, SOFIA) == [
        ("2026-01-05", 1),
        ("2026-01-12", 1),
        ("2026-03-30", 2),
    ]
    assert await periods(Period.MONTH, None) == [("2026-01-01", 2), ("2026-03-01", 2)]
    assert await periods(Period.MONTH, SOFIA) == [
        ("2026-01-01", 2),
        ("2026-03-01", 1),
        ("2026-04-01", 1),
    ]


async def test_window_days_are_days_in_the_zone(
    session: AsyncSession, midnights: list[User]
) -> None:
    async def joined(zone: ZoneInfo | None) -> object:
        table = await participation(
            session,
            start=date(2026, 1, 12),
            end=date(2026, 3, 31),
            zone=zone,
            figures=[Figure.JOINED],
        )
        return table.rows[0]["joined"]

    assert await joined(None) == 2
    # In Sofia the 12th starts at 22:00 UTC on the 11th and the 31st of March ends at 21:00 UTC.
    assert await joined(SOFIA) == 2
    table = await participation(
        session,
        group_by=GroupBy.REGION,
        period=Period.WEEK,
        start=date(2026, 1, 12),
        end=date(2026, 1, 18),
        zone=SOFIA,
        figures=[Figure.JOINED],
    )
    assert table.rows == [{"region": None, "period": "2026-01-12", "joined": 1}]


def test_offset_changes_of_sofia_in_2026() -> None:
    changes = offset_changes(
        SOFIA, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    )
    assert changes == [
        (None, 7200),
        (int(datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp()), 10800),
        (int(datetime(2026, 10, 25, 1, tzinfo=UTC).timestamp()), 7200),
    ]
    assert offset_changes(ZoneInfo("UTC"), datetime(2026, 1, 1, tzinfo=UTC), at(2)) == [(None, 0)]


async def test_a_cohorts_weekly_progress_as_a_chart(session: AsyncSession, world: World) -> None:
    weekly = await participation(
        session,
        period=Period.WEEK,
        filters=Filters(cohort="SLV1"),
        figures=[Figure.ACTIVE, Figure.LESSONS_COMPLETED],
    )
    assert weekly.rows == [{"period": "2026-01-05", "active": 2, "lessons_completed": 2}]
    png = cohort_progress_chart(
        weekly,
        title="SLV1",
        labels={"active": "Активни", "lessons_completed": "Завършени уроци"},
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="periods"):
        cohort_progress_chart(await participation(session), title="x", labels={"active": "A"})
    with pytest.raises(ValueError, match="certificates"):
        cohort_progress_chart(weekly, title="x", labels={"certificates": "C"})


async def test_a_window_of_days_is_read_from_the_time_index_alone(
    session: AsyncSession, world: World
) -> None:
    """The dashboard's last 30 days read the window's counts only, from the index alone."""
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "participation_counts" in statement:
            statements.append((statement, parameters))

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        table = await participation(
            session,
            start=date(2026, 1, 6),
            end=date(2026, 1, 7),
            figures=[Figure.JOINED, Figure.ACTIVE, Figure.LESSONS_COMPLETED],
        )
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert table.rows == [{"joined": 2, "active": 4, "lessons_completed": 3}]
    [(statement, parameters)] = statements
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # A few rows: allowed a sequential scan, the planner would take it.
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
        assert "Index Only Scan using ix_participation_counts_occurred_at" in str(plan.all())
    else:
        plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        assert "USING COVERING INDEX ix_participation_counts_occurred_at" in str(plan.all())


async def test_groups_with_their_totals_match_the_two_reports(
    session: AsyncSession, world: World
) -> None:
    """One pass on PostgreSQL (grouping sets), two reports elsewhere: the same figures."""
    for actor in (SYSTEM, mediating(world.sliven.id), mediating()):
        for end in (None, date(2026, 1, 6), date(2025, 12, 31)):
            for group_by in (GroupBy.REGION, GroupBy.COHORT):
                table, totals = await by_group_with_totals(session, group_by, end=end, actor=actor)
                expected = await participation(session, group_by=group_by, end=end, actor=actor)
                assert table == expected
                all_of_them = await participation(session, end=end, actor=actor)
                assert [totals] == all_of_them.rows
    table, totals = await by_group_with_totals(session, GroupBy.REGION, figures=[Figure.JOINED])
    assert table.rows == [
        {"region": "Sliven", "joined": 2},
        {"region": "Sofia-city", "joined": 1},
        {"region": None, "joined": 1},
    ]
    assert totals == {"joined": 4}
    _, nothing = await by_group_with_totals(session, GroupBy.REGION, actor=mediating())
    assert nothing == ZEROS


async def test_pages_of_groups_put_together_are_the_whole_report(
    session: AsyncSession, world: World
) -> None:
    """Each page counts only its groups; every page in turn gives the report's rows in order."""
    for actor in (SYSTEM, mediating(world.sliven.id)):
        for group_by in (GroupBy.REGION, GroupBy.COHORT, GroupBy.ROLE):
            for period in (None, Period.WEEK, Period.MONTH):
                whole = await participation(
                    session, group_by=group_by, period=period, zone=SOFIA, actor=actor
                )
                groups = list(dict.fromkeys(row[group_by.value] for row in whole.rows))
                for per_page in (1, 2, 50):
                    first = await participation_page(
                        session,
                        group_by=group_by,
                        period=period,
                        zone=SOFIA,
                        actor=actor,
                        per_page=per_page,
                    )
                    assert first.groups == len(groups)
                    assert first.pages == -(-len(groups) // per_page)
                    rows = list(first.table.rows)
                    for number in range(2, first.pages + 1):
                        page = await participation_page(
                            session,
                            page=number,
                            group_by=group_by,
                            period=period,
                            zone=SOFIA,
                            actor=actor,
                            per_page=per_page,
                        )
                        assert (page.first, page.last) == (
                            (number - 1) * per_page + 1,
                            min(number * per_page, len(groups)),
                        )
                        assert page.table.columns == whole.columns
                        rows += page.table.rows
                    assert rows == whole.rows, (actor, group_by, period, per_page)


async def test_a_page_of_the_cohorts_holds_its_groups_rows_only(
    session: AsyncSession, world: World
) -> None:
    page = await participation_page(session, page=2, per_page=1, group_by=GroupBy.COHORT)
    assert (page.page, page.pages, page.groups, page.first, page.last) == (2, 3, 3, 2, 2)
    assert page.table.columns == ["cohort", *ZEROS]
    assert page.table.rows == [{"cohort": "SOF1", **SOFIA_FIGURES}]
    last = await participation_page(session, page=3, per_page=1, group_by=GroupBy.COHORT)
    assert last.table.rows == [{"cohort": None, **GORAN_FIGURES}]


async def test_a_page_past_the_end_says_how_many_there_are(
    session: AsyncSession, world: World
) -> None:
    with pytest.raises(PastTheEnd) as past:
        await participation_page(session, page=4, per_page=1, group_by=GroupBy.REGION)
    assert (past.value.page, past.value.pages) == (4, 3)
    assert [problem.path for problem in past.value.problems] == ["$.page"]
    with pytest.raises(PastTheEnd) as ungrouped:
        await participation_page(session, page=2, period=Period.WEEK)
    assert ungrouped.value.pages == 1


I18N = create_i18n()


def _bulgarian(message: str) -> str:
    return I18N.gettext(message, locale="bg")


async def test_report_problems_are_english_for_the_api_and_said_in_other_languages(
    session: AsyncSession, world: World
) -> None:
    with pytest.raises(PastTheEnd) as past:
        await participation_page(session, page=4, per_page=1, group_by=GroupBy.REGION)
    with pytest.raises(InvalidInput) as zero:
        await participation_page(session, page=0, group_by=GroupBy.REGION)
    with pytest.raises(InvalidInput) as zone:
        zone_named("Mars/Olympus")
    with pytest.raises(InvalidInput) as backwards:
        Window.of_dates(date(2026, 1, 7), date(2026, 1, 6), ZoneInfo("UTC"))
    said = [
        (problem.message, problem.said(_bulgarian))
        for error in (past, zero, zone, backwards)
        for problem in error.value.problems
    ]
    assert said == [
        (
            "there is no page 4: the report has 3 page(s)",
            "няма страница 4: последната страница е 3",
        ),
        ("pages are numbered from 1, not 0", "страниците се номерират от 1, не от 0"),
        (
            "unknown time zone 'Mars/Olympus' (an IANA name, e.g. Europe/Sofia)",
            "непозната часова зона 'Mars/Olympus' (име по IANA, например Europe/Sofia)",
        ),
        ("2026-01-06 is before the start 2026-01-07", "2026-01-06 е преди началото 2026-01-07"),
    ]


async def test_page_zero_is_refused_by_name(session: AsyncSession, world: World) -> None:
    for number in (0, -3):
        with pytest.raises(InvalidInput) as refused:
            await participation_page(session, page=number, group_by=GroupBy.REGION)
        assert not isinstance(refused.value, PastTheEnd)
        assert [problem.path for problem in refused.value.problems] == ["$.page"]


async def test_an_empty_report_has_one_page_without_rows(session: AsyncSession) -> None:
    page = await participation_page(session, group_by=GroupBy.COHORT, period=Period.MONTH)
    assert (page.page, page.pages, page.groups, page.first, page.last) == (1, 1, 0, 0, 0)
    assert page.table.rows == []
    ungrouped = await participation_page(session)
    assert ungrouped.table.rows == [ZEROS]
