"""Token rules: hashing, scope, authentication and last use."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import TokenRole
from learntogether.services import tokens
from learntogether.services.errors import InvalidInput, InvalidToken
from tests.factories import create_cohort


async def test_authenticate_returns_role_and_cohort_scope(session: AsyncSession) -> None:
    cohort = await create_cohort(session, code="SLV1")
    created = await tokens.create_token(
        session, name="m", role=TokenRole.MEDIATOR, cohort_codes=["SLV1"], actor="test"
    )
    principal = await tokens.authenticate(session, bearer=created.secret)
    assert principal.role is TokenRole.MEDIATOR
    assert principal.cohort_ids == frozenset({cohort.id})


async def test_authenticate_records_last_use_at_most_once_a_minute(session: AsyncSession) -> None:
    created = await tokens.create_token(session, name="a", role=TokenRole.ADMIN, actor="test")
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
    created = await tokens.create_token(session, name="gone", role=TokenRole.VIEWER, actor="test")
    await tokens.revoke_token(session, reference="gone", actor="test")
    with pytest.raises(InvalidToken):
        await tokens.authenticate(session, bearer=created.secret)


async def test_admin_token_cannot_be_scoped_to_a_cohort(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    with pytest.raises(InvalidInput, match="Only mediator tokens are scoped"):
        await tokens.create_token(
            session, name="a", role=TokenRole.ADMIN, cohort_codes=["SLV1"], actor="t"
        )


async def test_blank_name_is_refused(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput, match="needs a name"):
        await tokens.create_token(session, name="   ", role=TokenRole.ADMIN, actor="t")


def test_a_secret_with_underscores_splits_after_the_prefix_only() -> None:
    assert tokens.split_token("lt_abcd1234_se_cr_et-x") == ("abcd1234", "se_cr_et-x")
    assert tokens.split_token("nonsense") == ("", "")
