"""Recordings mediators made of lesson steps in the bot: listen, approve (publishes), reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from learntogether.api.deps import AdminDep, PageDep, SessionDep
from learntogether.api.schemas import Page
from learntogether.db.models import RecordingStatus
from learntogether.services import recordings
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.recordings import COMMENT_LENGTH, RecordingInfo

router = APIRouter(prefix="/recordings", tags=["recordings"])

RecordingId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


class Review(BaseModel):
    comment: Annotated[str | None, Field(max_length=COMMENT_LENGTH)] = None
    """Said to the recorder in the bot."""


@router.get("", summary="Recordings, oldest first (the review queue with status=pending)")
async def list_recordings(
    session: SessionDep,
    actor: AdminDep,
    page: PageDep,
    status: Annotated[RecordingStatus | None, Query(description="Only this status")] = None,
    lesson: Annotated[
        str | None, Query(max_length=64, description="Only this lesson's (slug)")
    ] = None,
) -> Page[RecordingInfo]:
    items, total = await recordings.list_recordings(
        session, actor=actor, status=status, lesson=lesson, limit=page.limit, offset=page.offset
    )
    return Page.of(
        items,
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{recording_id}", summary="One recording")
async def get_recording(
    session: SessionDep, actor: AdminDep, recording_id: RecordingId
) -> RecordingInfo:
    return await recordings.get_recording(session, actor=actor, recording_id=recording_id)


@router.get(
    "/{recording_id}/audio",
    summary="Listen to a recording (OGG/Opus)",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}}}},
)
async def recording_audio(
    session: SessionDep, actor: AdminDep, recording_id: RecordingId
) -> Response:
    audio = await recordings.recording_audio(session, actor=actor, recording_id=recording_id)
    return Response(audio, media_type="audio/ogg")


@router.post(
    "/{recording_id}/approve",
    summary="Approve: publishes a new lesson version with the recording; the recorder is told",
)
async def approve_recording(
    session: SessionDep, actor: AdminDep, recording_id: RecordingId, review: Review
) -> RecordingInfo:
    return await recordings.approve(
        session, actor=actor, recording_id=recording_id, comment=review.comment
    )


@router.post(
    "/{recording_id}/reject",
    summary="Reject with a comment: the audio is deleted; the recorder is told",
)
async def reject_recording(
    session: SessionDep, actor: AdminDep, recording_id: RecordingId, review: Review
) -> RecordingInfo:
    return await recordings.reject(
        session, actor=actor, recording_id=recording_id, comment=review.comment
    )
