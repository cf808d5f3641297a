"""The tokens resource: list without secrets, create, scope, revoke, audit."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import ApiToken, AuditLog, TokenRole
from learntogether.services.tokens import split_token
from tests.factories import create_api_token, create_cohort


async def test_list_shows_tokens_without_secrets(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker, name="office")
    await create_api_token(session_maker, TokenRole.VIEWER, name="funder")
    response = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert {item["name"] for item in body["items"]} == {"office", "funder"}
    assert split_token(admin)[1] not in response.text
    assert all("secret" not in key and "hash" not in key for item in body["items"] for key in item)


async def test_list_pages_with_limit_and_offset(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker, name="t0")
    for index in range(1, 5):
        await create_api_token(session_maker, TokenRole.VIEWER, name=f"t{index}")
    response = await client.get(
        "/api/v1/tokens",
        params={"limit": 2, "offset": 2},
        headers={"Authorization": f"Bearer {admin}"},
    )
    body = response.json()
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (5, 2, 2, 2)


async def test_create_mediator_token_scoped_to_cohort_and_audited(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    admin = await create_api_token(session_maker, name="office")
    response = await client.post(
        "/api/v1/tokens",
        json={"name": "sliven-mediator", "role": "mediator", "cohorts": ["SLV1"]},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["cohorts"] == ["SLV1"]
    assert body["token"].startswith(f"lt_{body['prefix']}_")
    async with session_maker() as session:
        stored = await session.scalar(select(ApiToken).where(ApiToken.id == body["id"]))
        assert stored is not None
        assert split_token(body["token"])[1] not in (stored.secret_hash, stored.prefix)
        office = await session.scalar(select(ApiToken.id).where(ApiToken.name == "office"))
        audit = (await session.scalars(select(AuditLog).where(AuditLog.entity == "token"))).all()
    # The entry names the acting token by name and by id.
    assert [(entry.actor, entry.actor_token_id, entry.action) for entry in audit][-1] == (
        "token:office",
        office,
        "create",
    )


async def test_create_mediator_token_with_unknown_cohort_is_422(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.post(
        "/api/v1/tokens",
        json={"name": "m", "role": "mediator", "cohorts": ["NOPE"]},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "$.cohorts", "message": "unknown cohort code 'NOPE'"}
    ]


async def test_revoke_unknown_token_is_404(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.post(
        "/api/v1/tokens/9999/revoke", headers={"Authorization": f"Bearer {admin}"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_second_live_token_with_the_same_name_is_409_until_the_first_is_revoked(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = {"Authorization": f"Bearer {await create_api_token(session_maker, name='office')}"}
    first = await client.post(
        "/api/v1/tokens", json={"name": "funder", "role": "viewer"}, headers=admin
    )
    assert first.status_code == 201
    again = await client.post(
        "/api/v1/tokens", json={"name": " funder ", "role": "viewer"}, headers=admin
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "already named 'funder'" in again.json()["detail"]
    revoked = await client.post(f"/api/v1/tokens/{first.json()['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    reused = await client.post(
        "/api/v1/tokens", json={"name": "funder", "role": "viewer"}, headers=admin
    )
    assert reused.status_code == 201


async def test_a_new_tokens_answer_is_never_cached(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = {"Authorization": f"Bearer {await create_api_token(session_maker, name='office')}"}
    created = await client.post(
        "/api/v1/tokens", json={"name": "funder", "role": "viewer"}, headers=admin
    )
    assert created.headers["cache-control"] == "no-store"


async def test_the_last_admin_token_cannot_revoke_itself(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    secret = await create_api_token(session_maker, name="office")
    admin = {"Authorization": f"Bearer {secret}"}
    await create_api_token(session_maker, TokenRole.VIEWER, name="funder")
    listed = (await client.get("/api/v1/tokens", headers=admin)).json()["items"]
    office = next(item["id"] for item in listed if item["name"] == "office")
    refused = await client.post(f"/api/v1/tokens/{office}/revoke", headers=admin)
    assert refused.status_code == 409
    assert "last admin token" in refused.json()["detail"]
    assert (await client.get("/api/v1/tokens", headers=admin)).status_code == 200
    # With a second admin token, the first may go.
    await create_api_token(session_maker, name="office-2")
    assert (await client.post(f"/api/v1/tokens/{office}/revoke", headers=admin)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/tokens", {"name": "x", "role": "viewer", "scope": "all"}),
        ("PUT", "/api/v1/users/1/role", {"role": "teacher", "reason": "asked"}),
        ("POST", "/api/v1/cohorts/SLV1/mediators", {"user_id": 1, "lead": True}),
        ("POST", "/api/v1/events/1/attendance", {"user_id": 1, "note": "late"}),
    ],
)
async def test_a_body_field_the_route_does_not_read_is_refused(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    method: str,
    path: str,
    body: dict[str, object],
) -> None:
    admin = {"Authorization": f"Bearer {await create_api_token(session_maker, name='office')}"}
    response = await client.request(method, path, json=body, headers=admin)
    assert response.status_code == 422
    [extra] = [key for key in body if key not in ("name", "role", "user_id")]
    assert response.json()["errors"] == [
        {"path": f"$.{extra}", "message": "Extra inputs are not permitted"}
    ]
