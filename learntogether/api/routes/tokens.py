from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from learntogether.api.deps import AdminDep, PageDep, SessionDep
from learntogether.api.schemas import Page, StrictBody
from learntogether.db.models import TokenRole
from learntogether.services import tokens
from learntogether.services.inputs import MAX_ROW_ID
from learntogether.services.tokens import TokenInfo

router = APIRouter(prefix="/tokens", tags=["tokens"])


class TokenOut(BaseModel):
    id: int
    name: str
    role: TokenRole
    prefix: str
    cohorts: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, info: TokenInfo) -> TokenOut:
        return cls.model_validate(info, from_attributes=True)


class TokenIn(StrictBody):
    name: Annotated[str, Field(min_length=1, max_length=tokens.NAME_LENGTH)]
    role: TokenRole
    cohorts: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=500
    )


class CreatedTokenOut(TokenOut):
    token: str = Field(description="The bearer token. Shown once: only its hash is stored.")


@router.get("", summary="List API tokens (never their secrets)")
async def list_tokens(session: SessionDep, _: AdminDep, page: PageDep) -> Page[TokenOut]:
    items, total = await tokens.list_tokens(session, limit=page.limit, offset=page.offset)
    return Page.of(
        [TokenOut.of(item) for item in items], total=total, limit=page.limit, offset=page.offset
    )


@router.post("", status_code=201, summary="Create an API token")
async def create_token(
    body: TokenIn, session: SessionDep, actor: AdminDep, response: Response
) -> CreatedTokenOut:
    # The answer carries a secret: no cache, proxy or browser may keep it.
    response.headers["Cache-Control"] = "no-store"
    created = await tokens.create_token(
        session, name=body.name, role=body.role, cohort_codes=body.cohorts, actor=actor
    )
    return CreatedTokenOut(**TokenOut.of(created.info).model_dump(), token=created.secret)


@router.post("/{token_id}/revoke", summary="Revoke an API token")
async def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)], session: SessionDep, actor: AdminDep
) -> TokenOut:
    info = await tokens.revoke_token(session, reference=str(token_id), actor=actor)
    return TokenOut.of(info)
