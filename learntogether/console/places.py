"""Places (admins): the municipality spellings in use, and merging two spellings of one place.

The same services as ``GET /api/v1/places`` and ``POST /api/v1/places/merge``; a merge is
asked, shown with what it rewrites, and done only when confirmed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from learntogether.console.cohorts import validation_errors
from learntogether.console.web import (
    ConsoleRoute,
    DbDep,
    FormStaffDep,
    StaffDep,
    redirect,
    render,
    translator,
)
from learntogether.services import places
from learntogether.services.actors import Actor
from learntogether.services.errors import InvalidInput
from learntogether.services.places import MergePlan, PlaceMerge

router = APIRouter(prefix="/learners/places", route_class=ConsoleRoute)
PAGE = 200
Offset = Annotated[int, Query(ge=0, le=2**31)]
Spelling = Annotated[str, Form(max_length=300)]


async def _places_page(
    request: Request,
    session: DbDep,
    actor: Actor,
    *,
    offset: int = 0,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    plan: MergePlan | None = None,
) -> HTMLResponse:
    actor.check_role()
    found, total = await places.list_places(session, actor=actor, limit=PAGE, offset=offset)
    return render(
        request,
        "learners/places.html",
        {
            "places": found,
            "total": total,
            "offset": offset,
            "limit": PAGE,
            "form": form or {"from": "", "into": ""},
            "errors": errors or {},
            "plan": plan,
            "merged": request.query_params.get("merged", ""),
        },
        status=422 if errors else 200,
    )


@router.get("")
async def place_list(
    request: Request, staff: StaffDep, session: DbDep, offset: Offset = 0
) -> HTMLResponse:
    return await _places_page(request, session, staff.actor, offset=offset)


@router.post("/merge")
async def merge_places(
    request: Request,
    staff: FormStaffDep,
    session: DbDep,
    source: Annotated[str, Form(alias="from", max_length=300)] = "",
    into: Spelling = "",
    confirmed: Annotated[bool, Form()] = False,
) -> Response:
    """First the plan to confirm (what would be rewritten), then, confirmed, the merge."""
    staff.actor.check_role()
    _ = translator(request)
    form = {"from": source, "into": into}
    try:
        merge = PlaceMerge.model_validate(form)
        if not confirmed:
            plan = await places.plan_merge(session, merge=merge, actor=staff.actor)
            return await _places_page(request, session, staff.actor, form=form, plan=plan)
        merged = await places.merge_places(session, merge=merge, actor=staff.actor)
    except ValidationError as error:
        messages = {
            "from": _("Choose the spelling to replace."),
            "into": _("Give the spelling to keep (at most 128 characters)."),
        }
        errors = validation_errors(error, messages)
        return await _places_page(request, session, staff.actor, form=form, errors=errors)
    except InvalidInput as error:
        await session.rollback()
        fields = {problem.path.removeprefix("$.") for problem in error.problems}
        errors = {
            field: [
                _("No learner, cohort or report row uses this spelling.")
                if field == "from"
                else _("Give a spelling other than the one to replace.")
            ]
            for field in fields
        }
        return await _places_page(request, session, staff.actor, form=form, errors=errors)
    return redirect(f"/learners/places?merged={merged.learners}")
