"""Small factories that build what a test needs, committed through a real session."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.content.files import load_curriculum
from learntogether.db.models import Cohort, Role, TokenRole, User
from learntogether.services import learners, tokens
from learntogether.services.actors import Actor
from learntogether.services.curriculum import import_files
from tests.content.samples import write_curriculum
from tests.standin.simuser import WAIT_SECONDS

T = TypeVar("T")


async def create_cohort(
    session: AsyncSession, *, code: str = "SLV1", name: str = "Sliven teachers"
) -> Cohort:
    cohort = Cohort(
        code=code, name=name, country="BG", region="Sliven", municipality="Sliven", locale="bg"
    )
    session.add(cohort)
    await session.flush()
    return cohort


async def create_api_token(
    session_maker: async_sessionmaker[AsyncSession],
    role: TokenRole = TokenRole.ADMIN,
    *,
    name: str | None = None,
    cohorts: list[str] | None = None,
) -> str:
    """A committed token of ``role``; returns the bearer secret."""
    async with session_maker() as session:
        created = await tokens.create_token(
            session,
            name=name or f"test-{role.value}",
            role=role,
            cohort_codes=cohorts,
            actor=Actor.system("test"),
        )
        await session.commit()
    return created.secret


async def import_sample_curriculum(
    session_maker: async_sessionmaker[AsyncSession],
    root: Path,
    lessons: dict[str, dict[str, Any]] | None = None,
) -> None:
    """The sample track of tests/content/samples.py with ``lessons`` (by file name), published."""
    curriculum = load_curriculum([write_curriculum(root, lessons)])
    assert curriculum.problems == []
    async with session_maker() as session:
        await import_files(session, curriculum, actor=Actor.system("test"))
        await session.commit()


async def find_user(
    session_maker: async_sessionmaker[AsyncSession], telegram_id: int
) -> User | None:
    async with session_maker() as session:
        return await learners.find_learner(session, telegram_id)


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, within: float = WAIT_SECONDS
) -> T:
    """Poll ``check`` until it returns something truthy: for what another task (a bot, a worker) writes."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{check} did not become true within {within}s")
        await asyncio.sleep(0.02)


async def create_learner(
    session_maker: async_sessionmaker[AsyncSession],
    telegram_id: int,
    *,
    locale: str = "en",
    role: Role = Role.TEACHER,
    cohort: str | None = None,
    first_name: str = "Learner",
) -> User:
    """A learner who went through onboarding and agreed to the notice."""
    async with session_maker() as session:
        learner = await learners.register(
            session,
            telegram_id=telegram_id,
            first_name=first_name,
            locale=locale,
            role=role,
            cohort_code=cohort,
        )
        await session.commit()
    return learner


def mediating(*cohort_ids: int) -> Actor:
    """A mediator reaching these cohorts (none: no cohort at all), with no token behind it."""
    return Actor(name="test-mediator", role=TokenRole.MEDIATOR, cohort_ids=frozenset(cohort_ids))
