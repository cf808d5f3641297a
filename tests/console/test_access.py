"""Access pages (admins only): API tokens shown once and revoked, the audit log with filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import ApiToken, AuditLog, TokenRole
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
        ("GET", "/access/tokens/1/revoke"),
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


async def _changes_at(session_maker: async_sessionmaker[AsyncSession], *moments: datetime) -> None:
    async with session_maker() as session:
        for number, moment in enumerate(moments):
            await record_change(
                session,
                actor=Actor.system("cli"),
                action="create",
                entity="cohort",
                entity_id=f"D{number}",
            )
            await session.execute(
                update(AuditLog)
                .where(AuditLog.entity_id == f"D{number}")
                .values(occurred_at=moment)
            )
        await session.commit()


async def test_the_audit_log_keeps_the_days_asked_on_the_zones_clock(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    # 23:30 UTC on 1 March is already 2 March in Sofia (UTC+2).
    await _changes_at(
        session_maker,
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        datetime(2026, 3, 3, 12, 0, tzinfo=UTC),
    )
    await sign_in(client, session_maker)
    days = {"entity": "cohort", "from": "2026-03-02", "to": "2026-03-02"}
    in_utc = await client.get("/access/audit", params=days)
    assert in_utc.status_code == 200 and "0 changes" in in_utc.text
    in_sofia = await client.get("/access/audit", params={**days, "tz": "Europe/Sofia"})
    assert "1 change" in in_sofia.text and "D0" in in_sofia.text and "D1" not in in_sofia.text
    assert "Europe/Sofia" in in_sofia.text.split("<tbody>", 1)[1]
    both = await client.get("/access/audit", params={"from": "2026-03-01", "to": "2026-03-03"})
    assert "2 changes" in both.text


async def test_the_audit_log_pager_keeps_the_days(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _changes_at(session_maker, *[datetime(2026, 3, 2, 9, n, tzinfo=UTC) for n in range(55)])
    await sign_in(client, session_maker)
    first = await client.get(
        "/access/audit", params={"from": "2026-03-02", "to": "2026-03-02", "tz": "Europe/Sofia"}
    )
    assert "55 changes" in first.text
    assert (
        'href="/access/audit?from=2026-03-02&amp;to=2026-03-02&amp;tz=Europe%2FSofia&amp;offset=50"'
        in first.text
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "start"),
        ({"to": "yesterday"}, "end"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "end"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
async def test_a_wrong_day_or_zone_is_said_beside_its_field(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    params: dict[str, str],
    field: str,
) -> None:
    await _changes_at(session_maker, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    await sign_in(client, session_maker)
    page = await client.get("/access/audit", params=params)
    assert page.status_code == 422
    assert f'id="{field}-errors"' in page.text
    for name in ("from", "to"):
        if name in params:  # shown back as typed, to be corrected
            assert f'value="{params[name]}"' in page.text


async def test_revoking_asks_first_and_warns_about_the_last_admin_token(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    for name, role in (("ops", "admin"), ("reports", "viewer")):
        await client.post("/access/tokens", data={"csrf": csrf, "name": name, "role": role})
    async with session_maker() as session:
        ids = {token.name: token.id for token in await session.scalars(select(ApiToken))}
    listing = await client.get("/access/tokens")
    assert f'action="/access/tokens/{ids["ops"]}/revoke"' in listing.text
    viewer = await client.get(f"/access/tokens/{ids['reports']}/revoke")
    assert viewer.status_code == 200 and "will stop working" in viewer.text
    assert "last admin token" not in viewer.text
    last = await client.get(f"/access/tokens/{ids['ops']}/revoke")
    assert "last admin token" in last.text
    assert "learntogether token create --role admin --name NAME" in last.text
    async with session_maker() as session:  # asking revoked nothing
        assert all(t.revoked_at is None for t in await session.scalars(select(ApiToken)))
    revoked = await client.post(f"/access/tokens/{ids['ops']}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 303
    again = await client.get(f"/access/tokens/{ids['ops']}/revoke")
    assert (
        "already revoked" in again.text and 'class="danger"' not in again.text.split("<main", 1)[1]
    )


async def test_a_second_admin_token_takes_the_warning_away(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    for name in ("ops", "backup"):
        await client.post("/access/tokens", data={"csrf": csrf, "name": name, "role": "admin"})
    async with session_maker() as session:
        token = await session.scalar(select(ApiToken).where(ApiToken.name == "ops"))
    assert token is not None
    page = await client.get(f"/access/tokens/{token.id}/revoke")
    assert "will stop working" in page.text and "last admin token" not in page.text
    assert (await client.get("/access/tokens/999999/revoke")).status_code == 404
