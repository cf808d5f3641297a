"""Learners for the admin API: who sees whom, search, role, export and erasure, all audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import AuditLog, Cohort, Role, TokenRole, User, UserStatus
from learntogether.services import learners, outbox, tokens, users
from learntogether.services.actors import Actor
from learntogether.services.errors import Conflict, InvalidInput, NotAllowed
from learntogether.services.users import LearnerNotFound


async def _principal(
    session: AsyncSession, role: TokenRole = TokenRole.ADMIN, cohorts: list[str] | None = None
) -> Actor:
    created = await tokens.create_token(
        session, name=f"t-{role.value}", role=role, cohort_codes=cohorts, actor=Actor.system("test")
    )
    return await tokens.authenticate(session, bearer=created.secret)


async def _cohort(session: AsyncSession, code: str, municipality: str) -> Cohort:
    cohort = Cohort(code=code, name=code, country="BG", region="Sliven", municipality=municipality)
    session.add(cohort)
    await session.flush()
    return cohort


async def _learner(
    session: AsyncSession,
    telegram_id: int,
    name: str,
    *,
    cohort: str | None = None,
    role: Role = Role.TEACHER,
) -> User:
    return await learners.register(
        session,
        telegram_id=telegram_id,
        first_name=name,
        locale="bg",
        role=role,
        cohort_code=cohort,
    )


async def _search(
    session: AsyncSession,
    actor: Actor,
    *,
    q: str | None = None,
    cohort: str | None = None,
    role: Role | None = None,
    status: UserStatus | None = None,
) -> list[str]:
    search = await users.learner_filter(
        session, actor=actor, q=q, cohort=cohort, role=role, status=status
    )
    found, total = await users.search_learners(session, search, limit=50, offset=0)
    assert total == len(found)
    return [record.first_name or f"#{record.id}" for record in found]


async def test_admin_sees_personal_data_and_every_learner(session: AsyncSession) -> None:
    await _cohort(session, "SLV1", "Sliven")
    admin = await _principal(session)
    learner = await _learner(session, 5551, "Zlatka", cohort="SLV1")
    await _learner(session, 5552, "Asen")
    record = await users.get_learner(session, actor=admin, user_id=learner.id)
    assert (record.first_name, record.telegram_id, record.cohorts) == ("Zlatka", 5551, ("SLV1",))
    assert record.municipality == "Sliven"
    assert record.privacy_notice_version == learners.PRIVACY_VERSION
    assert await _search(session, admin) == ["Zlatka", "Asen"]


async def test_mediator_sees_only_its_cohorts_learners_without_telegram_ids(
    session: AsyncSession,
) -> None:
    await _cohort(session, "SLV1", "Sliven")
    await _cohort(session, "PLV1", "Plovdiv")
    mediator = await _principal(session, TokenRole.MEDIATOR, ["SLV1"])
    mine = await _learner(session, 1, "Mine", cohort="SLV1")
    other = await _learner(session, 2, "Other", cohort="PLV1")
    await learners.join_cohort(session, learner=mine, code="PLV1")
    assert await _search(session, mediator) == ["Mine"]
    record = await users.get_learner(session, actor=mediator, user_id=mine.id)
    assert (record.first_name, record.telegram_id, record.privacy_notice_version) == (
        "Mine",
        None,
        None,
    )
    assert record.cohorts == ("SLV1",)  # not the other cohort it also joined
    with pytest.raises(LearnerNotFound):
        await users.get_learner(session, actor=mediator, user_id=other.id)


async def test_viewer_is_refused(session: AsyncSession) -> None:
    viewer = await _principal(session, TokenRole.VIEWER)
    with pytest.raises(NotAllowed):
        await users.learner_filter(session, actor=viewer)


async def test_search_matches_every_word_in_names_username_or_municipality(
    session: AsyncSession,
) -> None:
    await _cohort(session, "SLV1", "Sliven")
    await _cohort(session, "KTL1", "Kotel")
    admin = await _principal(session)
    ivan = await _learner(session, 1, "Ivan", cohort="SLV1")
    ivan.username = "ivan_teacher"
    await _learner(session, 2, "Ivana", cohort="KTL1")
    await _learner(session, 3, "Maria", cohort="SLV1")
    assert await _search(session, admin, q="ivan") == ["Ivan", "Ivana"]
    assert await _search(session, admin, q="ivan sliven") == ["Ivan"]
    assert await _search(session, admin, q="@ivan_teacher") == ["Ivan"]
    assert await _search(session, admin, q="kotel") == ["Ivana"]


async def test_search_treats_like_wildcards_literally(session: AsyncSession) -> None:
    admin = await _principal(session)
    await _learner(session, 1, "100% Maria")
    await _learner(session, 2, "Maria")
    assert await _search(session, admin, q="%") == ["100% Maria"]
    assert await _search(session, admin, q="_") == []


async def test_filters_by_cohort_role_and_status(session: AsyncSession) -> None:
    await _cohort(session, "SLV1", "Sliven")
    admin = await _principal(session)
    await _learner(session, 1, "Teacher", cohort="SLV1")
    parent = await _learner(session, 2, "Parent", cohort="SLV1", role=Role.PARENT)
    await _learner(session, 3, "Outside", role=Role.PARENT)
    await outbox.mark_blocked(session, telegram_id=2)
    await session.refresh(parent)
    assert await _search(session, admin, cohort="SLV1") == ["Teacher", "Parent"]
    assert await _search(session, admin, role=Role.PARENT) == ["Parent", "Outside"]
    assert await _search(session, admin, status=UserStatus.BLOCKED) == ["Parent"]


async def test_unknown_cohort_filter_names_the_field(session: AsyncSession) -> None:
    admin = await _principal(session)
    with pytest.raises(InvalidInput) as error:
        await users.learner_filter(session, actor=admin, cohort="NOPE")
    assert [(p.path, p.message) for p in error.value.problems] == [
        ("query.cohort", "unknown cohort code 'NOPE'")
    ]


async def test_mediator_filtering_by_another_cohort_is_refused(session: AsyncSession) -> None:
    await _cohort(session, "SLV1", "Sliven")
    await _cohort(session, "PLV1", "Plovdiv")
    mediator = await _principal(session, TokenRole.MEDIATOR, ["SLV1"])
    with pytest.raises(NotAllowed):
        await users.learner_filter(session, actor=mediator, cohort="PLV1")


async def test_set_role_changes_it_and_audits_before_and_after(session: AsyncSession) -> None:
    admin = await _principal(session)
    learner = await _learner(session, 1, "Zlatka")
    record = await users.set_learner_role(
        session, actor=admin, user_id=learner.id, role=Role.MEDIATOR
    )
    assert record.role is Role.MEDIATOR
    entry = await session.scalar(select(AuditLog).where(AuditLog.action == "set_role"))
    assert entry is not None
    assert (entry.actor, entry.actor_token_id, entry.entity, entry.entity_id) == (
        admin.name,
        admin.token_id,
        "user",
        str(learner.id),
    )
    assert (entry.before, entry.after) == ({"role": "teacher"}, {"role": "mediator"})


async def test_set_role_to_the_same_role_writes_no_audit_entry(session: AsyncSession) -> None:
    admin = await _principal(session)
    learner = await _learner(session, 1, "Zlatka")
    await users.set_learner_role(session, actor=admin, user_id=learner.id, role=Role.TEACHER)
    assert await session.scalar(select(AuditLog).where(AuditLog.action == "set_role")) is None


async def test_erased_learner_is_anonymous_and_has_no_role_to_change(
    session: AsyncSession,
) -> None:
    await _cohort(session, "SLV1", "Sliven")
    admin = await _principal(session)
    learner = await _learner(session, 1, "Zlatka", cohort="SLV1")
    record = await users.erase_learner(session, actor=admin, user_id=learner.id)
    assert record.status is UserStatus.ERASED
    assert record.erased_at is not None
    assert (record.first_name, record.telegram_id, record.role, record.municipality) == (
        None,
        None,
        None,
        None,
    )
    assert record.cohorts == ()
    with pytest.raises(Conflict):
        await users.set_learner_role(session, actor=admin, user_id=learner.id, role=Role.PARENT)


async def test_erase_is_audited_without_personal_data_and_twice_is_harmless(
    session: AsyncSession,
) -> None:
    admin = await _principal(session)
    learner = await _learner(session, 424242, "Zlatka")
    await users.erase_learner(session, actor=admin, user_id=learner.id)
    await users.erase_learner(session, actor=admin, user_id=learner.id)
    entries = list(await session.scalars(select(AuditLog).where(AuditLog.action == "erase")))
    assert len(entries) == 1
    assert (entries[0].before, entries[0].after) == ({"status": "active"}, {"status": "erased"})
    assert "Zlatka" not in repr((entries[0].before, entries[0].after))
    stored = await session.get(User, learner.id)
    assert stored is not None
    assert (stored.telegram_id, stored.first_name) == (None, None)


async def test_export_is_the_learners_own_document_and_is_audited(session: AsyncSession) -> None:
    admin = await _principal(session)
    learner = await _learner(session, 1, "Zlatka")
    document = await users.export_learner(session, actor=admin, user_id=learner.id)
    assert document == await learners.export_data(session, learner=learner)
    entry = await session.scalar(select(AuditLog).where(AuditLog.action == "export"))
    assert entry is not None
    assert entry.entity_id == str(learner.id)


async def test_unknown_learner_is_not_found(session: AsyncSession) -> None:
    admin = await _principal(session)
    with pytest.raises(LearnerNotFound):
        await users.erase_learner(session, actor=admin, user_id=999_999)


async def test_streaming_the_list_returns_every_learner_once_in_id_order(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session:
        admin = await _principal(session)
        for number in range(7):
            await _learner(session, 100 + number, f"L{number}")
        await session.commit()
        search = await users.learner_filter(session, actor=admin)
    pages = [page async for page in users.stream_learners(session_maker, search, page_size=3)]
    assert [len(page) for page in pages] == [3, 3, 1]
    ids = [record.id for page in pages for record in page]
    assert ids == sorted(set(ids))
    assert [record.first_name for page in pages for record in page] == [
        f"L{number}" for number in range(7)
    ]
