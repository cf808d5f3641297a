"""Reflections: what learners wrote to open questions (admins; mediators their cohorts')."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
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
