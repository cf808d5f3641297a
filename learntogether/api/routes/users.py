from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.csvout import CSV, CSV_MEDIA_TYPE, attachment, csv_line, wants_csv
from learntogether.api.deps import AdminDep, MediatorDep, PageDep, SessionDep, SessionMakerDep
from learntogether.api.schemas import Page, StrictBody
from learntogether.db.models import Role, UserStatus
from learntogether.services import learner_activity, users
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.learner_activity import ActivityEntry, LessonState, QuizResult
from learntogether.services.users import LearnerFilter, LearnerRecord

router = APIRouter(prefix="/users", tags=["users"])
UserIdPath = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The learner's id")]


class UserOut(BaseModel):
    """A learner as the caller may see them: fields the token may not see are null."""

    id: int
    status: UserStatus
    erased_at: datetime | None
    first_name: str | None
    last_name: str | None
    username: str | None
    telegram_id: int | None
    role: Role | None
    locale: str | None
    country: str | None
    region: str | None
    municipality: str | None
    cohorts: list[str]
    privacy_notice_version: str | None
    joined_at: datetime | None
    last_active_at: datetime | None
    blocked_at: datetime | None

    @classmethod
    def of(cls, record: LearnerRecord) -> UserOut:
        return cls.model_validate(record, from_attributes=True)


class LearnerActivityOut(BaseModel):
    """One page of a learner's activity (newest first, ``items``) with where they are in each
    lesson (the 100 most recent) and their finished quizzes (the 20 newest)."""

    items: list[ActivityEntry]
    total: int
    limit: int
    offset: int
    lessons: list[LessonState]
    quizzes: list[QuizResult]


class RoleIn(StrictBody):
    role: Role


async def _csv_pages(
    session_maker: async_sessionmaker[AsyncSession], search: LearnerFilter
) -> AsyncIterator[str]:
    fields = users.visible_fields(search.actor)
    yield csv_line(fields)
    async for page in users.stream_learners(session_maker, search):
        yield "".join(csv_line([getattr(record, name) for name in fields]) for record in page)


@router.get(
    "",
    summary="Search learners (mediators: their cohorts'); the whole list as CSV on Accept: text/csv",
    response_model=Page[UserOut],
    responses={200: {"content": {CSV: {}}}},
)
async def list_users(
    session: SessionDep,
    actor: MediatorDep,
    page: PageDep,
    session_maker: SessionMakerDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Words to find in names, username or municipality"),
    ] = None,
    cohort: Annotated[str | None, Query(description="Only members of this cohort (code)")] = None,
    role: Role | None = None,
    status: UserStatus | None = None,
    accept: Annotated[str | None, Header()] = None,
) -> Page[UserOut] | StreamingResponse:
    search = await users.learner_filter(
        session, actor=actor, q=q, cohort=cohort, role=role, status=status
    )
    if wants_csv(accept):
        # The list streams in short transactions of its own; end the request's first.
        await session.commit()
        return StreamingResponse(
            _csv_pages(session_maker, search),
            media_type=CSV_MEDIA_TYPE,
            headers=attachment("learners.csv"),
        )
    items, total = await users.search_learners(
        session, search, limit=page.limit, offset=page.offset
    )
    return Page.of(
        [UserOut.of(item) for item in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/{user_id}", summary="One learner (mediators: a learner of their cohorts)")
async def get_user(user_id: UserIdPath, session: SessionDep, actor: MediatorDep) -> UserOut:
    return UserOut.of(await users.get_learner(session, actor=actor, user_id=user_id))


@router.get(
    "/{user_id}/activity",
    summary="A learner's activity, lessons and quiz results (mediators: a learner of their cohorts)",
)
async def get_activity(
    user_id: UserIdPath,
    session: SessionDep,
    actor: MediatorDep,
    page: PageDep,
    locale: Annotated[str, Query(max_length=16, description="Language of lesson titles")] = "en",
) -> LearnerActivityOut:
    found = await learner_activity.learner_activity(
        session, actor=actor, user_id=user_id, locale=locale, limit=page.limit, offset=page.offset
    )
    return LearnerActivityOut(
        items=found.activities,
        total=found.total,
        limit=page.limit,
        offset=page.offset,
        lessons=found.lessons,
        quizzes=found.quizzes,
    )


@router.put("/{user_id}/role", summary="Change a learner's role (it picks the lessons offered)")
async def set_role(
    user_id: UserIdPath, body: RoleIn, session: SessionDep, actor: AdminDep
) -> UserOut:
    record = await users.set_learner_role(session, actor=actor, user_id=user_id, role=body.role)
    return UserOut.of(record)


@router.get(
    "/{user_id}/export", summary="Everything stored about a learner, as their /mydata gives it"
)
async def export_user(user_id: UserIdPath, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    return await users.export_learner(session, actor=actor, user_id=user_id)


@router.post("/{user_id}/erase", summary="Erase a learner's personal data for good")
async def erase_user(user_id: UserIdPath, session: SessionDep, actor: AdminDep) -> UserOut:
    return UserOut.of(await users.erase_learner(session, actor=actor, user_id=user_id))
