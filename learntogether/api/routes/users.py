from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.deps import AdminDep, MediatorDep, PageDep, SessionDep, SessionMakerDep
from learntogether.api.schemas import Page
from learntogether.db.models import Role, UserStatus
from learntogether.services import users
from learntogether.services.users import LearnerFilter, LearnerRecord

router = APIRouter(prefix="/users", tags=["users"])
UserIdPath = Annotated[int, Path(ge=1, description="The learner's id")]
CSV = "text/csv"
# A spreadsheet runs a cell that starts like a formula; names come from Telegram, anyone's to set.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


class RoleIn(BaseModel):
    role: Role


def wants_csv(accept: str | None) -> bool:
    """Whether ``Accept`` prefers CSV to JSON (by q value; an explicit type beats a wildcard)."""
    csv_q = json_q = 0.0
    json_explicit = csv_explicit = False
    for part in (accept or "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == CSV:
            csv_q, csv_explicit = max(csv_q, q), True
        elif media == "application/json":
            json_q, json_explicit = max(json_q, q), True
        elif media in ("*/*", "application/*") and not json_explicit:
            json_q = max(json_q, q)
    if not csv_explicit or csv_q == 0:
        return False
    return csv_q > json_q or (csv_q == json_q and not json_explicit)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return " ".join(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_cell(value) for value in values])
    return buffer.getvalue()


async def _csv_pages(
    session_maker: async_sessionmaker[AsyncSession], search: LearnerFilter
) -> AsyncIterator[str]:
    fields = users.visible_fields(search.principal)
    yield _csv_line(fields)
    async for page in users.stream_learners(session_maker, search):
        yield "".join(_csv_line([getattr(record, name) for name in fields]) for record in page)


@router.get(
    "",
    summary="Search learners (mediators: their cohorts'); the whole list as CSV on Accept: text/csv",
    response_model=Page[UserOut],
    responses={200: {"content": {CSV: {}}}},
)
async def list_users(
    session: SessionDep,
    principal: MediatorDep,
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
        session, principal=principal, q=q, cohort=cohort, role=role, status=status
    )
    if wants_csv(accept):
        # The list streams in short transactions of its own; end the request's first.
        await session.commit()
        return StreamingResponse(
            _csv_pages(session_maker, search),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="learners.csv"'},
        )
    items, total = await users.search_learners(
        session, search, limit=page.limit, offset=page.offset
    )
    return Page.of(
        [UserOut.of(item) for item in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/{user_id}", summary="One learner (mediators: a learner of their cohorts)")
async def get_user(user_id: UserIdPath, session: SessionDep, principal: MediatorDep) -> UserOut:
    return UserOut.of(await users.get_learner(session, principal=principal, user_id=user_id))


@router.put("/{user_id}/role", summary="Change a learner's role (it picks the lessons offered)")
async def set_role(
    user_id: UserIdPath, body: RoleIn, session: SessionDep, principal: AdminDep
) -> UserOut:
    record = await users.set_learner_role(
        session, principal=principal, user_id=user_id, role=body.role
    )
    return UserOut.of(record)


@router.get(
    "/{user_id}/export", summary="Everything stored about a learner, as their /mydata gives it"
)
async def export_user(
    user_id: UserIdPath, session: SessionDep, principal: AdminDep
) -> dict[str, Any]:
    return await users.export_learner(session, principal=principal, user_id=user_id)


@router.post("/{user_id}/erase", summary="Erase a learner's personal data for good")
async def erase_user(user_id: UserIdPath, session: SessionDep, principal: AdminDep) -> UserOut:
    return UserOut.of(await users.erase_learner(session, principal=principal, user_id=user_id))
