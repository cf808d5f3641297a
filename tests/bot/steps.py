"""A newcomer's onboarding through the stand-in, in the steps that tests interrupt between."""

from __future__ import annotations

from tests.standin import SimUser


async def begin_in_english(user: SimUser) -> None:
    """/start and English, up to the role question."""
    await user.send("/start")
    await user.next_message()
    await user.press("✓ English")
    await user.wait_for(lambda m: m["text"] == "Which of these describes you best?")


async def finish_onboarding(user: SimUser, *, role: str, municipality: str) -> None:
    """From the role question to "You are all set!"."""
    await user.press(role)
    await user.wait_for(lambda m: m["text"].startswith("Your privacy"))
    await user.press("I agree")
    await user.wait_for(lambda m: "In which municipality" in m["text"])
    await user.send(municipality)
    await user.wait_for(lambda m: m["text"].startswith("When shall I remind you?"))
    await user.press("No reminders, thanks")
    await user.wait_for(lambda m: "You are all set!" in m["text"])
