"""/settings end to end: reminders, time zone from the cohort's country, quiet hours, role."""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Role
from learntogether.runtime import BotParts
from tests.factories import create_cohort, create_learner, eventually, find_user
from tests.standin import BotAPIStandIn, button_texts


async def test_settings_show_the_cohort_countrys_time_zone_and_change_reminders(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    await create_learner(session_maker, 7001, cohort="SLV1")
    ina = standin.add_user(7001, first_name="Ina", language_code="en")
    await ina.send("/settings")
    shown = await ina.next_message()
    assert "Time zone: Europe/Sofia" in shown["text"]
    assert "Reminders: on, no time chosen yet" in shown["text"]
    await ina.press("Reminder time")
    await ina.wait_for(lambda m: "18:00" in button_texts(m))
    await ina.press("18:00")
    await ina.wait_for(lambda m: "Reminders: every day at 18:00" in m["text"])
    await ina.press("Quiet hours")
    await ina.wait_for(lambda m: "22:00–08:00" in button_texts(m))
    await ina.press("22:00–08:00")
    await ina.wait_for(lambda m: "Quiet hours: 22:00–08:00" in m["text"])
    await ina.press("Turn reminders off")
    await ina.wait_for(lambda m: "Reminders: off" in m["text"])

    async def saved() -> Any:
        learner = await find_user(session_maker, 7001)
        return learner if learner and not learner.reminders_enabled else None

    learner = await eventually(saved)
    assert (learner.reminder_time, learner.quiet_hours_start, learner.quiet_hours_end) == (
        time(18),
        time(22),
        time(8),
    )


async def test_role_and_municipality_can_be_changed(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 7002)
    jan = standin.add_user(7002, first_name="Jan", language_code="en")
    await jan.send("/settings")
    await jan.next_message()
    await jan.press("Role")
    await jan.wait_for(lambda m: "Mediator" in button_texts(m))
    await jan.press("Mediator")
    await jan.wait_for(lambda m: "Role: Mediator" in m["text"])
    await jan.press("Municipality")
    await jan.next_message()
    await jan.send("Kotel")
    updated = await jan.next_message()
    assert "Municipality: Kotel" in updated["text"]
    learner = await find_user(session_maker, 7002)
    assert learner is not None
    assert (learner.role, learner.municipality) == (Role.MEDIATOR, "Kotel")
