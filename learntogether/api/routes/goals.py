"""Training goals and their progress: admins write them, viewers and mediators read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from learntogether.api.deps import AdminDep, PageDep, ReaderDep, SessionDep
from learntogether.api.schemas import Page
from learntogether.services import goals
from learntogether.services.goals import GoalInfo, GoalSpec
from learntogether.services.inputs import MAX_ROW_ID

router = APIRouter(prefix="/goals", tags=["goals"])
GoalId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The goal's id")]


@router.get("", summary="Goals by deadline, each with its progress")
async def list_goals(session: SessionDep, actor: ReaderDep, page: PageDep) -> Page[GoalInfo]:
    items, total = await goals.list_goals(
        session, limit=page.limit, offset=page.offset, actor=actor
    )
    return Page.of(items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{goal_id}", summary="One goal with its progress")
async def get_goal(goal_id: GoalId, session: SessionDep, actor: ReaderDep) -> GoalInfo:
    return await goals.get_goal(session, goal_id=goal_id, actor=actor)


@router.post("", summary="Set a goal", status_code=201)
async def create_goal(
    spec: Annotated[GoalSpec, Body()], session: SessionDep, actor: AdminDep
) -> GoalInfo:
    return await goals.create_goal(session, spec=spec, actor=actor)


@router.put("/{goal_id}", summary="Change a goal")
async def update_goal(
    goal_id: GoalId, spec: Annotated[GoalSpec, Body()], session: SessionDep, actor: AdminDep
) -> GoalInfo:
    return await goals.update_goal(session, goal_id=goal_id, spec=spec, actor=actor)


@router.delete("/{goal_id}", summary="Remove a goal", status_code=204)
async def delete_goal(goal_id: GoalId, session: SessionDep, actor: AdminDep) -> Response:
    await goals.delete_goal(session, goal_id=goal_id, actor=actor)
    return Response(status_code=204)
