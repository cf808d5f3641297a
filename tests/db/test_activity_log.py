"""The activity record's writer: each row's snapshot and cohort, and the participation counts
(written with each activity, equal to a rebuild, exact at boundaries)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db import activity_log
from learntogether.db.activity_log import (
    KEY_COLUMNS,
    LEARNER_KEY_COLUMNS,
    REACH_KEY_COLUMNS,
    Details,
    Entry,
    quarter_of,
    rebuild,
)
from learntogether.db.models import (
    Activity,
    Lesson,
    LessonReach,
    LessonStatus,
    Membership,
    ParticipationCount,
    ParticipationMonth,
    ParticipationTotal,
    ParticipationWeek,
    Role,
    Verb,
)
from learntogether.db.models.activity import PARTICIPATION_FIGURES, REACH_FIGURES
from learntogether.services.reports import Figure, GroupBy, Period, participation
from tests.conftest import TestDatabase
from tests.report_builders import add_cohort, add_learner, add_track, at, record

COUNTED = PARTICIPATION_FIGURES


async def _summed(session: AsyncSession) -> list[tuple[Any, ...]]:
    """The counts per key, however they are split between rows."""
    keys = [ParticipationCount.occurred_at, *(getattr(ParticipationCount, k) for k in KEY_COLUMNS)]
    rows = await session.execute(
        select(*keys, *(func.sum(getattr(ParticipationCount, name)) for name in COUNTED))
        .group_by(*keys)
        .order_by(*keys)
    )
    return [tuple(row) for row in rows]


async def test_counts_kept_while_writing_equal_a_rebuild(session: AsyncSession) -> None:
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    track, (first, second) = await add_track(session, "mixed", lessons=2)
    ana = await add_learner(session, cohort=cohort)
    vera = await add_learner(session, role=Role.PARENT, cohort=cohort)
    for learner, verb, when, options in [
        (ana, Verb.JOINED, at(5, 9, 1), {}),
        (ana, Verb.STARTED, at(5, 9, 2), {"lesson": first}),
        (ana, Verb.STEP, at(5, 9, 3), {"lesson": first}),
        (ana, Verb.COMPLETED, at(5, 9, 20), {"lesson": first}),
        (ana, Verb.STARTED, at(6, 9), {"lesson": first}),  # reading it again
        (ana, Verb.STARTED, at(6, 10), {"lesson": second}),
        (ana, Verb.COMPLETED, at(6, 10, 5), {"lesson": second, "assisted": True}),
        (ana, Verb.CERTIFIED, at(6, 10, 5), {"track": track}),
        (ana, Verb.REMINDED, at(7), {}),
        (vera, Verb.JOINED, at(5, 9, 14), {"assisted": True}),
        (vera, Verb.ATTENDED, at(8), {"assisted": True}),
        # A step heard as its recording: counted, but not activity of its own (the step was).
        (vera, Verb.LISTENED, at(8, 9), {"lesson": first}),
    ]:
        await record(session, learner, verb, when, cohort=cohort, **options)  # type: ignore[arg-type]
    written = await _summed(session)

    assert await rebuild(session) == len(written)
    assert await _summed(session) == written
    # ana's first three records share a quarter hour (two rows: joining has no track), the
    # completion at 9:20 has the next.
    ana_rows = [row for row in written if row[1] == ana.id]
    assert {(row[0], row[2]) for row in ana_rows if row[0] < at(5, 10)} == {
        (at(5, 9), None),
        (at(5, 9), track.id),
        (at(5, 9, 15), track.id),
    }
    totals = [sum(row[9 + index] for row in written) for index in range(len(COUNTED))]
    assert dict(zip(COUNTED, totals, strict=True)) == {
        "joined": 2,
        "active": 9,
        "assisted": 3,
        "lessons_started": 2,
        "lessons_completed": 2,
        "tracks_completed": 1,
        "certificates": 1,
        "attended": 1,
        "assisted_lessons_completed": 1,
        "assisted_attended": 1,
        "reviewed": 0,
        "listened": 1,
    }


async def test_a_lesson_counts_as_started_when_first_started(session: AsyncSession) -> None:
    """Reading a lesson again a week later is not a start in that week."""
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    _, (lesson,) = await add_track(session, "mixed", lessons=1)
    boris = await add_learner(session, cohort=cohort)
    await record(session, boris, Verb.STARTED, at(6), cohort=cohort, lesson=lesson)
    await record(session, boris, Verb.STARTED, at(14), cohort=cohort, lesson=lesson)
    weeks = await participation(
        session, period=Period.WEEK, figures=[Figure.ACTIVE, Figure.LESSONS_STARTED]
    )
    assert weeks.rows == [
        {"period": "2026-01-05", "active": 1, "lessons_started": 1},
        {"period": "2026-01-12", "active": 1, "lessons_started": 0},
    ]


async def test_a_track_is_completed_once_per_learner(session: AsyncSession) -> None:
    """A lesson published after a learner finished the track: finishing it too is no second
    track completion."""
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    _, (first, added) = await add_track(session, "mixed", lessons=1, archived=1)
    ana = await add_learner(session, cohort=cohort)
    await record(session, ana, Verb.COMPLETED, at(6), cohort=cohort, lesson=first)
    lesson = await session.get(Lesson, added.id)
    assert lesson is not None
    lesson.status = LessonStatus.PUBLISHED
    await record(session, ana, Verb.COMPLETED, at(9), cohort=cohort, lesson=added)
    table = await participation(
        session, figures=[Figure.LESSONS_COMPLETED, Figure.TRACKS_COMPLETED]
    )
    assert table.rows == [{"lessons_completed": 2, "tracks_completed": 1}]


async def test_days_begin_on_a_quarter_hour_in_every_zone(session: AsyncSession) -> None:
    """Kathmandu is UTC+5:45: its 6 January begins at 18:15 UTC on the 5th."""
    kathmandu = ZoneInfo("Asia/Kathmandu")
    cohort = await add_cohort(session, "KTM1", region="Bagmati", municipality="Kathmandu")
    late, early = (
        await add_learner(session, cohort=cohort),
        await add_learner(session, cohort=cohort),
    )
    await record(session, late, Verb.JOINED, datetime(2026, 1, 5, 18, 14, 59, tzinfo=UTC))
    await record(session, early, Verb.JOINED, datetime(2026, 1, 5, 18, 15, tzinfo=UTC))
    sixth = await participation(
        session,
        start=date(2026, 1, 6),
        end=date(2026, 1, 6),
        zone=kathmandu,
        figures=[Figure.JOINED],
    )
    assert sixth.rows == [{"joined": 1}]
    fifth = await participation(
        session,
        start=date(2026, 1, 5),
        end=date(2026, 1, 5),
        zone=kathmandu,
        figures=[Figure.JOINED],
    )
    assert fifth.rows == [{"joined": 1}]
    assert quarter_of(datetime(2026, 1, 5, 18, 14, 59, tzinfo=UTC)) == datetime(
        2026, 1, 5, 18, 0, tzinfo=UTC
    )


async def test_reminders_and_nudges_are_not_counted(session: AsyncSession) -> None:
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    goran = await add_learner(session, cohort=cohort)
    await record(session, goran, Verb.REMINDED, at(6), cohort=cohort)
    await record(session, goran, Verb.NUDGED, at(7), cohort=cohort)
    assert await _summed(session) == []
    by_region = await participation(session, group_by=GroupBy.REGION, figures=[Figure.ACTIVE])
    assert by_region.rows == []


async def test_split_rows_of_one_key_add_up(session: AsyncSession) -> None:
    """Two writers racing on a new quarter may each insert a row: the figures still add up, and
    the next record goes to one of them only."""
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    ana = await add_learner(session, cohort=cohort)
    await record(session, ana, Verb.JOINED, at(5, 9), cohort=cohort)
    (row,) = (await session.scalars(select(ParticipationCount))).all()
    twin = {column: getattr(row, column) for column in ("occurred_at", *KEY_COLUMNS)}
    session.add(ParticipationCount(**twin, active=1, attended=1))
    # The racing writer also added its month's row (the quarter is inside its month) and its
    # totals' row.
    (month,) = (await session.scalars(select(ParticipationMonth))).all()
    month_twin = {column: getattr(month, column) for column in ("month", *LEARNER_KEY_COLUMNS)}
    session.add(ParticipationMonth(**month_twin, active=1, attended=1))
    (total,) = (await session.scalars(select(ParticipationTotal))).all()
    total_twin = {column: getattr(total, column) for column in LEARNER_KEY_COLUMNS}
    session.add(ParticipationTotal(**total_twin, active=1, attended=1))
    await session.flush()
    await record(session, ana, Verb.ATTENDED, at(5, 9, 5), cohort=cohort)
    table = await participation(session, figures=[Figure.JOINED, Figure.ACTIVE, Figure.ATTENDED])
    assert table.rows == [{"joined": 1, "active": 1, "attended": 2}]


async def test_many_at_once_are_written_and_counted_as_one_by_one(session: AsyncSession) -> None:
    """Each row has its learner's snapshot and newest cohort unless one is named; a lesson
    started twice in the same call is one start."""
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    plovdiv = await add_cohort(session, "PDV1", region="Plovdiv", municipality="Plovdiv")
    _, (lesson,) = await add_track(session, "mixed", lessons=1)
    ana = await add_learner(session, cohort=sliven)
    session.add(Membership(cohort_id=plovdiv.id, user_id=ana.id))  # joined after SLV1
    vera = await add_learner(session, role=Role.PARENT, locale="ro")
    started: Details = {"lesson_id": lesson.id, "track_id": lesson.track_id}
    await activity_log.record_many(
        session,
        [
            Entry(ana, Verb.STARTED, details=started),
            Entry(ana, Verb.STARTED, details=started),
            Entry(ana, Verb.ATTENDED, cohort_id=sliven.id, details={"assisted": True}),
            Entry(vera, Verb.REMINDED, details={"data": {"broadcast_id": 7}}),
            Entry(ana, Verb.NUDGED),
            Entry(vera, Verb.ATTENDED),
        ],
        occurred_at=at(6),
    )

    written = (await session.scalars(select(Activity).order_by(Activity.id))).all()
    snapshots = [
        (row.user_id, row.verb, row.cohort_id, row.role, row.locale, row.region, row.data)
        for row in written
    ]
    assert snapshots == [
        (ana.id, Verb.STARTED, plovdiv.id, Role.TEACHER, "bg", "Sliven", None),
        (ana.id, Verb.STARTED, plovdiv.id, Role.TEACHER, "bg", "Sliven", None),
        (ana.id, Verb.ATTENDED, sliven.id, Role.TEACHER, "bg", "Sliven", None),
        (vera.id, Verb.REMINDED, None, Role.PARENT, "ro", None, {"broadcast_id": 7}),
        (ana.id, Verb.NUDGED, plovdiv.id, Role.TEACHER, "bg", "Sliven", None),
        (vera.id, Verb.ATTENDED, None, Role.PARENT, "ro", None, None),
    ]
    assert [row.occurred_at for row in written] == [at(6)] * 6
    table = await participation(
        session, figures=[Figure.ACTIVE, Figure.LESSONS_STARTED, Figure.ATTENDED]
    )
    assert table.rows == [{"active": 2, "lessons_started": 1, "attended": 2}]
    counted = await _summed(session)
    assert await rebuild(session) == len(counted)
    assert await _summed(session) == counted


async def test_the_newest_cohort_is_the_later_membership_of_one_moment(
    session: AsyncSession,
) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    plovdiv = await add_cohort(session, "PDV1", region="Plovdiv", municipality="Plovdiv")
    ana = await add_learner(session)
    joined = at(5)
    session.add(Membership(cohort_id=plovdiv.id, user_id=ana.id, joined_at=joined))
    await session.flush()
    session.add(Membership(cohort_id=sliven.id, user_id=ana.id, joined_at=joined))
    await record(session, ana, Verb.JOINED, at(6))
    assert await session.scalar(select(Activity.cohort_id)) == sliven.id
    assert await session.scalar(select(ParticipationTotal.cohort_id)) == sliven.id


async def test_an_activity_that_cannot_be_written_adds_to_no_roll_up(
    session: AsyncSession,
) -> None:
    """The activity and its roll-ups are written together or not at all."""
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    _, (lesson,) = await add_track(session, "mixed", lessons=1)
    ana = await add_learner(session, cohort=cohort)
    await session.delete(lesson)
    await session.flush()
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await record(session, ana, Verb.STARTED, at(7, 9), lesson=lesson)
    for table in (
        ParticipationCount,
        ParticipationMonth,
        ParticipationWeek,
        ParticipationTotal,
        LessonReach,
    ):
        assert await session.scalar(select(func.count()).select_from(table)) == 0


async def test_a_time_without_its_zone_is_refused(session: AsyncSession) -> None:
    ana = await add_learner(session)
    naive = at(5, 9).replace(tzinfo=None)
    with pytest.raises(StatementError, match="naive datetime"):
        await activity_log.record(session, ana, Verb.JOINED, occurred_at=naive)
    assert await session.scalar(select(func.count()).select_from(Activity)) == 0


async def test_a_counted_record_is_one_statement_on_postgresql(
    session: AsyncSession, database: TestDatabase
) -> None:
    """The activity, the learner's newest cohort and every roll-up: one round trip there; on
    SQLite the activity, then an UPDATE a roll-up once the quarter hour's rows exist."""
    cohort = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    _, (lesson,) = await add_track(session, "mixed", lessons=1)
    ana = await add_learner(session, cohort=cohort)
    await record(session, ana, Verb.STEP, at(7, 9), lesson=lesson, data={"step": 1})
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    try:
        await record(session, ana, Verb.STEP, at(7, 9, 5), lesson=lesson, data={"step": 2})
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", note)
    assert len(seen) == (1 if database.backend == "postgresql" else 6), seen
    assert await session.scalar(select(ParticipationMonth.active)) == 2
    assert await session.scalar(select(ParticipationWeek.active)) == 2
    assert await session.scalar(select(LessonReach.furthest)) == 2


async def _reached(session: AsyncSession) -> list[tuple[Any, ...]]:
    """How far each learner got per key, however it is split between rows."""
    keys = [LessonReach.occurred_at, *(getattr(LessonReach, k) for k in REACH_KEY_COLUMNS)]
    rows = await session.execute(
        select(*keys, *(func.max(getattr(LessonReach, name)) for name in REACH_FIGURES))
        .group_by(*keys)
        .order_by(*keys)
    )
    return [tuple(row) for row in rows]


async def test_lesson_reach_kept_while_writing_equals_a_rebuild(session: AsyncSession) -> None:
    """Starts, steps, completions and passes of one sitting are one row; other verbs, none."""
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    plovdiv = await add_cohort(session, "PDV1", region="Plovdiv", municipality="Plovdiv")
    _, (first, second) = await add_track(session, "mixed", lessons=2)
    ana = await add_learner(session, cohort=sliven)
    vera = await add_learner(session, role=Role.PARENT, cohort=sliven)
    events: list[tuple[Any, Verb, datetime, dict[str, Any]]] = [
        (ana, Verb.STARTED, at(5, 9, 1), {"lesson": first}),
        (ana, Verb.STEP, at(5, 9, 2), {"lesson": first, "data": {"step": 2}}),
        (ana, Verb.STEP, at(5, 9, 3), {"lesson": first, "data": {"step": 1}}),  # went back
        (ana, Verb.ANSWERED, at(5, 9, 4), {"lesson": first}),
        (ana, Verb.COMPLETED, at(5, 9, 5), {"lesson": first}),
        (ana, Verb.PASSED, at(5, 9, 5), {"lesson": first}),
        (ana, Verb.STEP, at(5, 9, 16), {"lesson": first, "data": {"step": 1}}),  # next quarter
        (ana, Verb.STARTED, at(6, 9), {"lesson": second, "cohort": plovdiv}),
        (ana, Verb.STEP, at(6, 9, 1), {"lesson": second, "cohort": plovdiv}),  # no index
        (vera, Verb.STARTED, at(5, 9, 2), {"lesson": first}),
        (vera, Verb.JOINED, at(5, 9, 2), {}),
    ]
    for learner, verb, when, options in events:
        await record(session, learner, verb, when, **{"cohort": sliven, **options})
    written = await _reached(session)

    await rebuild(session)
    assert await _reached(session) == written
    first_id, second_id = first.id, second.id
    assert [(row[0], row[1], row[2], *row[-4:]) for row in written] == [
        (at(5, 9), ana.id, first_id, 1, 2, 1, 1),
        (at(5, 9), vera.id, first_id, 1, None, 0, 0),
        (at(5, 9, 15), ana.id, first_id, 0, 1, 0, 0),
        (at(6, 9), ana.id, second_id, 1, None, 0, 0),
    ]
    assert {row[4] for row in written if row[2] == second_id} == {plovdiv.id}
    assert (await session.scalar(select(func.count()).select_from(LessonReach))) == 4


async def test_lesson_reach_is_built_when_missing(session: AsyncSession) -> None:
    """A database that gets the table after its activities has it filled by ``db upgrade``."""
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    _, (first,) = await add_track(session, "mixed", lessons=1)
    ana = await add_learner(session, cohort=sliven)
    await record(session, ana, Verb.STARTED, at(5, 9), lesson=first)
    await record(session, ana, Verb.COMPLETED, at(5, 9, 3), lesson=first)
    written = await _reached(session)
    await session.execute(delete(LessonReach))
    connection = await session.connection()
    assert await activity_log.rebuild_if_missing(connection) is True
    assert await _reached(session) == written
    assert await activity_log.rebuild_if_missing(connection) is False
