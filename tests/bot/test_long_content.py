"""Content longer than one Telegram message goes out in parts cut between paragraphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.views import split_message
from learntogether.runtime import BotParts
from learntogether.screens import MESSAGE_LIMIT, visible_length
from tests.factories import create_learner, import_sample_curriculum
from tests.standin import BotAPIStandIn, button_texts

PARAGRAPH = "<b>Mixed classes</b> help every child learn. " * 20  # about 900 characters


def long_text(paragraphs: int, tag: str) -> str:
    return "\n\n".join(f"{tag} {number}: {PARAGRAPH}" for number in range(paragraphs))


def test_short_text_is_one_part() -> None:
    assert split_message("<b>Hello</b>") == ["<b>Hello</b>"]


def test_long_text_is_cut_between_paragraphs_and_loses_nothing() -> None:
    text = long_text(10, "Part")
    parts = split_message(text)
    assert len(parts) == 2
    assert all(visible_length(part) <= MESSAGE_LIMIT for part in parts)
    assert "\n\n".join(parts) == text


def test_limit_counts_visible_utf16_characters_not_markup() -> None:
    # 2000 tags' worth of markup around 4000 visible characters still fits one message.
    text = "<b>x</b>" * 4000
    assert split_message(text) == [text]
    # Emoji outside the basic plane count twice, as Telegram counts them.
    assert len(split_message("😀" * 2049)) == 2


def test_one_huge_paragraph_is_cut_between_lines_then_words() -> None:
    lines = "\n".join(["word " * 100] * 20)
    parts = split_message(lines)
    assert len(parts) > 1
    assert all(visible_length(part) <= MESSAGE_LIMIT for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(lines.split())


def test_formatting_spanning_a_forced_cut_goes_out_as_plain_text() -> None:
    text = "<b>" + "bold words " * 500 + "</b>"
    parts = split_message(text)
    assert len(parts) == 2
    assert all("<b>" not in part for part in parts)
    assert "".join(parts) == "bold words " * 500


def feedback_lesson() -> dict[str, Any]:
    def text(value: str) -> dict[str, str]:
        return {"en": value}

    return {
        "title": text("Long answers"),
        "audience": ["teacher"],
        "minutes": 3,
        "locales": ["en"],
        "steps": [{"text": text("Read on.")}],
        "quiz": {
            "pass_score": 50,
            "questions": [
                {
                    "key": "long",
                    "kind": "single",
                    "text": text("Pick A."),
                    "options": [
                        {"text": text("A"), "correct": True, "feedback": text("F: right.")},
                        {"text": text("B")},
                    ],
                    # Within the 4096 limit alone, over it with the verdict and the score.
                    "explanation": text(long_text(5, "E") + "\n\nE end: " + "x" * 190),
                }
            ],
        },
        "sources": [{"title": "A source", "publisher": "A publisher", "year": 2024}],
    }


@pytest.fixture
async def curriculum(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await import_sample_curriculum(
        session_maker, tmp_path / "lessons", {"01-long.yaml": feedback_lesson()}
    )


@pytest.mark.usefixtures("curriculum")
async def test_feedback_longer_than_a_message_arrives_whole_in_parts(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 6501)
    ana = standin.add_user(6501, first_name="Ana", language_code="en")
    await ana.send("/lessons")
    catalogue = await ana.next_message()
    await ana.press(button_texts(catalogue)[0])
    await ana.wait_for(lambda m: "Long answers" in m["text"])
    await ana.press("🆕 Long answers")
    await ana.wait_for(lambda m: "Read on." in m["text"])
    await ana.press("Start the quiz ▶")
    await ana.wait_for(lambda m: "Pick A." in m["text"])
    await ana.press("A")
    last = await ana.wait_for(lambda m: "Try again" in button_texts(m))
    question = ana.messages[-2]
    assert "✅ Right!" in question["text"] and "F: right." in question["text"]
    assert button_texts(question) == []
    assert "Passed!" in last["text"]
    whole = question["text"] + last["text"]
    assert [f"E {number}:" in whole for number in range(5)] == [True] * 5
    assert "E end:" in whole
    assert standin.unanswered_callback_queries() == []
