"""Recordings (admins): mediators' voice notes of lesson steps waiting for review, to listen to
and approve (which publishes them in a new lesson version) or reject, with a comment for the
recorder.

The same services as ``/api/v1/recordings``: ``recordings.approve`` and ``recordings.reject``
check, audit and tell the recorder, as through the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from learntogether.console.web import (
    ConsoleRoute,
    DbDep,
    FormStaffDep,
    StaffDep,
    reader_locale,
    redirect,
    render,
    translator,
)
from learntogether.db.models import RecordingStatus
from learntogether.services import recordings
from learntogether.services.actors import Actor
from learntogether.services.errors import Conflict, InvalidInput
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.recordings import COMMENT_LENGTH

router = APIRouter(prefix="/curriculum/recordings", route_class=ConsoleRoute)
RecordingId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Offset = Annotated[int, Query(ge=0, le=2**31)]
Comment = Annotated[str, Form(max_length=COMMENT_LENGTH * 2)]
PAGE = 50


async def _queue_page(
    request: Request,
    session: DbDep,
    actor: Actor,
    *,
    offset: int = 0,
    problem: tuple[int, str] | None = None,
) -> HTMLResponse:
    found, total = await recordings.list_recordings(
        session,
        actor=actor,
        status=RecordingStatus.PENDING,
        locale=reader_locale(request),
        limit=PAGE,
        offset=offset,
    )
    return render(
        request,
        "curriculum/recordings.html",
        {
            "recordings": found,
            "total": total,
            "offset": offset,
            "limit": PAGE,
            "problem": problem,
            "done": request.query_params.get("done", ""),
            "comment_length": COMMENT_LENGTH,
        },
        status=409 if problem else 200,
    )


@router.get("")
async def queue(
    request: Request, staff: StaffDep, session: DbDep, offset: Offset = 0
) -> HTMLResponse:
    return await _queue_page(request, session, staff.actor, offset=offset)


@router.get("/{recording_id}/audio")
async def recording_audio(recording_id: RecordingId, staff: StaffDep, session: DbDep) -> Response:
    """The voice note, for the page's <audio> element."""
    audio = await recordings.recording_audio(session, actor=staff.actor, recording_id=recording_id)
    return Response(audio, media_type="audio/ogg", headers={"Cache-Control": "private, no-store"})


@router.post("/{recording_id}/review")
async def review(
    request: Request,
    recording_id: RecordingId,
    staff: FormStaffDep,
    session: DbDep,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    comment: Comment = "",
) -> Response:
    """Approve (publishes a new version of the lesson) or reject, with the comment."""
    review_one = recordings.approve if decision == "approve" else recordings.reject
    try:
        await review_one(session, actor=staff.actor, recording_id=recording_id, comment=comment)
    except (Conflict, InvalidInput) as error:
        await session.rollback()
        return await _queue_page(
            request, session, staff.actor, problem=(recording_id, error.said(translator(request)))
        )
    return redirect(f"/curriculum/recordings?done={decision}")
