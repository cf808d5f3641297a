"""Assisted mode: enrol someone without a smartphone, record their quiz answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from learntogether.api.deps import MediatorDep, SessionDep, SettingsDep
from learntogether.services import assisted
from learntogether.services.assisted import (
    AssistedQuiz,
    AssistedResult,
    Participant,
    ParticipantInput,
)

router = APIRouter(prefix="/cohorts/{code}", tags=["assisted mode"])


@router.post("/participants", status_code=201, summary="Enrol someone who has no Telegram")
async def add_participant(
    code: Annotated[str, Path()],
    data: Annotated[ParticipantInput, Body()],
    session: SessionDep,
    actor: MediatorDep,
    settings: SettingsDep,
) -> Participant:
    return await assisted.add_participant(
        session,
        cohort_code=code,
        data=data,
        actor=actor,
        default_locale=settings.default_locale,
    )


@router.post("/assisted-quizzes", status_code=201, summary="Record a member's quiz answers")
async def record_quiz(
    code: Annotated[str, Path()],
    data: Annotated[AssistedQuiz, Body()],
    session: SessionDep,
    actor: MediatorDep,
    settings: SettingsDep,
) -> AssistedResult:
    return await assisted.record_quiz(
        session,
        cohort_code=code,
        data=data,
        actor=actor,
        default_locale=settings.default_locale,
    )
