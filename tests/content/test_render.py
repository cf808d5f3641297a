"""Which recording a reader hears: their own language's, else that of the text they are shown."""

from __future__ import annotations

import pytest

from learntogether.content.render import render_lesson
from learntogether.content.schema import LessonDocument
from tests.content.samples import lesson

BG, ROM, EN = "b" * 64, "c" * 64, "e" * 64


def _recorded(**audio: str) -> LessonDocument:
    data = lesson(slug="recorded")
    data["steps"][0]["audio"] = {code: {"sha256": sha} for code, sha in audio.items()}
    return LessonDocument.model_validate(data)


@pytest.mark.parametrize(
    ("audio", "chain", "heard"),
    [
        ({"bg": BG}, ["bg", "en"], BG),
        # A Romani reader hears Romani, though the step has no Romani text …
        ({"bg": BG, "rom": ROM}, ["rom", "bg", "en"], ROM),
        # … and else the Bulgarian they are shown the text in.
        ({"bg": BG}, ["rom", "bg", "en"], BG),
        # Never a language they neither chose nor are shown.
        ({"bg": BG}, ["en"], None),
        ({"rom": ROM}, ["bg", "en"], None),
        # A Spanish reader shown the English text (no Spanish) hears the English recording.
        ({"en": EN}, ["es", "en"], EN),
        ({}, ["bg", "en"], None),
    ],
)
def test_the_recording_heard_is_the_readers_language_else_the_texts(
    audio: dict[str, str], chain: list[str], heard: str | None
) -> None:
    rendered = render_lesson(_recorded(**audio), chain)

    assert rendered.steps[0].recording == heard
    assert rendered.steps[1].recording is None
