"""Every console page holds the API's roles and reach (issue 13's quality bar): each route is
opened by a viewer and by the mediator of another cohort (MAD1) on what belongs to SLV1.

Either they are refused (403 for the role, 403 or 404 beyond reach), or the page is one they may
read and it shows nothing of SLV1 (a viewer never sees a learner's name). No refused form changes
anything. ``READS`` and ``REFUSED`` must name every console route: a new page fails here until it
says who may open it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import BaseRoute

from learntogether.console.web import ConsoleRoute
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Activity,
    Answer,
    ApiToken,
    Attendance,
    AuditLog,
    Broadcast,
    ConsoleSession,
    Delivery,
    Event,
    Membership,
    Reminder,
    TokenRole,
    User,
)
from learntogether.services import broadcasts, console_sessions, events, reminders, tokens
from learntogether.services.actors import Actor
from learntogether.services.events import EventInput
from learntogether.services.reminders import ReminderInput
from tests.console.conftest import Programme, sign_in
from tests.oggopus import ogg_opus
from tests.report_builders import reflect, said

pytestmark = pytest.mark.usefixtures("taught")

# Open to anyone: signing in and out, the language switch, the stylesheet.
PUBLIC = {
    "GET /signin",
    "GET /signin/{link}",
    "POST /signin/{link}",
    "POST /signout",
    "GET /language",
    "GET /static/{name}",
}
# What SLV1's things show: the learner's name, the cohort's code, name and region.
SLIVEN = ("Petya", "SLV1", "Sliven")

# Pages a reader of the role may open, and the query each is opened with ("" for none). A viewer
# reads the figures; the mediator of MAD1 reads these too, of MAD1 only.
READS: dict[str, tuple[set[str], str]] = {
    "GET /": ({"viewer", "mediator"}, ""),
    "GET /curriculum": ({"viewer", "mediator"}, ""),
    "GET /curriculum/translations": ({"viewer", "mediator"}, ""),
    "GET /curriculum/lessons/{slug}": ({"viewer", "mediator"}, "locale=bg"),
    "GET /curriculum/lessons/{slug}/diff": ({"viewer", "mediator"}, ""),
    "GET /reports": ({"viewer", "mediator"}, ""),
    "GET /reports/participation": ({"viewer", "mediator"}, "group_by=cohort"),
    "GET /reports/participation.csv": ({"viewer", "mediator"}, "group_by=region"),
    "GET /reports/funnel": ({"viewer", "mediator"}, "track=demo"),
    "GET /reports/funnel.csv": ({"viewer", "mediator"}, "track=demo"),
    "GET /reports/questions": ({"viewer", "mediator"}, "lesson=middle"),
    "GET /reports/questions.csv": ({"viewer", "mediator"}, "lesson=middle"),
    "GET /reports/awareness": ({"viewer", "mediator"}, "group_by=region"),
    "GET /reports/awareness.csv": ({"viewer", "mediator"}, "group_by=region"),
    "GET /cohorts": ({"mediator"}, ""),
    "GET /broadcasts": ({"mediator"}, ""),
    "GET /broadcasts/new": ({"mediator"}, ""),
    "GET /learners": ({"mediator"}, "q=Petya"),
    "GET /learners/reflections": ({"mediator"}, ""),
}

# Everything else, with a form that would be accepted from someone within reach.
REFUSED: dict[str, dict[str, str | list[str]]] = {
    "GET /access": {},
    "GET /access/sessions": {},
    "POST /access/sessions/{session_id}/end": {},
    "GET /access/tokens": {},
    "POST /access/tokens": {"name": "mine", "role": "admin"},
    "GET /access/tokens/{token_id}/revoke": {},
    "POST /access/tokens/{token_id}/revoke": {},
    "GET /access/audit": {},
    "GET /cohorts/new": {},
    "POST /cohorts": {"name": "Mine", "code": "MINE"},
    "GET /cohorts/{code}": {},
    "GET /cohorts/{code}/invite.png": {},
    "POST /cohorts/{code}/reminders": {"days": ["1"], "time": "18:00", "text": "Hi"},
    "POST /cohorts/{code}/reminders/{reminder_id}/delete": {},
    "GET /cohorts/{code}/nudge": {},
    "POST /cohorts/{code}/nudge": {},
    "POST /cohorts/{code}/mediators": {"user_id": "{user_id}"},
    "POST /cohorts/{code}/mediators/{user_id}/remove": {},
    "POST /cohorts/{code}/workshops": {
        "workshop_title": "Mine",
        "workshop_date": "2030-01-07",
        "workshop_time": "18:00",
        "workshop_place": "School",
    },
    "GET /cohorts/{code}/workshops/{event_id}": {},
    "GET /cohorts/{code}/workshops/{event_id}/qr.png": {},
    "POST /cohorts/{code}/workshops/{event_id}/attendance": {"user_id": "{user_id}"},
    "POST /cohorts/{code}/participants": {"first_name": "Zlatka", "role": "parent", "locale": ""},
    "GET /cohorts/{code}/paper-quiz": {"lesson": "middle", "user_id": "{user_id}"},
    "POST /cohorts/{code}/paper-quiz": {"lesson": "middle", "user_id": "{user_id}", "q1": "0"},
    "GET /cohorts/{code}/quiz-sheet.pdf": {"lesson": "middle"},
    "GET /broadcasts/{broadcast_id}": {},
    "POST /broadcasts/new": {"cohorts": ["SLV1"], "text_en": "Hi", "action": "send"},
    "POST /broadcasts/{broadcast_id}/cancel": {},
    "GET /learners/{user_id}": {},
    "GET /learners/reflections/{reflection_id}/audio": {},
    "GET /learners/places": {},
    "POST /learners/places/merge": {"source": "Sliven", "target": "Yambol", "confirm": "yes"},
    "GET /curriculum/lessons/{slug}/edit": {},
    "POST /curriculum/lessons/{slug}/edit": {"document": "slug: middle\n"},
    "POST /curriculum/lessons/{slug}/publish": {},
    "POST /curriculum/lessons/{slug}/archive": {},
    "GET /curriculum/recordings": {},
    "GET /curriculum/recordings/{recording_id}/audio": {},
    "POST /curriculum/recordings/{recording_id}/review": {"decision": "approve"},
}
# Only admins may open these at all: a mediator is refused for the role too.
ADMINS_ONLY = {key for key in REFUSED if key.split(" ")[1].startswith(("/access", "/curriculum"))}
ADMINS_ONLY |= {
    "GET /cohorts/new",
    "POST /cohorts",
    "POST /cohorts/{code}/mediators",
    "POST /cohorts/{code}/mediators/{user_id}/remove",
    "GET /learners/places",
    "POST /learners/places/merge",
}

CHANGES = (
    Activity,
    Answer,
    ApiToken,
    Attendance,
    AuditLog,
    Broadcast,
    Delivery,
    Event,
    Membership,
    Reminder,
    User,
)


def console_routes(routes: Sequence[BaseRoute]) -> set[str]:
    """Each console route as "METHOD /path", through the routers the app included (their own
    prefixes are in their routes' paths; the console includes them without another)."""
    found: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found |= console_routes(included.routes)
        elif isinstance(route, ConsoleRoute):
            found |= {f"{method} {route.path}" for method in route.methods or ()}
    return found


async def slivens_things(
    session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> dict[str, str]:
    """A workshop, a reminder, a broadcast and a voice reflection of SLV1's, and an API token:
    the path parameters of the routes."""
    system = Actor.system("test")
    await reflect(session_maker, programme.sliven_learner, said(ogg_opus(2.0), 2))
    async with session_maker() as session:
        workshop = await events.create_event(
            session,
            cohort_code="SLV1",
            data=EventInput(title="Sliven workshop", starts_at=utcnow() + timedelta(days=2)),
            actor=system,
        )
        reminder = await reminders.create_reminder(
            session,
            cohort_code="SLV1",
            data=ReminderInput(cron="0 18 * * 1", text="Sliven reminder"),
            actor=system,
            default_locale="en",
        )
        broadcast = await broadcasts.create_broadcast(
            session,
            actor=system,
            text="Sliven news",
            cohort="SLV1",
            send_at=utcnow() + timedelta(days=1),
        )
        token = await tokens.create_token(
            session, name="sliven-script", role=TokenRole.ADMIN, actor=system
        )
        voice = await session.scalar(select(Answer.id).where(Answer.audio_sha256.is_not(None)))
        await session.commit()
    assert voice is not None
    return {
        "code": "SLV1",
        "event_id": str(workshop.id),
        "reminder_id": str(reminder.id),
        "broadcast_id": str(broadcast.id),
        "token_id": str(token.info.id),
        "reflection_id": str(voice),
        "user_id": str(programme.sliven_learner),
        "slug": "middle",
        "recording_id": "1",
    }


async def counts(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with session_maker() as session:
        found = {
            model.__name__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in CHANGES
        }
        found["ended sessions"] = (
            await session.scalar(
                select(func.count())
                .select_from(ConsoleSession)
                .where(ConsoleSession.ended_at.is_not(None))
            )
            or 0
        )
    return found


def test_every_console_route_says_who_may_open_it(console_app: FastAPI) -> None:
    assert not set(READS) & set(REFUSED)
    assert console_routes(console_app.routes) - PUBLIC == set(READS) | set(REFUSED)


def _fill(template: str, things: dict[str, str]) -> str:
    return template.format(**things)


async def _open(
    client: AsyncClient, key: str, things: dict[str, str], csrf: str, query: str = ""
) -> Response:
    method, path = key.split(" ", 1)
    url = _fill(path, things) + (f"?{query}" if query else "")
    fields = {
        name: [_fill(item, things) for item in value]
        if isinstance(value, list)
        else _fill(value, things)
        for name, value in REFUSED.get(key, {}).items()
    }
    if method == "GET":
        # /reports sends the reader on to the participation report.
        return await client.get(url, params=fields, follow_redirects=key in READS)
    return await client.post(url, data={"csrf": csrf, **fields} if csrf else fields)


@pytest.mark.parametrize("role", [TokenRole.VIEWER, TokenRole.MEDIATOR])
async def test_each_page_refuses_or_keeps_to_the_readers_reach(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    programme: Programme,
    role: TokenRole,
) -> None:
    things = await slivens_things(session_maker, programme)
    # The admin's own session, which others may not end.
    await sign_in(client, session_maker, name="Ana")
    async with session_maker() as session:
        admin_session = await session.scalar(select(ConsoleSession.id))
    things["session_id"] = str(admin_session)
    mediator = role is TokenRole.MEDIATOR
    csrf = await sign_in(
        client, session_maker, role, name="Marta", cohorts=["MAD1"] if mediator else None
    )
    # Forms are refused for their reach, not for a wrong form token.
    assert csrf == console_sessions.csrf_token(client.cookies["lt_console"])
    before = await counts(session_maker)
    wrong: list[str] = []
    for key, (readers, query) in READS.items():
        answer = await _open(client, key, things, csrf, query)
        if role.value not in readers:
            if answer.status_code != 403:
                wrong.append(f"{key}: {answer.status_code}, not 403")
            continue
        shown = [word for word in (SLIVEN if mediator else SLIVEN[:1]) if word in answer.text]
        if answer.status_code != 200 or shown:
            wrong.append(f"{key}: {answer.status_code}, shows {shown}")
    for key in REFUSED:
        answer = await _open(client, key, things, csrf)
        expected = {403} if key in ADMINS_ONLY or not mediator else {403, 404}
        if answer.status_code not in expected:
            wrong.append(f"{key}: {answer.status_code}, not {sorted(expected)}")
    assert wrong == []
    assert await counts(session_maker) == before


async def test_every_form_needs_its_sessions_token(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], programme: Programme
) -> None:
    """An admin, who may post every form, is refused each one without the form's token (as a
    page of another site would send it) or with another session's."""
    things = await slivens_things(session_maker, programme)
    things["session_id"] = "1"
    other = await sign_in(client, session_maker, name="Eva")
    await sign_in(client, session_maker, name="Ana")
    before = await counts(session_maker)
    forms = [key for key in REFUSED if key.startswith("POST ")]
    wrong: list[str] = []
    for key in forms:
        for token in ("", other):
            answer = await _open(client, key, things, token)
            if answer.status_code != 403:
                wrong.append(
                    f"{key} with {'no' if not token else 'another'} token: {answer.status_code}"
                )
    assert wrong == []
    assert await counts(session_maker) == before
