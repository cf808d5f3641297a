"""Finishing a track's post-survey shows the learner their own answers at the start and today."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.runtime import BotParts
from tests.content.samples import survey
from tests.factories import create_learner, import_sample_curriculum
from tests.standin import BotAPIStandIn, SimUser
from tests.standin.records import JSON


async def take_survey(user: SimUser, title: str, start: str, answers: list[str]) -> None:
    """Open the survey ``title`` from /lessons and answer its statements with ``answers``."""
    await user.send("/lessons")
    catalogue = await user.next_message()
    await user.press(catalogue["reply_markup"]["inline_keyboard"][0][0]["text"])
    await user.wait_for(lambda m: f"🆕 {title}" in str(m.get("reply_markup")))
    await user.press(f"🆕 {title}")
    await user.wait_for(lambda m: f"{title} ·" in m.get("text", ""))
    await user.press(start)
    for number, answer in enumerate(answers, start=1):

        def asks(message: JSON, key: str = f"s{number}") -> bool:
            return key in message.get("text", "") and "reply_markup" in message

        await user.wait_for(asks)
        await user.press(answer)


async def test_the_post_survey_ends_with_the_learners_own_before_and_after_in_their_language(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(
        session_maker,
        tmp_path / "lessons",
        {
            "01-pre.yaml": survey("pre", ["s1", "s2"]),
            "02-post.yaml": survey("post", ["s1", "s2"]),
        },
    )
    await create_learner(session_maker, 8101, locale="bg")
    mira = standin.add_user(8101, first_name="Мира", language_code="bg")
    start = "Започване на анкетата ▶"
    await take_survey(mira, "Анкета pre", start, ["2 · По-скоро не", "3 · Нито да, нито не"])
    pre_end = await mira.wait_for(lambda m: "Благодарим" in m.get("text", ""))
    assert "Твърдение" not in pre_end["text"]  # the pre-survey has nothing to compare yet

    await take_survey(mira, "Анкета post", start, ["5 · Категорично да", "3 · Нито да, нито не"])
    post_end = await mira.wait_for(
        lambda m: "Благодарим" in m.get("text", "") and "Твърдение s1" in m["text"]
    )
    text = post_end["text"]
    assert text.index("Твърдение s1") < text.index("Твърдение s2")
    s1 = text[text.index("Твърдение s1") :].split("\n\n")[0]
    assert "По-скоро не" in s1 and "Категорично да" in s1
    s2 = text[text.index("Твърдение s2") :].split("\n\n")[0]
    assert s2.count("Нито да, нито не") == 2
    assert "Statement" not in text and "Strongly" not in text


async def test_a_post_survey_without_pre_answers_shows_no_comparison(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(
        session_maker,
        tmp_path / "lessons",
        {"01-pre.yaml": survey("pre", ["s1"]), "02-post.yaml": survey("post", ["s1"])},
    )
    await create_learner(session_maker, 8102)
    user = standin.add_user(8102, first_name="Ola", language_code="en")
    # Straight to the post-survey: nothing from before to set beside it.
    await user.send("/lessons")
    catalogue = await user.next_message()
    await user.press(catalogue["reply_markup"]["inline_keyboard"][0][0]["text"])
    await user.wait_for(lambda m: "🆕 Survey post" in str(m.get("reply_markup")))
    await user.press("🆕 Survey post")
    await user.wait_for(lambda m: "Survey post ·" in m.get("text", ""))
    await user.press("Start the survey ▶")
    await user.wait_for(lambda m: "Statement s1" in m.get("text", "") and "reply_markup" in m)
    await user.press("4 · Agree")
    end = await user.wait_for(lambda m: "Thank you for your answers" in m.get("text", ""))
    assert "then and now" not in end["text"]
    assert "Statement s1" not in end["text"]
