from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import BaseModel

from learntogether.api.deps import (
    AdminDep,
    BotUsernameDep,
    MediatorDep,
    PageDep,
    SessionDep,
)
from learntogether.api.schemas import Page, StrictBody
from learntogether.deeplinks import deep_link
from learntogether.services import cohorts
from learntogether.services import help as help_desk
from learntogether.services.cohorts import CohortInfo, CohortInput, MediatorInfo, Member
from learntogether.services.errors import NotFound
from learntogether.services.inputs import MAX_ROW_ID, RowId

router = APIRouter(prefix="/cohorts", tags=["cohorts"])

Code = Annotated[str, Path(description="The cohort's invite code")]


class CohortOut(BaseModel):
    code: str
    name: str
    country: str | None
    region: str | None
    municipality: str | None
    school: str | None
    locale: str | None
    tracks: list[str]
    nudge_after_days: int
    members: int
    created_at: datetime
    invite_payload: str
    invite_link: str | None
    """None while the bot's username is unknown (no LT_BOT_USERNAME and no reachable bot)."""

    @classmethod
    def of(cls, info: CohortInfo, username: str | None) -> CohortOut:
        link = deep_link(username, info.invite_payload) if username else None
        return cls(
            **{name: getattr(info, name) for name in CohortInfo.__dataclass_fields__},
            invite_payload=info.invite_payload,
            invite_link=link,
        )


class MediatorIn(StrictBody):
    user_id: RowId


@router.post("", status_code=201, summary="Create a cohort and its invite link")
async def create_cohort(
    data: Annotated[CohortInput, Body()],
    session: SessionDep,
    actor: AdminDep,
    username: BotUsernameDep,
) -> CohortOut:
    info = await cohorts.create_cohort(session, data=data, actor=actor)
    return CohortOut.of(info, username)


@router.get("", summary="Cohorts (a mediator sees its own)")
async def list_cohorts(
    session: SessionDep, actor: MediatorDep, page: PageDep, username: BotUsernameDep
) -> Page[CohortOut]:
    items, total = await cohorts.list_cohorts(
        session, actor=actor, limit=page.limit, offset=page.offset
    )
    out = [CohortOut.of(info, username) for info in items]
    return Page.of(out, total=total, limit=page.limit, offset=page.offset)


@router.get("/{code}", summary="One cohort")
async def get_cohort(
    code: Code, session: SessionDep, actor: MediatorDep, username: BotUsernameDep
) -> CohortOut:
    info = await cohorts.get_cohort(session, code=code, actor=actor)
    return CohortOut.of(info, username)


@router.get("/{code}/members", summary="Members and their progress; ?behind=true for the quiet")
async def list_members(
    code: Code,
    session: SessionDep,
    actor: MediatorDep,
    page: PageDep,
    behind: Annotated[bool, Query(description="Only those with no recent activity")] = False,
) -> Page[Member]:
    found, total = await cohorts.members(
        session,
        code=code,
        actor=actor,
        behind_only=behind,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of(found, total=total, limit=page.limit, offset=page.offset)


class HelpEntryOut(BaseModel):
    at: datetime
    from_learner: bool
    author: str | None
    """The answering mediator's first name; null for the learner's own messages."""
    text: str


@router.get(
    "/{code}/members/{user_id}/questions",
    summary="A member's questions to the cohort's mediators and their answers (not for viewers)",
)
async def member_questions(
    code: Code,
    user_id: Annotated[RowId, Path(description="The member's user id")],
    session: SessionDep,
    actor: MediatorDep,
    page: PageDep,
) -> Page[HelpEntryOut]:
    entries = await help_desk.conversation(
        session, actor=actor, cohort_code=code, learner_id=user_id
    )
    shown = [
        HelpEntryOut(
            at=entry.at, from_learner=entry.from_learner, author=entry.author, text=entry.text
        )
        for entry in entries[page.offset : page.offset + page.limit]
    ]
    return Page.of(shown, total=len(entries), limit=page.limit, offset=page.offset)


@router.post("/{code}/mediators", status_code=204, summary="Let a learner mediate this cohort")
async def add_mediator(
    code: Code, data: Annotated[MediatorIn, Body()], session: SessionDep, actor: AdminDep
) -> Response:
    await cohorts.add_mediator(
        session,
        code=code,
        user_id=data.user_id,
        actor=actor,
    )
    return Response(status_code=204)


@router.get("/{code}/mediators", summary="The learners who mediate this cohort in the bot")
async def list_mediators(code: Code, session: SessionDep, actor: MediatorDep) -> list[MediatorInfo]:
    return await cohorts.list_mediators(session, code=code, actor=actor)


@router.delete(
    "/{code}/mediators/{user_id}", status_code=204, summary="The learner no longer mediates it"
)
async def remove_mediator(
    code: Code,
    user_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    session: SessionDep,
    actor: AdminDep,
) -> Response:
    if not await cohorts.remove_mediator(session, code=code, user_id=user_id, actor=actor):
        raise NotFound(f"Learner {user_id} does not mediate cohort {code!r}.")
    return Response(status_code=204)
