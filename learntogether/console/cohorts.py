"""Cohorts: the list, a new cohort, a cohort's page (members, mediators, invite link and QR code,
reminders), the nudge.

The reminder builder takes days of the week and a time on the cohort's clock, and writes the
cron expression the reminder service validates, as ``POST /api/v1/cohorts/{code}/reminders``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from learntogether.console.web import (
    BotUsernameDep,
    ConsoleDep,
    ConsoleRoute,
    DbDep,
    FormStaffDep,
    StaffDep,
    form_errors,
    reader_locale,
    redirect,
    render,
    translator,
)
from learntogether.content.render import pick_text
from learntogether.deeplinks import deep_link, qr_png
from learntogether.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES
from learntogether.services import cohorts, events, reminders, tracks
from learntogether.services.actors import Actor
from learntogether.services.cohorts import CohortInput
from learntogether.services.cron import WEEKDAYS, weekly_cron, weekly_schedule
from learntogether.services.errors import Conflict, InvalidInput
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.reminders import ReminderInput

router = APIRouter(prefix="/cohorts", route_class=ConsoleRoute)
PAGE = 50
Code = Annotated[str, Path(max_length=64)]
ReminderId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Offset = Annotated[int, Query(ge=0, le=2**31)]
# Form fields named after the service's JSON paths ($.cron is what the day and time make).
REMINDER_FIELDS = {"cron": "days", "text": "text", "timezone": "days"}
COHORT_FIELDS = ("name", "code", "country", "region", "municipality", "school", "locale")
TRACKS_OFFERED = 100
MEDIATOR_FIELDS = {"user_id": "user_id"}
UserId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# What the cohort page's forms show before anything is typed (each form's fields are its own).
FORM_DEFAULTS: dict[str, Any] = {
    "days": [],
    "time": "18:00",
    "text": "",
    "user_id": "",
    "workshop_title": "",
    "workshop_date": "",
    "workshop_time": "17:00",
    "workshop_place": "",
    "first_name": "",
    "role": "parent",
    "locale": "",
}


def validation_errors(error: ValidationError, messages: Mapping[str, str]) -> dict[str, list[str]]:
    """pydantic's problems by form field, each said once in the reader's words (``messages``
    by field); a problem of any other field is the form's own (``""``), in pydantic's words."""
    found: dict[str, list[str]] = {}
    for problem in error.errors():
        head = str(problem["loc"][0]) if problem["loc"] else ""
        field = head if head in messages else ""
        message = messages.get(field, problem["msg"])
        if message not in found.get(field, []):
            found.setdefault(field, []).append(message)
    return found


@router.get("")
async def cohort_list(
    request: Request, staff: StaffDep, session: DbDep, offset: Offset = 0
) -> HTMLResponse:
    found, total = await cohorts.list_cohorts(session, actor=staff.actor, limit=PAGE, offset=offset)
    quiet = await cohorts.quiet_counts(
        session, actor=staff.actor, codes=[cohort.code for cohort in found]
    )
    return render(
        request,
        "cohorts/list.html",
        {"cohorts": found, "quiet": quiet, "total": total, "offset": offset, "limit": PAGE},
    )


async def _new_cohort_page(
    request: Request,
    session: DbDep,
    form: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
) -> HTMLResponse:
    found, _total = await tracks.list_tracks(session, limit=TRACKS_OFFERED, offset=0)
    reader = reader_locale(request)
    return render(
        request,
        "cohorts/new.html",
        {
            "form": form,
            "errors": errors or {},
            "locales": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
            "tracks": [(track.slug, pick_text(track.title, [reader, "en"])) for track in found],
        },
        status=422 if errors else 200,
    )


@router.get("/new")
async def new_cohort(request: Request, staff: StaffDep, session: DbDep) -> HTMLResponse:
    staff.actor.check_role()
    form: dict[str, Any] = dict.fromkeys(COHORT_FIELDS, "")
    return await _new_cohort_page(request, session, form | {"tracks": [], "nudge_after_days": "7"})


@router.post("")
async def create_cohort(request: Request, staff: FormStaffDep, session: DbDep) -> Response:
    """As ``POST /api/v1/cohorts``: a blank field is a field not given."""
    staff.actor.check_role()
    _ = translator(request)
    fields = await request.form()
    form: dict[str, Any] = {name: str(fields.get(name, ""))[:300].strip() for name in COHORT_FIELDS}
    form["country"] = form["country"].upper()
    form["nudge_after_days"] = str(fields.get("nudge_after_days", ""))[:8].strip()
    form["tracks"] = [str(slug)[:64] for slug in fields.getlist("tracks")[:TRACKS_OFFERED]]
    try:
        data = CohortInput(**{name: value for name, value in form.items() if value})
    except ValidationError as error:
        messages = {
            "name": _("Give the cohort a name (at most 200 characters)."),
            "code": _("Use 2 to 32 letters, digits, - or _."),
            "country": _("Give the country as two letters, such as BG."),
            "region": _("At most 128 characters."),
            "municipality": _("At most 128 characters."),
            "school": _("At most 200 characters."),
            "locale": _("Choose a language from the list."),
            "nudge_after_days": _("Give a number of days from 1 to 90."),
        }
        return await _new_cohort_page(request, session, form, validation_errors(error, messages))
    try:
        info = await cohorts.create_cohort(session, data=data, actor=staff.actor)
    except Conflict:
        await session.rollback()
        return await _new_cohort_page(
            request, session, form, {"code": [_("Another cohort has this code already.")]}
        )
    except InvalidInput as error:
        await session.rollback()
        return await _new_cohort_page(request, session, form, {"tracks": error.problems_said(_)})
    return redirect(f"/cohorts/{info.code}?done=created")


async def render_cohort(
    request: Request,
    session: DbDep,
    actor: Actor,
    code: str,
    username: str | None,
    *,
    offset: int = 0,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> HTMLResponse:
    info = await cohorts.get_cohort(session, code=code, actor=actor)
    members, total = await cohorts.members(
        session, code=code, actor=actor, limit=PAGE, offset=offset
    )
    found, _count = await reminders.list_reminders(
        session, cohort_code=code, actor=actor, limit=100
    )
    workshops, workshop_total = await events.list_events(
        session, cohort_code=code, actor=actor, limit=PAGE
    )
    mediators = await cohorts.list_mediators(session, code=code, actor=actor)
    zone = reminders.cohort_timezone(info.country)
    return render(
        request,
        "cohorts/page.html",
        {
            "cohort": info,
            "invite_link": deep_link(username, info.invite_payload) if username else None,
            "members": members,
            "total": total,
            "offset": offset,
            "limit": PAGE,
            "reminders": [(item, weekly_schedule(item.cron)) for item in found],
            "zone": zone,
            "weekdays": WEEKDAYS,
            "workshops": workshops,
            "workshop_total": workshop_total,
            "mediators": mediators,
            "locales": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
            "form": FORM_DEFAULTS | (form or {}),
            "errors": errors or {},
            "done": request.query_params.get("done", ""),
            "nudged": _count_param(request, "nudged"),
            "recent": _count_param(request, "recent"),
        },
        status=422 if errors else 200,
    )


def _count_param(request: Request, name: str) -> int:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else 0


@router.get("/{code}")
async def cohort_page(
    request: Request,
    code: Code,
    staff: StaffDep,
    session: DbDep,
    username: BotUsernameDep,
    offset: Offset = 0,
) -> HTMLResponse:
    return await render_cohort(request, session, staff.actor, code, username, offset=offset)


@router.get("/{code}/invite.png")
async def invite_qr(
    code: Code, staff: StaffDep, session: DbDep, username: BotUsernameDep
) -> Response:
    info = await cohorts.get_cohort(session, code=code, actor=staff.actor)
    if username is None:
        return Response(status_code=404)
    png = qr_png(deep_link(username, info.invite_payload))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


def _time_of(text: str) -> time | None:
    try:
        return time.fromisoformat(text) if len(text) == 5 else None
    except ValueError:
        return None


@router.post("/{code}/reminders")
async def add_reminder(
    request: Request,
    code: Code,
    staff: FormStaffDep,
    session: DbDep,
    username: BotUsernameDep,
    console: ConsoleDep,
    days: Annotated[list[int], Form(max_length=7)] = [],  # noqa: B006 (FastAPI copies it)
    at: Annotated[str, Form(alias="time", max_length=8)] = "",
    text: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    _ = translator(request)
    form = {"days": days, "time": at, "text": text}
    errors: dict[str, list[str]] = {}
    moment = _time_of(at)
    if not days or any(day not in range(8) for day in days):
        errors["days"] = [_("Choose at least one day.")]
    if moment is None:
        errors["time"] = [_("Give a time such as 18:00.")]
    if not text.strip():
        errors["text"] = [_("Write the reminder's text.")]
    if errors or moment is None:
        return await render_cohort(
            request, session, staff.actor, code, username, form=form, errors=errors
        )
    try:
        await reminders.create_reminder(
            session,
            cohort_code=code,
            data=ReminderInput(cron=weekly_cron(days, moment), text=text),
            actor=staff.actor,
            default_locale=console.settings.default_locale,
        )
    except InvalidInput as error:
        await session.rollback()
        return await render_cohort(
            request,
            session,
            staff.actor,
            code,
            username,
            form=form,
            errors=form_errors(error, REMINDER_FIELDS, _),
        )
    return redirect(f"/cohorts/{code}?done=reminder#reminders")


@router.post("/{code}/reminders/{reminder_id}/delete")
async def delete_reminder(
    code: Code, reminder_id: ReminderId, staff: FormStaffDep, session: DbDep
) -> Response:
    await cohorts.get_cohort(session, code=code, actor=staff.actor)
    await reminders.delete_reminder(session, reminder_id=reminder_id, actor=staff.actor)
    return redirect(f"/cohorts/{code}?done=reminder-stopped#reminders")


@router.get("/{code}/nudge")
async def confirm_nudge(
    request: Request, code: Code, staff: StaffDep, session: DbDep
) -> HTMLResponse:
    info = await cohorts.get_cohort(session, code=code, actor=staff.actor)
    preview = await reminders.nudge_preview(session, cohort_code=code, actor=staff.actor)
    return render(request, "cohorts/nudge.html", {"cohort": info, "preview": preview})


@router.post("/{code}/nudge")
async def nudge(code: Code, staff: FormStaffDep, session: DbDep) -> Response:
    result = await reminders.nudge_cohort(session, cohort_code=code, actor=staff.actor)
    return redirect(
        f"/cohorts/{code}?done=nudged&nudged={result.nudged}&recent={result.recently_nudged}"
    )


@router.post("/{code}/mediators")
async def add_mediator(
    request: Request,
    code: Code,
    staff: FormStaffDep,
    session: DbDep,
    username: BotUsernameDep,
    user_id: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """An admin lets a learner (by the id their page shows) mediate the cohort in the bot."""
    staff.actor.check_role()
    _ = translator(request)
    form = {"user_id": user_id}
    if not user_id.strip().isdigit() or not 1 <= int(user_id) <= MAX_ROW_ID:
        errors = {"user_id": [_("Give the learner's number, as their page shows it.")]}
        return await render_cohort(
            request, session, staff.actor, code, username, form=form, errors=errors
        )
    try:
        await cohorts.add_mediator(session, code=code, user_id=int(user_id), actor=staff.actor)
    except InvalidInput as error:
        await session.rollback()
        return await render_cohort(
            request,
            session,
            staff.actor,
            code,
            username,
            form=form,
            errors=form_errors(error, MEDIATOR_FIELDS, _),
        )
    return redirect(f"/cohorts/{code}?done=mediator#mediators")


@router.post("/{code}/mediators/{user_id}/remove")
async def remove_mediator(
    code: Code, user_id: UserId, staff: FormStaffDep, session: DbDep
) -> Response:
    staff.actor.check_role()
    await cohorts.remove_mediator(session, code=code, user_id=user_id, actor=staff.actor)
    return redirect(f"/cohorts/{code}?done=mediator-removed#mediators")
