"""Places: the municipality spellings in use, and merging two spellings of one place (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from learntogether.api.deps import AdminDep, PageDep, SessionDep, require_role
from learntogether.api.schemas import Page
from learntogether.db.models import TokenRole
from learntogether.services import places
from learntogether.services.actors import Actor
from learntogether.services.places import KnownPlace, MergedPlace, PlaceMerge

router = APIRouter(prefix="/places", tags=["places"])
ViewerDep = Annotated[Actor, Depends(require_role(TokenRole.VIEWER))]


@router.get("", summary="Municipality spellings in use, with how many learners and cohorts")
async def list_places(session: SessionDep, actor: ViewerDep, page: PageDep) -> Page[KnownPlace]:
    items, total = await places.list_places(
        session, actor=actor, limit=page.limit, offset=page.offset
    )
    return Page.of(items, total=total, limit=page.limit, offset=page.offset)


@router.post("/merge", summary="Rewrite one spelling of a place into another, reports included")
async def merge_places(
    merge: Annotated[PlaceMerge, Body()], session: SessionDep, actor: AdminDep
) -> MergedPlace:
    return await places.merge_places(session, merge=merge, actor=actor)
