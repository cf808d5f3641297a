from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from learntogether.api.deps import MediatorDep, PageDep, SessionDep, SettingsDep
from learntogether.api.schemas import Page
from learntogether.db.models import BroadcastKind
from learntogether.services import broadcasts
from learntogether.services.broadcasts import BroadcastInfo, BroadcastPreview
from learntogether.services.inputs import MAX_ROW_ID, Moment

router = APIRouter(prefix="/broadcasts", tags=["broadcasts"])
# Admins everywhere, mediators within their cohorts; viewers read reports only.
BroadcastId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The broadcast's id")]


class BroadcastIn(BaseModel):
    """Exactly one of ``cohort``, ``cohorts`` and ``all``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    cohort: str | None = Field(None, description="One cohort's code")
    cohorts: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None, description="Several cohorts' codes", max_length=500
    )
    all_learners: bool = Field(False, alias="all", description="Every learner (admins only)")
    text: str | dict[str, str] = Field(
        description="Telegram HTML: one text for everyone, or one per language "
        '({"en": "…", "bg": "…"}); learners get theirs, else the one they read best\'s, their '
        "cohort's, LT_DEFAULT_LOCALE's, English's, else any (POST /broadcasts/preview says who "
        "would read another language than theirs)"
    )
    send_at: Moment | None = Field(
        None, description="ISO 8601 with a time zone; absent or past: now"
    )


@router.post("", status_code=201, summary="Broadcast a message to cohorts or everyone")
async def create_broadcast(
    body: BroadcastIn, session: SessionDep, actor: MediatorDep, settings: SettingsDep
) -> BroadcastInfo:
    return await broadcasts.create_broadcast(
        session,
        actor=actor,
        text=body.text,
        cohort=body.cohort,
        cohorts=body.cohorts,
        all_learners=body.all_learners,
        send_at=body.send_at,
        default_locale=settings.default_locale,
    )


@router.post(
    "/preview",
    summary="Check a broadcast without sending it: who would read it in another language",
    description="The same body as creating one, checked the same way; nothing is stored or sent. "
    "`other_languages` counts the recipients who would be given a language that is neither "
    "theirs nor the one they read best, by their language (`reads`) and the one they would "
    "get (`given`), most first.",
)
async def preview_broadcast(
    body: BroadcastIn, session: SessionDep, actor: MediatorDep, settings: SettingsDep
) -> BroadcastPreview:
    return await broadcasts.preview_broadcast(
        session,
        actor=actor,
        text=body.text,
        cohort=body.cohort,
        cohorts=body.cohorts,
        all_learners=body.all_learners,
        send_at=body.send_at,
        default_locale=settings.default_locale,
        programme_locale=settings.default_locale,
    )


@router.get("", summary="Broadcasts, newest first, with live delivery counts")
async def list_broadcasts(
    session: SessionDep,
    actor: MediatorDep,
    page: PageDep,
    kind: Annotated[BroadcastKind | None, Query(description="Only this kind")] = None,
) -> Page[BroadcastInfo]:
    items, total = await broadcasts.list_broadcasts(
        session,
        actor=actor,
        limit=page.limit,
        offset=page.offset,
        kind=kind,
    )
    return Page.of(items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{broadcast_id}", summary="A broadcast with its live delivery counts")
async def get_broadcast(
    broadcast_id: BroadcastId, session: SessionDep, actor: MediatorDep
) -> BroadcastInfo:
    return await broadcasts.get_broadcast(session, broadcast_id=broadcast_id, actor=actor)


@router.post("/{broadcast_id}/cancel", summary="Cancel what has not been sent yet")
async def cancel_broadcast(
    broadcast_id: BroadcastId, session: SessionDep, actor: MediatorDep
) -> BroadcastInfo:
    return await broadcasts.cancel_broadcast(session, broadcast_id=broadcast_id, actor=actor)
