"""Token rules: hashing, scope, authentication and last use."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import ApiToken, TokenRole
from learntogether.services import tokens
from learntogether.services.actors import Actor
from learntogether.services.errors import Conflict, InvalidInput, InvalidToken
from tests.factories import create_cohort


async def test_authenticate_returns_role_and_cohort_scope(session: AsyncSession) -> None:
    cohort = await create_cohort(session, code="SLV1")
    created = await tokens.create_token(
        session,
        name="m",
        role=TokenRole.MEDIATOR,
        cohort_codes=["SLV1"],
        actor=Actor.system("test"),
    )
    principal = await tokens.authenticate(session, bearer=created.secret)
    assert principal.role is TokenRole.MEDIATOR
    assert principal.cohort_ids == frozenset({cohort.id})


async def test_authenticate_records_last_use_at_most_once_a_minute(session: AsyncSession) -> None:
    created = await tokens.create_token(
        session, name="a", role=TokenRole.ADMIN, actor=Actor.system("test")
    )
    await tokens.authenticate(session, bearer=created.secret)
    (first,), _ = await tokens.list_tokens(session, limit=1, offset=0)
    assert first.last_used_at is not None
    await tokens.authenticate(session, bearer=created.secret)
    (second,), _ = await tokens.list_tokens(session, limit=1, offset=0)
    assert second.last_used_at == first.last_used_at


@pytest.mark.parametrize(
    "bearer", ["", "lt_", "lt__", "lt_abcd", "xx_abcd1234_secret", "lt_abcd1234_"]
)
async def test_malformed_bearer_is_invalid_token(session: AsyncSession, bearer: str) -> None:
    with pytest.raises(InvalidToken):
        await tokens.authenticate(session, bearer=bearer)


async def test_revoked_token_no_longer_authenticates(session: AsyncSession) -> None:
    created = await tokens.create_token(
        session, name="gone", role=TokenRole.VIEWER, actor=Actor.system("test")
    )
    await tokens.revoke_token(session, reference="gone", actor=Actor.system("test"))
    with pytest.raises(InvalidToken):
        await tokens.authenticate(session, bearer=created.secret)


async def test_admin_token_cannot_be_scoped_to_a_cohort(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    with pytest.raises(InvalidInput, match="Only mediator tokens are scoped"):
        await tokens.create_token(
            session, name="a", role=TokenRole.ADMIN, cohort_codes=["SLV1"], actor=Actor.system("t")
        )


async def test_blank_name_is_refused(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput, match="needs a name"):
        await tokens.create_token(
            session, name="   ", role=TokenRole.ADMIN, actor=Actor.system("t")
        )


def test_a_secret_with_underscores_splits_after_the_prefix_only() -> None:
    assert tokens.split_token("lt_abcd1234_se_cr_et-x") == ("abcd1234", "se_cr_et-x")
    assert tokens.split_token("nonsense") == ("", "")


async def test_two_live_tokens_cannot_share_a_name_but_a_revoked_ones_name_is_free(
    session: AsyncSession,
) -> None:
    actor = Actor.system("test")
    await tokens.create_token(session, name="office", role=TokenRole.ADMIN, actor=actor)
    with pytest.raises(Conflict):
        await tokens.create_token(session, name="office", role=TokenRole.VIEWER, actor=actor)
    await tokens.revoke_token(session, reference="office", actor=actor)
    again = await tokens.create_token(session, name="office", role=TokenRole.VIEWER, actor=actor)
    assert again.info.name == "office"


async def test_the_database_refuses_a_second_live_name_written_around_the_service(
    session: AsyncSession,
) -> None:
    session.add(ApiToken(name="twin", role=TokenRole.ADMIN, prefix="aaaa0001", secret_hash="x"))
    await session.flush()
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(
                ApiToken(name="twin", role=TokenRole.VIEWER, prefix="aaaa0002", secret_hash="x")
            )


async def test_the_command_line_may_revoke_the_last_admin_token(session: AsyncSession) -> None:
    await tokens.create_token(session, name="office", role=TokenRole.ADMIN, actor=Actor.system("t"))
    revoked = await tokens.revoke_token(session, reference="office", actor=Actor.system("cli"))
    assert revoked.revoked_at is not None
