"""Learners: search, one learner's page (profile, activity, lessons, quizzes), and
reflections (admins everyone, mediators their cohorts' members).

The same services as ``GET /api/v1/users``, ``GET /api/v1/users/{id}``,
``GET /api/v1/users/{id}/activity`` and ``GET /api/v1/reflections``: what a role may not see (a
Telegram id, to a mediator) is not in the record the page gets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from learntogether.console.reports import ZONES
from learntogether.console.web import ConsoleRoute, DbDep, LocaleDep, StaffDep, render, translator
from learntogether.services import cohorts, learner_activity, reflections, users
from learntogether.services.errors import InvalidInput
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.reports.titles import curriculum_titles

router = APIRouter(prefix="/learners", route_class=ConsoleRoute)
PAGE = 50
REFLECTIONS_PAGE = 20
ACTIVITY_PAGE = 20
COHORT_CHOICES = 500
UserId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
ReflectionId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Offset = Annotated[int, Query(ge=0, le=2**31)]


@router.get("")
async def learner_search(
    request: Request,
    staff: StaffDep,
    session: DbDep,
    q: Annotated[str, Query(max_length=200)] = "",
    cohort: Annotated[str, Query(max_length=32)] = "",
    offset: Offset = 0,
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
        errors = {"cohort": error.problems_said(translator(request))}
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


@router.get("/reflections")
async def reflection_list(
    request: Request,
    staff: StaffDep,
    session: DbDep,
    locale: LocaleDep,
    cohort: Annotated[str, Query(max_length=32)] = "",
    lesson: Annotated[str, Query(max_length=64)] = "",
    offset: Offset = 0,
) -> HTMLResponse:
    """What learners wrote to open questions, newest first, by cohort and lesson."""
    errors: dict[str, list[str]] = {}
    found: list[reflections.Reflection] = []
    total = 0
    try:
        found, total = await reflections.list_reflections(
            session,
            actor=staff.actor,
            cohort=cohort or None,
            lesson=lesson or None,
            locale=locale,
            limit=REFLECTIONS_PAGE,
            offset=offset,
        )
    except InvalidInput as error:
        for problem in error.problems:
            errors.setdefault(problem.path.removeprefix("query."), []).append(
                problem.said(translator(request))
            )
    choices, _count = await cohorts.list_cohorts(
        session, actor=staff.actor, limit=COHORT_CHOICES, offset=0
    )
    titles = await curriculum_titles(session, locale=locale)
    return render(
        request,
        "learners/reflections.html",
        {
            "reflections": found,
            "total": total,
            "offset": offset,
            "limit": REFLECTIONS_PAGE,
            "cohort": cohort,
            "lesson": lesson,
            "cohorts": choices,
            "lessons": titles.lessons,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@router.get("/reflections/{reflection_id}/audio")
async def reflection_audio(
    reflection_id: ReflectionId, staff: StaffDep, session: DbDep
) -> Response:
    """The voice note an open question was answered with, for the page's <audio> element."""
    audio = await reflections.reflection_audio(
        session, actor=staff.actor, reflection_id=reflection_id
    )
    return Response(audio, media_type="audio/ogg", headers={"Cache-Control": "private, no-store"})


@router.get("/{user_id}")
async def learner_page(
    request: Request,
    user_id: UserId,
    staff: StaffDep,
    session: DbDep,
    locale: LocaleDep,
    offset: Offset = 0,
    activity: Offset = 0,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> HTMLResponse:
    """The learner's profile, their activity a page at a time (``activity`` skips that many)
    with times on the viewer's clock (``tz``), their lessons, quizzes and reflections."""
    learner = await users.get_learner(session, actor=staff.actor, user_id=user_id)
    # An unknown zone: the page on UTC's clock, and the problem beside the zone's field.
    errors = {} if tz in ZONES else {"tz": [translator(request)("Choose one of the list.")]}
    done = await learner_activity.learner_activity(
        session,
        actor=staff.actor,
        user_id=user_id,
        locale=locale,
        limit=ACTIVITY_PAGE,
        offset=activity,
    )
    found, total = await reflections.list_reflections(
        session,
        actor=staff.actor,
        user_id=user_id,
        locale=locale,
        limit=REFLECTIONS_PAGE,
        offset=offset,
    )
    return render(
        request,
        "learners/page.html",
        {
            "learner": learner,
            "done": done,
            "activity_offset": activity,
            "activity_limit": ACTIVITY_PAGE,
            "zone": tz if tz in ZONES else "UTC",
            "zones": ZONES,
            "errors": errors,
            "reflections": found,
            "total": total,
            "offset": offset,
            "limit": REFLECTIONS_PAGE,
        },
        status=422 if errors else 200,
    )
