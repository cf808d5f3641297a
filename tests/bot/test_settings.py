"""/settings end to end: reminders, time zone from the cohort's country, quiet hours, role."""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Role, User
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
    hours = await ina.wait_for(lambda m: "18" in button_texts(m))
    assert "(Sofia time)" in hours["text"]
    await ina.press("18")
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


async def test_a_place_in_another_spelling_is_saved_as_the_cohorts_and_said_so(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    await create_learner(session_maker, 7012)
    vera = standin.add_user(7012, first_name="Vera", language_code="en")
    await vera.send("/settings")
    await vera.next_message()
    await vera.press("Municipality")
    await vera.next_message()
    await vera.send("SLIVÉN")
    notice = await vera.next_message()
    assert notice["text"] == "Saved as Sliven."
    updated = await vera.next_message()
    assert "Municipality: Sliven" in updated["text"]
    learner = await find_user(session_maker, 7012)
    assert learner is not None
    assert learner.municipality == "Sliven"


async def test_a_reminder_in_quiet_hours_is_refused_with_the_reason(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    learner = await create_learner(session_maker, 7003)
    async with session_maker() as session:
        stored = await session.get(User, learner.id)
        assert stored is not None
        stored.reminder_time, stored.timezone = time(21, 30), "Europe/Sofia"
        stored.quiet_hours_start, stored.quiet_hours_end = time(22), time(8)
        await session.commit()
    kai = standin.add_user(7003, first_name="Kai", language_code="en")
    await kai.send("/settings")
    await kai.next_message()
    await kai.press("Reminder time")
    hours = await kai.wait_for(lambda m: "23 🌙" in button_texts(m))
    assert "🌙 quiet hours: 22:00–08:00" in hours["text"]
    assert "12" in button_texts(hours)
    await kai.press("23 🌙")
    await kai.wait_for(lambda m: "23:15" in button_texts(m))
    await kai.press("23:15")
    refused = await kai.wait_for(lambda m: m["text"].startswith("I cannot remind you at 23:15"))
    assert "inside your quiet hours (22:00–08:00)" in refused["text"]
    assert "When shall I remind you?" in refused["text"]  # and the hours again, to choose anew
    # Quiet hours over the reminder time are refused too, with the reason.
    await kai.press("◀ Settings")
    await kai.wait_for(lambda m: m["text"].startswith("Your settings"))
    await kai.press("Quiet hours")
    await kai.wait_for(lambda m: "21:00–09:00" in button_texts(m))
    await kai.press("21:00–09:00")
    alert = await standin.wait_for_call(
        "answerCallbackQuery", lambda call: "would cover your reminder" in str(call.params)
    )
    assert "These quiet hours (21:00–09:00) would cover your reminder at 21:30." in str(
        alert.params
    )
    kept = await find_user(session_maker, 7003)
    assert kept is not None
    assert (kept.reminder_time, kept.quiet_hours_start) == (time(21, 30), time(22))


async def test_time_zone_is_chosen_by_country_then_city(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 7004, locale="es")
    eva = standin.add_user(7004, first_name="Eva", language_code="es")
    await eva.send("/settings")
    menu = await eva.next_message()
    await eva.press(button_texts(menu)[5])  # the time zone
    countries = await eva.wait_for(lambda m: "España" in button_texts(m))
    assert "Bulgaria" in button_texts(countries)  # names in the reader's language
    await eva.press("España")
    cities = await eva.wait_for(lambda m: "Canarias" in str(button_texts(m)))
    await eva.press(next(text for text in button_texts(cities) if "Canarias" in text))
    await eva.wait_for(lambda m: "Atlantic/Canary" in m["text"])
    learner = await eventually(lambda: find_user(session_maker, 7004))
    assert (learner.timezone, learner.country) == ("Atlantic/Canary", "ES")


async def test_turning_reminders_on_without_a_time_asks_for_one(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    learner = await create_learner(session_maker, 7005)
    async with session_maker() as session:
        stored = await session.get(User, learner.id)
        assert stored is not None
        stored.reminders_enabled = False
        await session.commit()
    oto = standin.add_user(7005, first_name="Oto", language_code="en")
    await oto.send("/settings")
    await oto.next_message()
    await oto.press("Turn reminders on")
    await oto.wait_for(lambda m: m["text"].startswith("When shall I remind you?"))
    await oto.press("09")
    await oto.wait_for(lambda m: "09:45" in button_texts(m))
    await oto.press("09:45")
    await oto.wait_for(lambda m: "Reminders: every day at 09:45" in m["text"])


async def test_choosing_romani_in_settings_asks_the_language_read_best(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 7006, locale="es")
    lua = standin.add_user(7006, first_name="Lua", language_code="es")
    await lua.send("/language")
    await lua.wait_for(lambda m: "Romani (partial)" in button_texts(m))
    await lua.press("Romani (partial)")
    reads = await lua.wait_for(
        lambda m: "Español" in str(button_texts(m)) and "Romani (partial)" not in button_texts(m)
    )
    assert "Romani (partial)" not in button_texts(reads)  # only complete languages
    await lua.press(next(text for text in button_texts(reads) if "Español" in text))
    done = await lua.wait_for(lambda m: "Romani (partial)" in m.get("text", ""))
    assert "Español" in done["text"]
    learner = await eventually(lambda: find_user(session_maker, 7006))
    assert (learner.locale, learner.reads_locale) == ("rom", "es")
    await lua.send("/settings")
    menu = await lua.wait_for(lambda m: len(button_texts(m)) == 8)
    assert "Romani (partial) → Español" in menu["text"]
    # Back to a complete language: nothing more is asked, and the read-best one is dropped.
    await lua.send("/language")
    await lua.wait_for(lambda m: "✓ Romani (partial)" in button_texts(m))
    await lua.press("Español")
    await lua.wait_for(lambda m: m.get("text", "").startswith("Hecho"))

    async def back_to_spanish() -> Any:
        found = await find_user(session_maker, 7006)
        return found if found and found.locale == "es" else None

    assert (await eventually(back_to_spanish)).reads_locale is None
