"""Broadcast pages: compose with a preview, send, each recipient's status, cancel; and scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import (
    AuditLog,
    Broadcast,
    BroadcastStatus,
    Delivery,
    TokenRole,
    WaitReason,
)
from learntogether.services import broadcasts
from learntogether.services.actors import Actor
from tests.console.conftest import sign_in

pytestmark = pytest.mark.usefixtures("programme")


async def _broadcast_to(
    session_maker: async_sessionmaker[AsyncSession], code: str, *, later: bool = False
) -> int:
    async with session_maker() as session:
        created = await broadcasts.create_broadcast(
            session,
            actor=Actor.system("test"),
            text="Hello",
            cohort=code,
            send_at=utcnow() + timedelta(days=1) if later else None,
        )
        await session.commit()
    return created.id


async def test_a_preview_shows_each_language_as_telegram_would_and_sends_nothing(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    page = await client.post(
        "/broadcasts/new",
        data={
            "csrf": csrf,
            "cohorts": ["SLV1"],
            "text_bg": "Здравейте, <b>урок</b> &lt;script&gt;",
            "text_en": 'Hello <a href="https://example.org">here</a>',
            "action": "preview",
        },
    )
    assert page.status_code == 200
    assert '<div class="bubble" lang="bg">Здравейте, <b>урок</b> &lt;script&gt;</div>' in page.text
    assert '<a href="https://example.org" rel="noopener noreferrer">here</a>' in page.text
    async with session_maker() as session:
        assert await session.scalar(select(Broadcast)) is None


async def test_a_preview_says_who_would_read_it_in_another_language_than_theirs(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.ADMIN)
    form = {"csrf": csrf, "cohorts": ["SLV1", "MAD1"], "action": "preview"}

    bulgarian = await client.post("/broadcasts/new", data={**form, "text_bg": "Утре"})
    both = await client.post(
        "/broadcasts/new", data={**form, "text_bg": "Утре", "text_es": "Mañana"}
    )
    everyone = await client.post(
        "/broadcasts/new",
        data={"csrf": csrf, "all": "true", "text_bg": "Утре", "action": "preview"},
    )

    # Petya (SLV1) reads English, Lucía (MAD1) Spanish; the text is written in Bulgarian alone.
    assert "1 learner reads English: they would get it in Bulgarian." in bulgarian.text
    assert "1 learner reads Spanish: they would get it in Bulgarian." in bulgarian.text
    assert "reads Spanish" not in both.text
    assert "1 learner reads English: they would get it in Spanish." not in both.text
    assert "1 learner reads English: they would get it in Bulgarian." in both.text
    assert "1 learner reads Spanish: they would get it in Bulgarian." in everyone.text


async def test_compose_problems_are_shown_beside_their_fields(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    empty = await client.post("/broadcasts/new", data={"csrf": csrf, "action": "send"})
    assert empty.status_code == 422
    assert 'id="texts-errors"' in empty.text and 'id="cohorts-errors"' in empty.text
    bad = await client.post(
        "/broadcasts/new",
        data={"csrf": csrf, "cohorts": ["SLV1"], "text_bg": "<b>open", "action": "send"},
    )
    assert bad.status_code == 422
    assert 'id="text_bg-errors"' in bad.text
    assert "Telegram would refuse this text." in bad.text
    later = await client.post(
        "/broadcasts/new",
        data={
            "csrf": csrf,
            "cohorts": ["SLV1"],
            "text_en": "Hi",
            "when": "later",
            "send_at": "soon",
            "action": "send",
        },
    )
    assert 'id="send_at-errors"' in later.text
    async with session_maker() as session:
        assert await session.scalar(select(Broadcast)) is None


async def test_a_mediator_sends_to_their_cohort_and_sees_each_recipient(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"], name="Rosa")
    sent = await client.post(
        "/broadcasts/new",
        data={
            "csrf": csrf,
            "cohorts": ["SLV1"],
            "text_bg": "Утре има среща",
            "when": "later",
            "send_at": "2030-01-06T09:00",
            "zone": "Europe/Sofia",
            "action": "send",
        },
    )
    assert sent.status_code == 303
    async with session_maker() as session:
        broadcast = await session.scalar(select(Broadcast))
        entry = await session.scalar(select(AuditLog).where(AuditLog.entity == "broadcast"))
    assert broadcast is not None and entry is not None
    assert entry.actor == "staff:Rosa"
    assert broadcast.send_at.isoformat() == "2030-01-06T07:00:00+00:00"
    assert sent.headers["location"] == f"/broadcasts/{broadcast.id}"
    page = await client.get(sent.headers["location"])
    assert "Petya" in page.text and "Lucía" not in page.text
    assert '<meta http-equiv="refresh" content="5">' in page.text
    listing = await client.get("/broadcasts")
    assert f'href="/broadcasts/{broadcast.id}"' in listing.text
    cancelled = await client.post(f"/broadcasts/{broadcast.id}/cancel", data={"csrf": csrf})
    assert cancelled.headers["location"] == f"/broadcasts/{broadcast.id}?done=cancelled"
    async with session_maker() as session:
        again = await session.get(Broadcast, broadcast.id)
    assert again is not None and again.status is BroadcastStatus.CANCELLED


async def test_a_mediator_cannot_send_to_see_or_cancel_another_cohorts_broadcast(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    madrid = await _broadcast_to(session_maker, "MAD1", later=True)
    csrf = await sign_in(client, session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    assert (await client.get(f"/broadcasts/{madrid}")).status_code == 403
    assert (
        await client.post(f"/broadcasts/{madrid}/cancel", data={"csrf": csrf})
    ).status_code == 403
    assert f"/broadcasts/{madrid}" not in (await client.get("/broadcasts")).text
    forged = await client.post(
        "/broadcasts/new",
        data={"csrf": csrf, "cohorts": ["MAD1"], "text_en": "Hi", "action": "send"},
    )
    assert forged.status_code == 403
    everyone = await client.post(
        "/broadcasts/new", data={"csrf": csrf, "all": "true", "text_en": "Hi", "action": "send"}
    )
    assert everyone.status_code == 403
    async with session_maker() as session:
        assert len((await session.scalars(select(Broadcast))).all()) == 1


@pytest.mark.parametrize("path", ["/broadcasts", "/broadcasts/new", "/broadcasts/{id}"])
async def test_a_viewer_cannot_open_broadcasts(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], path: str
) -> None:
    sliven = await _broadcast_to(session_maker, "SLV1")
    await sign_in(client, session_maker, TokenRole.VIEWER)
    assert (await client.get(path.format(id=sliven))).status_code == 403


async def test_cancelling_what_has_all_been_sent_says_so(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        created = await broadcasts.create_broadcast(
            session, actor=Actor.system("test"), text="Hi", cohort="SLV1"
        )
        row = await session.get(Broadcast, created.id)
        assert row is not None
        row.status = BroadcastStatus.DONE
        await session.commit()
    csrf = await sign_in(client, session_maker)
    answer = await client.post(f"/broadcasts/{created.id}/cancel", data={"csrf": csrf})
    page = await client.get(answer.headers["location"])
    assert "nothing to cancel" in page.text


async def test_a_message_waiting_for_quiet_hours_says_so(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker, TokenRole.ADMIN)
    broadcast_id = await _broadcast_to(session_maker, "SLV1")
    until = utcnow() + timedelta(hours=3)
    async with session_maker() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.broadcast_id == broadcast_id)
            .values(wait_reason=WaitReason.QUIET_HOURS, next_attempt_at=until)
        )
        await session.commit()
    page = await client.get(f"/broadcasts/{broadcast_id}")
    assert "waits for the learner&#39;s quiet hours to end, until" in page.text


@pytest.mark.parametrize(
    ("reason", "error", "said"),
    [
        (WaitReason.PAUSE, "Too Many Requests: retry after 30", "all sending is paused until"),
        (WaitReason.PAUSE, None, "all sending is paused until"),
        (WaitReason.RETRY, "Bad Gateway", "next try"),
    ],
)
async def test_a_message_held_by_a_pause_or_a_retry_says_which(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    reason: WaitReason,
    error: str | None,
    said: str,
) -> None:
    await sign_in(client, session_maker, TokenRole.ADMIN)
    broadcast_id = await _broadcast_to(session_maker, "SLV1")
    async with session_maker() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.broadcast_id == broadcast_id)
            .values(
                wait_reason=reason,
                last_error=error,
                next_attempt_at=utcnow() + timedelta(minutes=1),
            )
        )
        await session.commit()
    page = await client.get(f"/broadcasts/{broadcast_id}")
    assert said in page.text
    assert "quiet hours" not in page.text
    if error is not None:
        assert error in page.text
