"""Reflections: what learners wrote or said to open questions (admins; mediators their
cohorts')."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from learntogether.api.deps import MediatorDep, PageDep, SessionDep
from learntogether.api.schemas import Page
from learntogether.i18n import SOURCE_LOCALE
from learntogether.services import reflections
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.reflections import Reflection

router = APIRouter(prefix="/reflections", tags=["reflections"])


class ReflectionOut(BaseModel):
    """One answer to an open question; titles and texts in the ``locale`` asked for."""

    id: int
    user_id: int
    learner_name: str
    lesson: str
    lesson_title: str
    question: str
    question_text: str
    text: str
    """Empty for an answer given by voice."""
    audio: bool
    """Answered by voice: ``GET /reflections/{id}/audio`` plays it."""
    answered_at: datetime

    @classmethod
    def of(cls, item: Reflection) -> ReflectionOut:
        return cls.model_validate(item, from_attributes=True)


@router.get(
    "",
    summary="Learners' answers to open questions, newest first (mediators: their cohorts')",
)
async def list_reflections(
    session: SessionDep,
    actor: MediatorDep,
    page: PageDep,
    cohort: Annotated[str | None, Query(description="Only members of this cohort (code)")] = None,
    lesson: Annotated[str | None, Query(description="Only this lesson's (slug)")] = None,
    user: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="Only this learner's")
    ] = None,
    locale: Annotated[
        str, Query(pattern=r"^[a-z]{2,3}$", description="Language of lesson and question texts")
    ] = SOURCE_LOCALE,
) -> Page[ReflectionOut]:
    items, total = await reflections.list_reflections(
        session,
        actor=actor,
        user_id=user,
        cohort=cohort,
        lesson=lesson,
        locale=locale,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(
        [ReflectionOut.of(item) for item in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/{reflection_id}/audio",
    summary="The voice note an open question was answered with (OGG/Opus)",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}}}},
)
async def reflection_audio(
    session: SessionDep,
    actor: MediatorDep,
    reflection_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
) -> Response:
    audio = await reflections.reflection_audio(session, actor=actor, reflection_id=reflection_id)
    return Response(audio, media_type="audio/ogg")
