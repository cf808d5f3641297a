"""Reports give their own transaction room to sort and group in memory (PostgreSQL), and only it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.services.reports import awareness, funnel, participation, questions
from learntogether.services.reports.query import REPORT_WORK_MEM, dialect_name
from tests.content.samples import lesson, survey
from tests.report_builders import import_track

Report = Callable[[AsyncSession], Awaitable[object]]
REPORTS: dict[str, Report] = {
    "participation": lambda session: participation(session),
    "funnel": lambda session: funnel(session, track="demo"),
    "questions": lambda session: questions(session, lesson="middle"),
    "awareness": lambda session: awareness(session, track="demo"),
}


@pytest.mark.parametrize("name", sorted(REPORTS))
async def test_a_report_raises_work_mem_for_its_transaction_only(
    session: AsyncSession, name: str
) -> None:
    if dialect_name(session) != "postgresql":
        pytest.skip("work_mem is PostgreSQL's")
    await import_track(
        session,
        [("before", survey("pre", ["a"])), ("middle", lesson()), ("after", survey("post", ["a"]))],
    )
    default = await session.scalar(text("SHOW work_mem"))
    inner = await session.begin_nested()
    await REPORTS[name](session)
    assert await session.scalar(text("SHOW work_mem")) == REPORT_WORK_MEM
    await inner.rollback()
    # SET LOCAL in a savepoint ends with it, as it ends with a request's transaction.
    assert await session.scalar(text("SHOW work_mem")) == default
