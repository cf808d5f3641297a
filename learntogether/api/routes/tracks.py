from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from learntogether.api.deps import AdminDep, PageDep, ReaderDep, SessionDep
from learntogether.api.schemas import Page, same_slug
from learntogether.content.schema import TrackDocument
from learntogether.services import tracks
from learntogether.services.tracks import TrackInfo

router = APIRouter(prefix="/tracks", tags=["tracks"])


@router.get("", summary="List tracks in order")
async def list_tracks(session: SessionDep, _: ReaderDep, page: PageDep) -> Page[TrackInfo]:
    items, total = await tracks.list_tracks(session, limit=page.limit, offset=page.offset)
    return Page.of(items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{slug}", summary="One track")
async def get_track(slug: Annotated[str, Path()], session: SessionDep, _: ReaderDep) -> TrackInfo:
    return await tracks.get_track(session, slug)


@router.put("/{slug}", summary="Create or update a track (201 when new)")
async def put_track(
    slug: Annotated[str, Path()],
    document: Annotated[TrackDocument, Body()],
    session: SessionDep,
    actor: AdminDep,
    response: Response,
) -> TrackInfo:
    same_slug(url=slug, document=document.slug)
    info, created = await tracks.save_track(session, document, actor=actor)
    response.status_code = 201 if created else 200
    return info
