"""The dashboard: goals, learners joined and active, completions, by region, quiet cohorts.

Its figures are read at most once a minute for each reach (``Readings``): on 100,000 learners a
reading counts 56,000 to 107,000 rows (110 ms on a quiet machine, 300-500 ms on a busy one), and
staff who open the dashboard in the same minute see the same figures, with the time they were
read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.console.web import ConsoleRoute, StaffDep, render
from learntogether.db.base import utcnow
from learntogether.db.models import TokenRole
from learntogether.services import dashboard
from learntogether.services.actors import Actor
from learntogether.services.dashboard import Overview

log = logging.getLogger(__name__)
router = APIRouter(route_class=ConsoleRoute)

FRESH_FOR = 60.0
"""Seconds a reading of the dashboard is shown before the figures are read again."""

Reach = tuple[TokenRole, frozenset[int] | None, date]
"""What decides a reading's figures: the reader's role and cohorts, and the day."""


@dataclass(frozen=True)
class Reading:
    overview: Overview
    read_at: datetime


@dataclass
class Readings:
    """The dashboard's last reading for each reach, kept ``fresh_for`` seconds; readers of one
    reach who come while it is being read wait for that reading instead of starting their own."""

    fresh_for: float = FRESH_FOR
    clock: Callable[[], float] = time.monotonic
    _kept: dict[Reach, tuple[float, asyncio.Task[Reading]]] = field(default_factory=dict)

    async def reading(self, reach: Reach, read: Callable[[], Awaitable[Reading]]) -> Reading:
        now = self.clock()
        kept = self._kept.get(reach)
        if kept is None or now - kept[0] > self.fresh_for:
            # Readings past their time go as new ones come: no more are kept than reaches
            # were read in the last ``fresh_for`` seconds.
            self._kept = {
                key: value for key, value in self._kept.items() if now - value[0] <= self.fresh_for
            }
            kept = (now, asyncio.ensure_future(read()))
            self._kept[reach] = kept
            kept[1].add_done_callback(partial(self._forget_if_failed, reach))
        # A reader who leaves does not cancel the reading the others wait for; a reading that
        # fails is forgotten as it ends (``_forget_if_failed``), before its readers hear of it.
        return await asyncio.shield(kept[1])

    def _forget_if_failed(self, reach: Reach, task: asyncio.Task[Reading]) -> None:
        """A reading that failed is not kept, even when every reader who waited for it has gone
        (its error is then logged here, not as an exception never retrieved)."""
        if not task.cancelled():
            error = task.exception()
            if error is None:
                return
            log.warning("a reading of the dashboard failed: %r", error)
        kept = self._kept.get(reach)
        if kept is not None and kept[1] is task:
            del self._kept[reach]


async def _read(
    session_maker: async_sessionmaker[AsyncSession], actor: Actor, today: date
) -> Reading:
    """A new reading, in sessions of its own (it may outlive the request that started it)."""
    read_at = utcnow()
    async with session_maker() as session:
        found = await dashboard.overview(session, actor=actor, today=today, readers=session_maker)
    return Reading(found, read_at)


@router.get("/")
async def dashboard_page(request: Request, staff: StaffDep) -> HTMLResponse:
    actor = staff.actor
    today = utcnow().date()
    readings: Readings = request.app.state.dashboard_readings
    found = await readings.reading(
        (actor.role, actor.cohort_ids, today),
        lambda: _read(request.app.state.session_maker, actor, today),
    )
    return render(request, "dashboard.html", {"overview": found.overview, "read_at": found.read_at})
