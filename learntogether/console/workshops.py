"""A cohort's workshops: create one (day, time on the cohort's clock, place), its printable page
with the check-in QR code and who came, and a check-in by the mediator (assisted), as
``/api/v1/cohorts/{code}/events`` and ``/api/v1/events/{id}`` do.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from learntogether.console.cohorts import Code, render_cohort, validation_errors
from learntogether.console.web import (
    BotUsernameDep,
    ConsoleRoute,
    DbDep,
    FormStaffDep,
    StaffDep,
    redirect,
    render,
    translator,
)
from learntogether.deeplinks import deep_link, qr_png
from learntogether.services import cohorts, events, reminders
from learntogether.services.actors import Actor
from learntogether.services.errors import InvalidInput, NotFound
from learntogether.services.events import EventInfo, EventInput
from learntogether.services.inputs import MAX_ROW_ID

router = APIRouter(prefix="/cohorts", route_class=ConsoleRoute)
EventId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# The service's fields by the cohort page's form fields.
EVENT_FIELDS = {
    "title": "workshop_title",
    "starts_at": "workshop_date",
    "location": "workshop_place",
}
# Everyone who could be checked in is listed to choose from; cohorts are classes, not crowds.
MEMBERS_LISTED = 500


async def _event(session: DbDep, actor: Actor, code: str, event_id: int) -> EventInfo:
    """The workshop, which must be one of this cohort's (its URL names both)."""
    info = await events.get_event(session, event_id=event_id, actor=actor)
    if info.cohort != code:
        raise NotFound(f"Cohort {code!r} has no workshop {event_id}.")
    return info


def _moment(day: str, at: str, zone: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(at), ZoneInfo(zone))
    except ValueError:
        return None


@router.post("/{code}/workshops")
async def create_workshop(
    request: Request,
    code: Code,
    staff: FormStaffDep,
    session: DbDep,
    username: BotUsernameDep,
    title: Annotated[str, Form(alias="workshop_title", max_length=1000)] = "",
    day: Annotated[str, Form(alias="workshop_date", max_length=16)] = "",
    at: Annotated[str, Form(alias="workshop_time", max_length=8)] = "",
    place: Annotated[str, Form(alias="workshop_place", max_length=1000)] = "",
) -> Response:
    _ = translator(request)
    info = await cohorts.get_cohort(session, code=code, actor=staff.actor)
    form = {
        "workshop_title": title,
        "workshop_date": day,
        "workshop_time": at,
        "workshop_place": place,
    }
    moment = _moment(day, at, reminders.cohort_timezone(info.country))
    errors: dict[str, list[str]] = {}
    if moment is None:
        errors["workshop_date"] = [_("Give the day and the time it starts.")]
    else:
        try:
            data = EventInput(title=title, starts_at=moment, location=place.strip() or None)
        except ValidationError as error:
            found = validation_errors(
                error,
                {
                    "title": _("Give the workshop a title (at most 200 characters)."),
                    "starts_at": _("Give the day and the time it starts."),
                    "location": _("At most 200 characters."),
                },
            )
            errors = {EVENT_FIELDS.get(name, name): messages for name, messages in found.items()}
    if errors or moment is None:
        return await render_cohort(
            request, session, staff.actor, code, username, form=form, errors=errors
        )
    created = await events.create_event(session, cohort_code=code, data=data, actor=staff.actor)
    return redirect(f"/cohorts/{code}/workshops/{created.id}?done=created")


async def _workshop_page(
    request: Request,
    session: DbDep,
    actor: Actor,
    code: str,
    event_id: int,
    username: str | None,
    errors: dict[str, list[str]] | None = None,
) -> HTMLResponse:
    info = await _event(session, actor, code, event_id)
    cohort = await cohorts.get_cohort(session, code=code, actor=actor)
    came = await events.attendance(session, event_id=event_id, actor=actor)
    members, _total = await cohorts.members(session, code=code, actor=actor, limit=MEMBERS_LISTED)
    present = {attendee.user_id for attendee in came}
    return render(
        request,
        "cohorts/workshop.html",
        {
            "cohort": cohort,
            "event": info,
            "zone": reminders.cohort_timezone(cohort.country),
            "link": deep_link(username, info.check_in_payload) if username else None,
            "attendance": came,
            "absent": [member for member in members if member.user_id not in present],
            "errors": errors or {},
            "done": request.query_params.get("done", ""),
        },
        status=422 if errors else 200,
    )


@router.get("/{code}/workshops/{event_id}")
async def workshop_page(
    request: Request,
    code: Code,
    event_id: EventId,
    staff: StaffDep,
    session: DbDep,
    username: BotUsernameDep,
) -> HTMLResponse:
    return await _workshop_page(request, session, staff.actor, code, event_id, username)


@router.get("/{code}/workshops/{event_id}/qr.png")
async def workshop_qr(
    code: Code, event_id: EventId, staff: StaffDep, session: DbDep, username: BotUsernameDep
) -> Response:
    info = await _event(session, staff.actor, code, event_id)
    if username is None:
        return Response(status_code=404)
    png = qr_png(deep_link(username, info.check_in_payload))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/{code}/workshops/{event_id}/attendance")
async def check_in(
    request: Request,
    code: Code,
    event_id: EventId,
    staff: FormStaffDep,
    session: DbDep,
    username: BotUsernameDep,
    user_id: Annotated[int | None, Form(ge=1, le=MAX_ROW_ID)] = None,
) -> Response:
    """The mediator checks a member in on their behalf (flagged assisted)."""
    _ = translator(request)
    await _event(session, staff.actor, code, event_id)
    if user_id is None:
        errors = {"user_id": [_("Choose who came.")]}
        return await _workshop_page(request, session, staff.actor, code, event_id, username, errors)
    try:
        added = await events.record_attendance(
            session, event_id=event_id, user_id=user_id, actor=staff.actor
        )
    except InvalidInput as error:
        await session.rollback()
        return await _workshop_page(
            request,
            session,
            staff.actor,
            code,
            event_id,
            username,
            {"user_id": error.problems_said(_)},
        )
    done = "checked-in" if added else "already"
    return redirect(f"/cohorts/{code}/workshops/{event_id}?done={done}#attendance")
