"""Workshops: create one for a cohort, its check-in link and QR code, who came."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from pydantic import BaseModel

from learntogether.api.deps import BotUsernameDep, MediatorDep, PageDep, SessionDep
from learntogether.api.schemas import Page, StrictBody
from learntogether.deeplinks import deep_link, qr_png
from learntogether.services import events
from learntogether.services.errors import Conflict
from learntogether.services.events import Attendee, EventInfo, EventInput
from learntogether.services.inputs import MAX_ROW_ID, RowId

router = APIRouter(tags=["events"])

EventId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The workshop's id")]


class EventOut(BaseModel):
    id: int
    cohort: str
    code: str
    title: str
    starts_at: datetime
    location: str | None
    attended: int
    assisted: int
    members: int
    check_in_payload: str
    check_in_link: str | None

    @classmethod
    def of(cls, info: EventInfo, username: str | None) -> EventOut:
        link = deep_link(username, info.check_in_payload) if username else None
        fields = {name: getattr(info, name) for name in EventInfo.__dataclass_fields__}
        return cls(**fields, check_in_payload=info.check_in_payload, check_in_link=link)


class EventWithAttendance(EventOut):
    attendance: list[Attendee]


class CheckInIn(StrictBody):
    user_id: RowId


class CheckInOut(BaseModel):
    checked_in: bool
    """False when the learner was already checked in."""


@router.post("/cohorts/{code}/events", status_code=201, summary="Create a workshop")
async def create_event(
    code: Annotated[str, Path()],
    data: Annotated[EventInput, Body()],
    session: SessionDep,
    actor: MediatorDep,
    username: BotUsernameDep,
) -> EventOut:
    info = await events.create_event(
        session,
        cohort_code=code,
        data=data,
        actor=actor,
    )
    return EventOut.of(info, username)


@router.get("/cohorts/{code}/events", summary="A cohort's workshops, newest first")
async def list_events(
    code: Annotated[str, Path()],
    session: SessionDep,
    actor: MediatorDep,
    username: BotUsernameDep,
    page: PageDep,
) -> Page[EventOut]:
    found, total = await events.list_events(
        session, cohort_code=code, actor=actor, limit=page.limit, offset=page.offset
    )
    out = [EventOut.of(info, username) for info in found]
    return Page.of(out, total=total, limit=page.limit, offset=page.offset)


@router.get("/events/{event_id}", summary="A workshop with its attendance list")
async def get_event(
    event_id: EventId, session: SessionDep, actor: MediatorDep, username: BotUsernameDep
) -> EventWithAttendance:
    info = await events.get_event(session, event_id=event_id, actor=actor)
    came = await events.attendance(session, event_id=event_id, actor=actor)
    return EventWithAttendance(**EventOut.of(info, username).model_dump(), attendance=came)


@router.get(
    "/events/{event_id}/qr.png",
    summary="The check-in QR code to print or show",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def event_qr(
    event_id: EventId, session: SessionDep, actor: MediatorDep, username: BotUsernameDep
) -> Response:
    info = await events.get_event(session, event_id=event_id, actor=actor)
    if username is None:
        raise Conflict("The bot's username is unknown: set LT_BOT_USERNAME.")
    return Response(qr_png(deep_link(username, info.check_in_payload)), media_type="image/png")


@router.post(
    "/events/{event_id}/attendance",
    summary="Check a member in on their behalf",
    status_code=201,
    responses={200: {"model": CheckInOut, "description": "The member was already checked in"}},
)
async def check_in(
    event_id: EventId,
    data: Annotated[CheckInIn, Body()],
    session: SessionDep,
    actor: MediatorDep,
    response: Response,
) -> CheckInOut:
    added = await events.record_attendance(
        session,
        event_id=event_id,
        user_id=data.user_id,
        actor=actor,
    )
    response.status_code = 201 if added else 200
    return CheckInOut(checked_in=added)
