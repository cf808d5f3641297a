"""Recurring cohort reminders (cron and time zone), and nudging a cohort's quiet members now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from learntogether.api.deps import MediatorDep, PageDep, SessionDep, SettingsDep
from learntogether.api.schemas import Page
from learntogether.services import reminders
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.reminders import NudgeResult, ReminderInfo, ReminderInput

router = APIRouter(tags=["reminders"])

Code = Annotated[str, Path(description="The cohort's invite code")]


@router.post("/cohorts/{code}/reminders", status_code=201, summary="A recurring reminder")
async def create_reminder(
    code: Code,
    data: Annotated[ReminderInput, Body()],
    session: SessionDep,
    actor: MediatorDep,
    settings: SettingsDep,
) -> ReminderInfo:
    return await reminders.create_reminder(
        session,
        cohort_code=code,
        data=data,
        actor=actor,
        default_locale=settings.default_locale,
    )


@router.get("/cohorts/{code}/reminders", summary="A cohort's recurring reminders")
async def list_reminders(
    code: Code, session: SessionDep, actor: MediatorDep, page: PageDep
) -> Page[ReminderInfo]:
    found, total = await reminders.list_reminders(
        session, cohort_code=code, actor=actor, limit=page.limit, offset=page.offset
    )
    return Page.of(found, total=total, limit=page.limit, offset=page.offset)


@router.delete("/reminders/{reminder_id}", status_code=204, summary="Stop a recurring reminder")
async def delete_reminder(
    reminder_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)], session: SessionDep, actor: MediatorDep
) -> Response:
    await reminders.delete_reminder(
        session,
        reminder_id=reminder_id,
        actor=actor,
    )
    return Response(status_code=204)


@router.post("/cohorts/{code}/nudge", summary="Nudge the cohort's quiet members now")
async def nudge(code: Code, session: SessionDep, actor: MediatorDep) -> NudgeResult:
    return await reminders.nudge_cohort(session, cohort_code=code, actor=actor)
