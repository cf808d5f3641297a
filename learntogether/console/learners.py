"""Learners: search, and one learner's page (admins everyone, mediators their cohorts' members).

The same services as ``GET /api/v1/users`` and ``GET /api/v1/users/{id}``: what a role may not
see (a Telegram id, to a mediator) is not in the record the page gets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from learntogether.console.web import ConsoleRoute, DbDep, StaffDep, render
from learntogether.services import users
from learntogether.services.errors import InvalidInput
from learntogether.services.inputs import MAX_ROW_ID

router = APIRouter(prefix="/learners", route_class=ConsoleRoute)
PAGE = 50
UserId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.get("")
async def learner_search(
    request: Request,
    staff: StaffDep,
    session: DbDep,
    q: Annotated[str, Query(max_length=200)] = "",
    cohort: Annotated[str, Query(max_length=32)] = "",
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> HTMLResponse:
    errors: dict[str, list[str]] = {}
    found: list[users.LearnerRecord] = []
    total = 0
    try:
        search = await users.learner_filter(
            session, actor=staff.actor, q=q.strip() or None, cohort=cohort.strip() or None
        )
        found, total = await users.search_learners(session, search, limit=PAGE, offset=offset)
    except InvalidInput as error:
        errors = {"cohort": [problem.message for problem in error.problems] or [error.detail]}
    return render(
        request,
        "learners/search.html",
        {
            "learners": found,
            "total": total,
            "offset": offset,
            "limit": PAGE,
            "q": q,
            "cohort": cohort,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@router.get("/{user_id}")
async def learner_page(
    request: Request, user_id: UserId, staff: StaffDep, session: DbDep
) -> HTMLResponse:
    learner = await users.get_learner(session, actor=staff.actor, user_id=user_id)
    return render(request, "learners/page.html", {"learner": learner})
