"""Access (admins): API tokens, staff sessions of the console, and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from learntogether.console.reports import ZONES
from learntogether.console.web import (
    ConsoleRoute,
    DbDep,
    FormStaffDep,
    StaffDep,
    form_errors,
    redirect,
    render,
    translator,
)
from learntogether.db.models import TokenRole
from learntogether.services import audit, cohorts, console_sessions, tokens
from learntogether.services.actors import Actor
from learntogether.services.errors import Conflict, InvalidInput
from learntogether.services.inputs import MAX_ROW_ID

router = APIRouter(prefix="/access", route_class=ConsoleRoute)
PAGE = 50
COHORT_CHOICES = 500
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Offset = Annotated[int, Query(ge=0, le=2**31)]
ROLES = [role.value for role in TokenRole]
TOKEN_FIELDS = {"name": "name", "cohorts": "cohorts", "role": "role"}


@router.get("")
async def access(staff: StaffDep) -> Response:
    staff.actor.check_role()
    return redirect("/access/sessions")


@router.get("/sessions")
async def sessions(
    request: Request, staff: StaffDep, session: DbDep, offset: Offset = 0, ended: bool = False
) -> HTMLResponse:
    found, total = await console_sessions.list_sessions(
        session, actor=staff.actor, limit=PAGE, offset=offset
    )
    return render(
        request,
        "access/sessions.html",
        {"sessions": found, "total": total, "offset": offset, "limit": PAGE, "ended": ended},
    )


@router.post("/sessions/{session_id}/end")
async def end_session(session_id: RowId, staff: FormStaffDep, session: DbDep) -> Response:
    await console_sessions.end_session(session, session_id=session_id, actor=staff.actor)
    return redirect("/access/sessions?ended=1")


async def _tokens_page(
    request: Request,
    session: DbDep,
    actor: Actor,
    *,
    offset: int = 0,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    created: tokens.CreatedToken | None = None,
) -> HTMLResponse:
    actor.check_role()
    found, total = await tokens.list_tokens(session, limit=PAGE, offset=offset)
    choices, _count = await cohorts.list_cohorts(
        session, actor=actor, limit=COHORT_CHOICES, offset=0
    )
    return render(
        request,
        "access/tokens.html",
        {
            "tokens": found,
            "total": total,
            "offset": offset,
            "limit": PAGE,
            "cohorts": choices,
            "roles": ROLES,
            "form": form or {"name": "", "role": "viewer", "cohorts": []},
            "errors": errors or {},
            "created": created,
            "done": request.query_params.get("done", ""),
        },
        status=422 if errors else 200,
    )


@router.get("/tokens")
async def token_list(
    request: Request, staff: StaffDep, session: DbDep, offset: Offset = 0
) -> HTMLResponse:
    return await _tokens_page(request, session, staff.actor, offset=offset)


@router.post("/tokens")
async def create_token(
    request: Request,
    staff: FormStaffDep,
    session: DbDep,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "viewer",
    chosen: Annotated[list[str], Form(alias="cohorts", max_length=COHORT_CHOICES)] = [],  # noqa: B006
) -> HTMLResponse:
    staff.actor.check_role()
    form = {"name": name, "role": role, "cohorts": chosen}
    try:
        created = await tokens.create_token(
            session,
            name=name,
            role=TokenRole(role) if role in ROLES else TokenRole.VIEWER,
            cohort_codes=chosen,
            actor=staff.actor,
        )
    except InvalidInput as error:
        await session.rollback()
        errors = form_errors(error, TOKEN_FIELDS, translator(request))
        return await _tokens_page(request, session, staff.actor, form=form, errors=errors)
    except Conflict as error:
        await session.rollback()
        errors = {"name": [error.said(translator(request))]}
        return await _tokens_page(request, session, staff.actor, form=form, errors=errors)
    # Shown once, on this answer only (pages are never stored: Cache-Control no-store).
    return await _tokens_page(request, session, staff.actor, created=created)


@router.get("/tokens/{token_id}/revoke")
async def confirm_revoke(
    request: Request, token_id: RowId, staff: StaffDep, session: DbDep
) -> HTMLResponse:
    preview = await tokens.revoke_preview(session, token_id=token_id, actor=staff.actor)
    return render(request, "access/revoke.html", {"preview": preview})


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(token_id: RowId, staff: FormStaffDep, session: DbDep) -> Response:
    staff.actor.check_role()
    await tokens.revoke_token(session, reference=str(token_id), actor=staff.actor)
    return redirect("/access/tokens?done=revoked")


@dataclass(frozen=True)
class AuditDays:
    """The audit log's days as the form sent them, kept as typed to show them back."""

    start: str = ""
    end: str = ""
    tz: str = "UTC"


@router.get("/audit")
async def audit_log(
    request: Request,
    staff: StaffDep,
    session: DbDep,
    offset: Offset = 0,
    entity: Annotated[str, Query(max_length=64)] = "",
    who: Annotated[str, Query(max_length=100)] = "",
    start: Annotated[str, Query(alias="from", max_length=32)] = "",
    end: Annotated[str, Query(alias="to", max_length=32)] = "",
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> HTMLResponse:
    staff.actor.check_role()
    _ = translator(request)
    choice = AuditDays(start=start.strip(), end=end.strip(), tz=tz or "UTC")
    errors: dict[str, list[str]] = {}
    days: dict[str, date | None] = {}
    for name in ("start", "end"):
        try:
            text = getattr(choice, name)
            days[name] = date.fromisoformat(text) if text else None
        except ValueError:
            errors[name] = [_("Give a day such as 2026-09-01.")]
    if choice.tz not in ZONES:
        errors["tz"] = [_("Choose one of the list.")]
    found: list[audit.AuditEntry] = []
    total = 0
    if not errors:
        try:
            found, total = await audit.list_entries(
                session,
                actor=staff.actor,
                limit=PAGE,
                offset=offset,
                entity=entity,
                who=who,
                start=days["start"],
                end=days["end"],
                zone=ZoneInfo(choice.tz),
            )
        except InvalidInput:
            errors["end"] = [_("The last day cannot be before the first.")]
    kinds = await audit.entity_kinds(session, actor=staff.actor)
    # UTC is the default: links without it stay as they were.
    zone = "" if choice.tz == "UTC" else choice.tz
    query = {"entity": entity, "who": who, "from": choice.start, "to": choice.end, "tz": zone}
    return render(
        request,
        "access/audit.html",
        {
            "entries": found,
            "total": total,
            "offset": offset,
            "limit": PAGE,
            "kinds": kinds,
            "entity": entity,
            "who": who,
            "choice": choice,
            "zones": ZONES,
            "errors": errors,
            "query": {name: value for name, value in query.items() if value},
        },
        status=422 if errors else 200,
    )
