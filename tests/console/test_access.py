"""Access pages (admins only): API tokens shown once and revoked, the audit log with filters."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import ApiToken, TokenRole
from learntogether.services.actors import Actor
from learntogether.services.audit import record_change
from tests.console.conftest import sign_in

pytestmark = pytest.mark.usefixtures("programme")


async def test_a_token_is_shown_once_and_works_then_is_revoked(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker, name="Ana")
    created = await client.post(
        "/access/tokens",
        data={"csrf": csrf, "name": "sliven-script", "role": "mediator", "cohorts": ["SLV1"]},
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    secret = created.text.split('class="secret" readonly value="', 1)[1].split('"', 1)[0]
    assert secret.startswith("lt_")
    api = await client.get("/api/v1/cohorts", headers={"Authorization": f"Bearer {secret}"})
    assert [item["code"] for item in api.json()["items"]] == ["SLV1"]
    listing = await client.get("/access/tokens")
    assert "sliven-script" in listing.text and secret not in listing.text
    async with session_maker() as session:
        token = await session.scalar(select(ApiToken))
    assert token is not None
    revoked = await client.post(f"/access/tokens/{token.id}/revoke", data={"csrf": csrf})
    assert revoked.headers["location"] == "/access/tokens?done=revoked"
    api = await client.get("/api/v1/cohorts", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401
    log = await client.get("/access/audit", params={"entity": "token", "who": "staff:Ana"})
    assert log.text.count("<td>staff:Ana</td>") == 2
    assert "2 changes" in log.text


async def test_token_problems_are_shown_beside_their_fields(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    no_cohort = await client.post(
        "/access/tokens", data={"csrf": csrf, "name": "m", "role": "mediator"}
    )
    assert no_cohort.status_code == 422
    assert 'id="cohorts-errors"' in no_cohort.text
    await client.post("/access/tokens", data={"csrf": csrf, "name": "ops", "role": "viewer"})
    taken = await client.post(
        "/access/tokens", data={"csrf": csrf, "name": "ops", "role": "viewer"}
    )
    assert taken.status_code == 422
    assert 'id="name-errors"' in taken.text and "already named" in taken.text


@pytest.mark.parametrize("role", [TokenRole.MEDIATOR, TokenRole.VIEWER])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/access"),
        ("GET", "/access/tokens"),
        ("POST", "/access/tokens"),
        ("POST", "/access/tokens/1/revoke"),
        ("GET", "/access/audit"),
    ],
)
async def test_only_admins_open_access_pages(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    role: TokenRole,
    method: str,
    path: str,
) -> None:
    csrf = await sign_in(
        client, session_maker, role, cohorts=["MAD1"] if role is TokenRole.MEDIATOR else None
    )
    data = {"csrf": csrf, "name": "x", "role": "admin"} if method == "POST" else None
    answer = await client.request(method, path, data=data)
    assert answer.status_code == 403
    async with session_maker() as session:
        assert await session.scalar(select(ApiToken)) is None


async def test_the_audit_log_pages_keep_their_filters(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        for number in range(55):
            await record_change(
                session,
                actor=Actor.system("cli"),
                action="create",
                entity="cohort",
                entity_id=f"C{number}",
            )
        await session.commit()
    await sign_in(client, session_maker)
    first = await client.get("/access/audit", params={"entity": "cohort", "who": "cli"})
    assert "55 changes" in first.text
    assert 'href="/access/audit?entity=cohort&amp;who=cli&amp;offset=50"' in first.text
    second = await client.get("/access/audit?entity=cohort&who=cli&offset=50")
    assert second.text.count("<td>cli</td>") == 5
