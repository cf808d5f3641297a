"""Broadcasts: compose with a preview per language, the list, a broadcast's recipients, cancel.

A broadcast is made by ``broadcasts.create_broadcast`` exactly as ``POST /api/v1/broadcasts``
makes it: the same checks of the audience and the text, the same audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from learntogether.console.preview import telegram_bubble
from learntogether.console.web import (
    ConsoleDep,
    ConsoleRoute,
    DbDep,
    FormStaffDep,
    StaffDep,
    redirect,
    render,
    translator,
)
from learntogether.db.models import BroadcastStatus, TokenRole
from learntogether.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES
from learntogether.services import broadcasts, cohorts
from learntogether.services.actors import Actor
from learntogether.services.broadcasts import OtherLanguage
from learntogether.services.errors import Conflict, InvalidInput
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.learners import COUNTRY_TIMEZONES

router = APIRouter(prefix="/broadcasts", route_class=ConsoleRoute)
PAGE = 50
BroadcastId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Offset = Annotated[int, Query(ge=0, le=2**31)]
ZONES = ("UTC", *sorted(set(COUNTRY_TIMEZONES.values())))
COHORT_CHOICES = 500
# Pages of a broadcast still going out reload themselves this often (no script needed).
REFRESH_SECONDS = 5


@router.get("")
async def broadcast_list(
    request: Request, staff: StaffDep, session: DbDep, offset: Offset = 0
) -> HTMLResponse:
    # A viewer's Actor reaches every cohort: the role is checked first, as the API does.
    staff.actor.check_role(TokenRole.MEDIATOR)
    found, total = await broadcasts.list_broadcasts(
        session, actor=staff.actor, limit=PAGE, offset=offset
    )
    return render(
        request,
        "broadcasts/list.html",
        {"broadcasts": found, "total": total, "offset": offset, "limit": PAGE},
    )


async def _compose_page(
    request: Request,
    session: DbDep,
    actor: Actor,
    form: dict[str, Any],
    *,
    errors: dict[str, list[str]] | None = None,
    previews: list[tuple[str, Any]] | None = None,
    other_languages: list[OtherLanguage] | None = None,
) -> HTMLResponse:
    choices, _total = await cohorts.list_cohorts(
        session, actor=actor, limit=COHORT_CHOICES, offset=0
    )
    return render(
        request,
        "broadcasts/compose.html",
        {
            "cohorts": choices,
            "form": form,
            "errors": errors or {},
            "previews": previews or [],
            "other_languages": other_languages or [],
            "text_languages": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
            "zones": ZONES,
            "may_send_to_all": actor.cohort_ids is None,
        },
        status=422 if errors else 200,
    )


def _empty_form() -> dict[str, Any]:
    return {"cohorts": [], "all": False, "texts": {}, "when": "now", "send_at": "", "zone": "UTC"}


@router.get("/new")
async def compose(request: Request, staff: StaffDep, session: DbDep) -> HTMLResponse:
    staff.actor.check_role(TokenRole.MEDIATOR)
    return await _compose_page(request, session, staff.actor, _empty_form())


def _problems(error: InvalidInput, gettext: Callable[[str], str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in error.problems:
        found.setdefault(_field(problem.path), []).append(problem.said(gettext))
    return found or {"": [error.said(gettext)]}


def _field(path: str) -> str:
    """A service problem's path as the compose form's field (``$.text.bg`` → ``text_bg``)."""
    parts = path.removeprefix("$.").split(".")
    head = parts[0].split("[", 1)[0]
    if head == "text" and len(parts) > 1:
        return f"text_{parts[1]}"
    return {"text": "texts", "cohort": "cohorts", "all": "cohorts", "send_at": "send_at"}.get(
        head, ""
    )


@router.post("/new")
async def send_or_preview(
    request: Request,
    staff: FormStaffDep,
    session: DbDep,
    console: ConsoleDep,
    action: Annotated[str, Form(max_length=16)] = "preview",
    chosen: Annotated[list[str], Form(alias="cohorts", max_length=COHORT_CHOICES)] = [],  # noqa: B006
    everyone: Annotated[bool, Form(alias="all")] = False,
    when: Annotated[str, Form(max_length=8)] = "now",
    send_at: Annotated[str, Form(max_length=32)] = "",
    zone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    staff.actor.check_role(TokenRole.MEDIATOR)
    _ = translator(request)
    fields = await request.form()
    texts = {
        code: str(fields.get(f"text_{code}", "")).strip()
        for code in SUPPORTED_LOCALES
        if str(fields.get(f"text_{code}", "")).strip()
    }
    form = {
        "cohorts": chosen,
        "all": everyone,
        "texts": texts,
        "when": when,
        "send_at": send_at,
        "zone": zone,
    }
    errors: dict[str, list[str]] = {}
    if not texts:
        errors["texts"] = [_("Write the message in at least one language.")]
    if not chosen and not everyone:
        errors["cohorts"] = [_("Choose the cohorts, or everyone.")]
    moment: datetime | None = None
    if when == "later":
        try:
            moment = datetime.fromisoformat(send_at).replace(
                tzinfo=ZoneInfo(zone if zone in ZONES else "UTC")
            )
        except ValueError:
            errors["send_at"] = [_("Give the day and time to send it.")]
    other_languages: list[OtherLanguage] = []
    if texts:
        try:
            if chosen or everyone:
                preview = await broadcasts.preview_broadcast(
                    session,
                    actor=staff.actor,
                    text=texts,
                    cohorts=None if everyone else chosen,
                    all_learners=everyone,
                    default_locale=console.settings.default_locale,
                    programme_locale=console.settings.default_locale,
                )
                other_languages = preview.other_languages
            else:
                broadcasts.clean_text(texts, default_locale=console.settings.default_locale)
        except InvalidInput as error:
            for field, messages in _problems(error, _).items():
                errors.setdefault(field, []).extend(messages)
    if errors or action != "send":
        previews = [(code, telegram_bubble(text)) for code, text in texts.items()]
        return await _compose_page(
            request,
            session,
            staff.actor,
            form,
            errors=errors,
            previews=previews,
            other_languages=other_languages,
        )
    try:
        created = await broadcasts.create_broadcast(
            session,
            actor=staff.actor,
            text=texts,
            cohorts=None if everyone else chosen,
            all_learners=everyone,
            send_at=moment,
            default_locale=console.settings.default_locale,
        )
    except InvalidInput as error:
        await session.rollback()
        return await _compose_page(request, session, staff.actor, form, errors=_problems(error, _))
    return redirect(f"/broadcasts/{created.id}")


@router.get("/{broadcast_id}")
async def broadcast_page(
    request: Request,
    broadcast_id: BroadcastId,
    staff: StaffDep,
    session: DbDep,
    offset: Offset = 0,
) -> HTMLResponse:
    staff.actor.check_role(TokenRole.MEDIATOR)
    info = await broadcasts.get_broadcast(session, broadcast_id=broadcast_id, actor=staff.actor)
    found, total = await broadcasts.recipient_statuses(
        session, broadcast_id=broadcast_id, actor=staff.actor, limit=PAGE, offset=offset
    )
    going = info.status in (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)
    return render(
        request,
        "broadcasts/page.html",
        {
            "broadcast": info,
            "recipients": found,
            "total": total,
            "offset": offset,
            "limit": PAGE,
            "refresh": REFRESH_SECONDS if going else None,
            "done": request.query_params.get("done", ""),
        },
    )


@router.post("/{broadcast_id}/cancel")
async def cancel(broadcast_id: BroadcastId, staff: FormStaffDep, session: DbDep) -> Response:
    staff.actor.check_role(TokenRole.MEDIATOR)
    try:
        await broadcasts.cancel_broadcast(session, broadcast_id=broadcast_id, actor=staff.actor)
    except Conflict:
        return redirect(f"/broadcasts/{broadcast_id}?done=all-sent")
    return redirect(f"/broadcasts/{broadcast_id}?done=cancelled")
