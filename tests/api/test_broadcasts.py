"""The broadcasts resource: create for cohorts or everyone, live counts, list, cancel, scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import AuditLog, TokenRole
from learntogether.services import outbox
from tests.factories import create_api_token, create_cohort, create_learner

URL = "/api/v1/broadcasts"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def cohorts(session_maker: async_sessionmaker[AsyncSession]) -> None:
    """SLV1 with three learners (one of whom blocked the bot), SLV2 with one, EMPTY with none."""
    async with session_maker() as session:
        for code in ("SLV1", "SLV2", "EMPTY"):
            await create_cohort(session, code=code, name=f"Cohort {code}")
        await session.commit()
    for telegram_id in (11, 12, 13):
        await create_learner(session_maker, telegram_id, cohort="SLV1")
    await create_learner(session_maker, 21, cohort="SLV2", locale="bg")
    async with session_maker() as session:
        await outbox.mark_blocked(session, telegram_id=13)
        await session.commit()


@pytest.fixture
async def bare_cohort(session_maker: async_sessionmaker[AsyncSession]) -> None:
    """SLV1 without learners: enough for input checks."""
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()


@pytest.fixture
async def admin(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return _auth(await create_api_token(session_maker, name="office"))


@pytest.fixture
async def mediator(
    session_maker: async_sessionmaker[AsyncSession], cohorts: None
) -> dict[str, str]:
    token = await create_api_token(
        session_maker, TokenRole.MEDIATOR, name="sliven", cohorts=["SLV1"]
    )
    return _auth(token)


def _errors(body: dict[str, Any]) -> dict[str, str]:
    return {error["path"]: error["message"] for error in body.get("errors", [])}


async def test_admin_broadcasts_to_a_cohort_and_gets_live_counts(
    client: AsyncClient, admin: dict[str, str], cohorts: None
) -> None:
    response = await client.post(
        URL, json={"cohort": "SLV1", "text": "Workshop on <b>Friday</b>"}, headers=admin
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["cohorts"] == ["SLV1"] and body["all"] is False
    assert body["counts"] == {
        "total": 2,
        "pending": 2,
        "sent": 0,
        "failed": 0,
        "blocked": 0,
        "cancelled": 0,
    }
    again = await client.get(f"{URL}/{body['id']}", headers=admin)
    assert again.status_code == 200
    assert again.json() == body


async def test_broadcast_to_several_cohorts_or_everyone(
    client: AsyncClient, admin: dict[str, str], cohorts: None
) -> None:
    several = await client.post(
        URL,
        json={"cohorts": ["SLV1", "SLV2"], "text": {"en": "Hi", "bg": "Здравейте"}},
        headers=admin,
    )
    everyone = await client.post(URL, json={"all": True, "text": "Hi"}, headers=admin)

    assert several.status_code == everyone.status_code == 201
    assert several.json()["counts"]["total"] == 3
    assert several.json()["cohorts"] == ["SLV1", "SLV2"]
    assert everyone.json()["counts"]["total"] == 3
    assert everyone.json()["all"] is True


async def test_send_at_in_the_future_schedules_and_in_the_past_means_now(
    client: AsyncClient, admin: dict[str, str], cohorts: None
) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    past = "2020-01-01T09:00:00+02:00"

    scheduled = await client.post(
        URL, json={"cohort": "SLV1", "text": "Hi", "send_at": later.isoformat()}, headers=admin
    )
    immediate = await client.post(
        URL, json={"cohort": "SLV1", "text": "Hi", "send_at": past}, headers=admin
    )

    assert datetime.fromisoformat(scheduled.json()["send_at"]) == later
    assert datetime.fromisoformat(immediate.json()["send_at"]) > datetime.now(UTC) - timedelta(
        minutes=1
    )


async def test_broadcast_to_nobody_is_done_at_once_and_cannot_be_cancelled(
    client: AsyncClient, admin: dict[str, str], cohorts: None
) -> None:
    created = await client.post(URL, json={"cohort": "EMPTY", "text": "Hi"}, headers=admin)
    assert created.json()["status"] == "done"
    assert created.json()["counts"]["total"] == 0

    response = await client.post(f"{URL}/{created.json()['id']}/cancel", headers=admin)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "nothing to cancel" in response.json()["detail"]


async def test_cancel_stops_what_has_not_been_sent_and_is_audited(
    client: AsyncClient,
    admin: dict[str, str],
    cohorts: None,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    created = await client.post(
        URL, json={"cohort": "SLV1", "text": "Hi", "send_at": later}, headers=admin
    )
    broadcast_id = created.json()["id"]

    response = await client.post(f"{URL}/{broadcast_id}/cancel", headers=admin)
    twice = await client.post(f"{URL}/{broadcast_id}/cancel", headers=admin)

    assert response.status_code == twice.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled" and body["cancelled_at"] is not None
    assert body["counts"]["cancelled"] == body["counts"]["total"] == 2
    async with session_maker() as session:
        entries = list(
            await session.scalars(
                select(AuditLog)
                .where(AuditLog.entity == "broadcast", AuditLog.entity_id == str(broadcast_id))
                .order_by(AuditLog.id)
            )
        )
    assert [(entry.action, entry.actor) for entry in entries] == [
        ("create", "token:office"),
        ("cancel", "token:office"),
    ]
    assert entries[0].after is not None and entries[0].after["cohorts"] == ["SLV1"]


async def test_list_is_a_page_newest_first(
    client: AsyncClient, admin: dict[str, str], cohorts: None
) -> None:
    for text in ("first", "second", "third"):
        await client.post(URL, json={"cohort": "SLV1", "text": text}, headers=admin)

    response = await client.get(URL, params={"limit": 2}, headers=admin)

    body = response.json()
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (3, 2, 0, 2)
    assert body["items"][0]["id"] > body["items"][1]["id"]
    assert set(body["items"][0]["counts"]) == {
        "total",
        "pending",
        "sent",
        "failed",
        "blocked",
        "cancelled",
    }


async def test_mediator_broadcasts_to_its_cohort_and_sees_only_its_broadcasts(
    client: AsyncClient, admin: dict[str, str], mediator: dict[str, str]
) -> None:
    own = await client.post(URL, json={"cohort": "SLV1", "text": "Hi"}, headers=mediator)
    others = await client.post(URL, json={"cohort": "SLV2", "text": "Hi"}, headers=admin)

    listed = await client.get(URL, headers=mediator)
    foreign = await client.get(f"{URL}/{others.json()['id']}", headers=mediator)
    foreign_cancel = await client.post(f"{URL}/{others.json()['id']}/cancel", headers=mediator)

    assert own.status_code == 201
    assert [item["id"] for item in listed.json()["items"]] == [own.json()["id"]]
    assert foreign.status_code == foreign_cancel.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"cohort": "SLV2", "text": "Hi"},
        {"cohorts": ["SLV1", "SLV2"], "text": "Hi"},
        {"all": True, "text": "Hi"},
    ],
)
async def test_mediator_cannot_reach_beyond_its_cohorts(
    client: AsyncClient, mediator: dict[str, str], body: dict[str, Any]
) -> None:
    response = await client.post(URL, json=body, headers=mediator)

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_preview_says_who_would_read_another_language_and_sends_nothing(
    client: AsyncClient, admin: dict[str, str], cohorts: None
) -> None:
    body = {"cohorts": ["SLV1", "SLV2"], "text": {"en": "Workshop on Friday"}}

    english = await client.post(f"{URL}/preview", json=body, headers=admin)
    both = await client.post(
        f"{URL}/preview",
        json={**body, "text": {"en": "Workshop on Friday", "bg": "Среща в петък"}},
        headers=admin,
    )
    listed = await client.get(URL, headers=admin)

    # SLV2's learner reads Bulgarian; SLV1's read English (the one who blocked the bot is not
    # counted: nothing would go to them).
    assert english.status_code == 200, english.text
    assert english.json() == {
        "texts": {"en": "Workshop on Friday"},
        "other_languages": [{"reads": "bg", "given": "en", "count": 1}],
    }
    assert both.json()["other_languages"] == []
    assert listed.json()["items"] == []


async def test_a_mediator_previews_only_what_they_may_send(
    client: AsyncClient, mediator: dict[str, str]
) -> None:
    own = await client.post(
        f"{URL}/preview", json={"cohort": "SLV1", "text": "Hi"}, headers=mediator
    )
    foreign = await client.post(
        f"{URL}/preview", json={"cohort": "SLV2", "text": "Hi"}, headers=mediator
    )

    assert own.status_code == 200
    assert own.json()["other_languages"] == []
    assert foreign.status_code == 403
    assert foreign.headers["content-type"] == "application/problem+json"


async def test_viewer_is_refused_and_no_token_is_unauthorized(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], cohorts: None
) -> None:
    viewer = _auth(await create_api_token(session_maker, TokenRole.VIEWER, name="funder"))

    refused = await client.post(URL, json={"cohort": "SLV1", "text": "Hi"}, headers=viewer)
    refused_preview = await client.post(
        f"{URL}/preview", json={"cohort": "SLV1", "text": "Hi"}, headers=viewer
    )
    unauthorized = await client.post(URL, json={"cohort": "SLV1", "text": "Hi"})
    listing = await client.get(URL)

    assert refused.status_code == refused_preview.status_code == 403
    assert unauthorized.status_code == listing.status_code == 401


async def test_unknown_broadcast_is_not_found(client: AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(f"{URL}/999999", headers=admin)
    cancel = await client.post(f"{URL}/999999/cancel", headers=admin)

    assert response.status_code == cancel.status_code == 404
    assert response.json()["detail"] == "No broadcast 999999."


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"text": "Hi"}, "$.cohort", "give a cohort code, a list of cohorts, or all: true"),
        ({"cohort": "SLV1", "all": True, "text": "Hi"}, "$.all", "give only one of"),
        ({"cohorts": [], "text": "Hi"}, "$.cohorts", "name at least one cohort"),
        ({"cohorts": ["SLV1", "NOPE"], "text": "Hi"}, "$.cohorts[1]", "no cohort with code"),
        ({"cohort": "SLV1", "text": "<b>unclosed"}, "$.text", "Telegram would refuse"),
        ({"cohort": "SLV1", "text": "  "}, "$.text", "text is empty"),
        ({"cohort": "SLV1", "text": "<b> </b>"}, "$.text", "text is empty"),
        ({"cohort": "SLV1", "text": {"en": "Hi", "bg": "<i>x"}}, "$.text.bg", "Telegram would"),
        ({"cohort": "SLV1", "text": {"en": "Hi", "xx": "Hi"}}, "$.text.xx", "unknown locale"),
        ({"cohort": "SLV1", "text": {}}, "$.text", "give the text"),
        ({"cohort": "SLV1", "text": "a" * 4097}, "$.text", "text is 4097 characters; Telegram's"),
        ({"cohort": "SLV1", "text": "Hi", "send_at": "2026-12-01T09:00"}, "$.send_at", "time zone"),
        ({"cohort": "SLV1", "text": "Hi", "send_at": "tomorrow"}, "$.send_at", "datetime"),
        ({"cohort": "SLV1", "text": 42}, "$.text", ""),
        ({"cohort": "SLV1", "text": "Hi", "colour": "red"}, "$.colour", "Extra inputs"),
    ],
)
@pytest.mark.parametrize("address", [URL, f"{URL}/preview"])
async def test_bad_input_is_422_with_the_field_path(
    client: AsyncClient,
    admin: dict[str, str],
    bare_cohort: None,
    body: dict[str, Any],
    path: str,
    message: str,
    address: str,
) -> None:
    response = await client.post(address, json=body, headers=admin)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = _errors(response.json())
    assert any(key.startswith(path) for key in errors), errors
    assert any(message in text for key, text in errors.items() if key.startswith(path)), errors


async def test_text_length_counts_what_telegram_shows_not_the_markup(
    client: AsyncClient, admin: dict[str, str], bare_cohort: None
) -> None:
    text = "<b>" + "a" * 4096 + "</b>"

    response = await client.post(URL, json={"cohort": "SLV1", "text": text}, headers=admin)

    assert response.status_code == 201
