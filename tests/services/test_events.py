"""Listing a cohort's workshops: every figure, newest first, and a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import Cohort, User
from learntogether.services import cohorts, events
from learntogether.services.actors import Actor
from learntogether.services.errors import NotAllowed
from learntogether.services.events import EventInfo, EventInput
from tests.factories import mediating
from tests.report_builders import add_cohort, add_learner

EVERY_COHORT = Actor.system("test")
FIRST_WORKSHOP = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def add_workshop(session: AsyncSession, cohort: Cohort, day: int) -> EventInfo:
    """A workshop of ``cohort`` on the ``day``-th day after the first one."""
    data = EventInput(title=f"Workshop {day}", starts_at=FIRST_WORKSHOP + timedelta(days=day))
    return await events.create_event(
        session, cohort_code=cohort.code, data=data, actor=EVERY_COHORT
    )


async def attend(
    session: AsyncSession, workshop: EventInfo, learners: list[User], *, assisted: bool
) -> None:
    """Check ``learners`` in by the link, or by a mediator when ``assisted``."""
    for learner in learners:
        if assisted:
            await events.record_attendance(
                session, event_id=workshop.id, user_id=learner.id, actor=EVERY_COHORT
            )
        else:
            await events.check_in(
                session, learner=learner, code=workshop.code, now=workshop.starts_at
            )


@contextmanager
def counting_statements(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements the session's connection runs inside the block."""
    assert session.bind is not None
    engine = session.bind.sync_engine
    statements: list[str] = []

    def remember(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", remember)


async def test_each_listed_workshop_has_its_own_attendance_figures(session: AsyncSession) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    sofia = await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
    members = [await add_learner(session, cohort=sliven) for _ in range(5)]
    elsewhere = await add_learner(session, cohort=sofia)
    empty, by_link, mixed, by_mediator = [await add_workshop(session, sliven, d) for d in range(4)]
    await attend(session, by_link, members[:3], assisted=False)
    await attend(session, mixed, members[:2], assisted=False)
    await attend(session, mixed, members[2:5], assisted=True)
    await attend(session, by_mediator, members[4:], assisted=True)
    other_cohorts = await add_workshop(session, sofia, 1)
    await attend(session, other_cohorts, [elsewhere], assisted=True)

    listed = (await events.list_events(session, cohort_code="SLV1", actor=EVERY_COHORT, limit=50))[
        0
    ]

    assert [(info.id, info.attended, info.assisted, info.members) for info in listed] == [
        (by_mediator.id, 1, 1, 5),
        (mixed.id, 5, 3, 5),
        (by_link.id, 3, 0, 5),
        (empty.id, 0, 0, 5),
    ]
    assert [(info.cohort, info.code, info.title, info.starts_at) for info in listed] == [
        ("SLV1", shown.code, shown.title, shown.starts_at)
        for shown in (by_mediator, mixed, by_link, empty)
    ]
    assert listed == [
        await events.get_event(session, event_id=info.id, actor=EVERY_COHORT) for info in listed
    ]


async def test_listing_ten_workshops_runs_as_many_statements_as_listing_two(
    session: AsyncSession,
) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    members = [await add_learner(session, cohort=sliven) for _ in range(3)]
    statements_per_listing = []
    for days in (range(2), range(2, 10)):
        for day in days:
            workshop = await add_workshop(session, sliven, day)
            await attend(session, workshop, members[: day % 4], assisted=day % 2 == 0)
        with counting_statements(session) as statements:
            listed = (
                await events.list_events(session, cohort_code="SLV1", actor=EVERY_COHORT, limit=50)
            )[0]
        statements_per_listing.append((len(listed), len(statements)))

    (two, for_two), (ten, for_ten) = statements_per_listing
    assert (two, ten) == (2, 10)
    assert for_two == for_ten, statements_per_listing


async def test_mediator_cannot_list_another_cohorts_workshops(session: AsyncSession) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    sofia = await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
    await add_workshop(session, sofia, 0)

    with pytest.raises(NotAllowed):
        (
            await events.list_events(
                session, cohort_code="SOF1", actor=mediating(sliven.id), limit=50
            )
        )[0]


async def test_workshops_at_the_same_time_list_the_newest_first(session: AsyncSession) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    morning, second_room = (
        await add_workshop(session, sliven, 0),
        await add_workshop(session, sliven, 0),
    )
    listed = (await events.list_events(session, cohort_code="SLV1", actor=EVERY_COHORT, limit=50))[
        0
    ]
    assert [info.id for info in listed] == [second_room.id, morning.id]


async def test_a_newcomer_who_checks_in_by_link_joins_the_workshops_cohort(
    session: AsyncSession,
) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    member = await add_learner(session, cohort=sliven)
    newcomer = await add_learner(session)
    workshop = await add_workshop(session, sliven, 0)
    came = await events.check_in(
        session, learner=newcomer, code=workshop.code, now=workshop.starts_at
    )
    assert (came.already, came.joined) == (False, True)
    again = await events.check_in(
        session, learner=member, code=workshop.code, now=workshop.starts_at
    )
    assert (again.already, again.joined) == (False, False)
    found, total = await cohorts.members(session, code="SLV1", actor=EVERY_COHORT, limit=10)
    assert total == 2 and {m.user_id for m in found} == {member.id, newcomer.id}
    assert newcomer.municipality == "Sliven"


async def test_a_check_in_to_an_archived_cohorts_workshop_counts_but_joins_nothing(
    session: AsyncSession,
) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    workshop = await add_workshop(session, sliven, 0)
    sliven.archived_at = workshop.starts_at
    newcomer = await add_learner(session)
    came = await events.check_in(
        session, learner=newcomer, code=workshop.code, now=workshop.starts_at
    )
    assert (came.already, came.joined) == (False, False)
    info = await events.get_event(session, event_id=workshop.id, actor=EVERY_COHORT)
    assert (info.attended, info.members) == (1, 0)


async def test_the_worker_is_given_each_new_count_of_a_followed_qr_message_once(
    session: AsyncSession,
) -> None:
    """The delivery worker shows a QR message's count when it changed, whichever process
    recorded the check-ins; each change is handed out once (the claim is one UPDATE: of several
    workers checking at once, one takes it)."""
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    rosa = await add_learner(session, cohort=sliven, first_name="Rosa")
    members = [await add_learner(session, cohort=sliven) for _ in range(4)]
    workshop, not_followed = (
        await add_workshop(session, sliven, 0),
        await add_workshop(session, sliven, 0),
    )
    rosa_mediating = Actor.mediator(rosa.id, frozenset({sliven.id}))
    await events.follow_check_ins(
        session, event_id=workshop.id, actor=rosa_mediating, chat_id=7001, message_id=55, shown=0
    )
    during = workshop.starts_at
    with counting_statements(session) as statements:
        assert await events.check_in_counts_to_show(session, now=during) == []
    assert statements and not [s for s in statements if "UPDATE" in s.upper()]  # nothing written

    await attend(session, workshop, members[:2], assisted=False)
    await attend(session, not_followed, members, assisted=False)
    shown = events.FollowedCount(workshop.id, rosa.id, 7001, 55)
    assert await events.check_in_counts_to_show(session, now=during) == [shown]
    assert await events.check_in_counts_to_show(session, now=during) == []
    await attend(session, workshop, members[2:3], assisted=True)
    assert await events.check_in_counts_to_show(session, now=during) == [shown]

    # Only while check-in is open.
    await attend(session, workshop, members[3:], assisted=True)
    closed = workshop.starts_at + events.CLOSES_AFTER + timedelta(minutes=1)
    not_yet = workshop.starts_at - events.OPENS_BEFORE - timedelta(minutes=1)
    assert await events.check_in_counts_to_show(session, now=closed) == []
    assert await events.check_in_counts_to_show(session, now=not_yet) == []
    assert await events.check_in_counts_to_show(session, now=during) == [shown]


async def test_a_newer_qr_message_takes_over_and_a_gone_one_is_no_longer_followed(
    session: AsyncSession,
) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    rosa = await add_learner(session, cohort=sliven, first_name="Rosa")
    members = [await add_learner(session, cohort=sliven) for _ in range(2)]
    workshop = await add_workshop(session, sliven, 0)
    rosa_mediating = Actor.mediator(rosa.id, frozenset({sliven.id}))
    for message_id in (55, 56):
        await events.follow_check_ins(
            session,
            event_id=workshop.id,
            actor=rosa_mediating,
            chat_id=7001,
            message_id=message_id,
            shown=0,
        )
    await events.stop_following_check_ins(session, event_id=workshop.id, message_id=55)
    await attend(session, workshop, members[:1], assisted=False)
    newer = events.FollowedCount(workshop.id, rosa.id, 7001, 56)
    assert await events.check_in_counts_to_show(session, now=workshop.starts_at) == [newer]

    await events.stop_following_check_ins(session, event_id=workshop.id, message_id=56)
    await attend(session, workshop, members[1:], assisted=False)
    assert await events.check_in_counts_to_show(session, now=workshop.starts_at) == []


async def test_only_a_mediator_of_the_workshops_cohort_has_its_qr_message_followed(
    session: AsyncSession,
) -> None:
    sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
    sofia = await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
    ivo = await add_learner(session, cohort=sofia, first_name="Ivo")
    workshop = await add_workshop(session, sliven, 0)
    follow = {"event_id": workshop.id, "chat_id": 7001, "message_id": 55, "shown": 0}
    with pytest.raises(NotAllowed):
        await events.follow_check_ins(
            session, actor=Actor.mediator(ivo.id, frozenset({sofia.id})), **follow
        )
    with pytest.raises(NotAllowed):  # no one's language to write the count in
        await events.follow_check_ins(session, actor=EVERY_COHORT, **follow)
