"""The notice above a lesson that is not in the learner's language names the languages in the
language of its own sentence, for a Romani learner too (whose chain of catalogs is ``rom>bg``),
above a text step and in a voice step's caption alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.utils.i18n import I18n

from learntogether.content.render import RenderedLesson, render_lesson
from learntogether.content.schema import LessonDocument
from learntogether.i18n import create_i18n, sentence_gettext
from learntogether.screens import step_layout
from learntogether.services.player import NOT_YET_IN, language_notice
from tests.content.samples import every_kind_lesson, lesson

I18N = create_i18n()
ROMANI_READING_BULGARIAN = "rom>bg"


def _rendered(data: dict[str, Any], chain: tuple[str, ...]) -> RenderedLesson:
    return render_lesson(LessonDocument.model_validate({"slug": "a-lesson", **data}), chain)


@pytest.fixture
def romani_reader() -> Iterator[None]:
    with I18N.context(), I18N.use_locale(ROMANI_READING_BULGARIAN):
        yield


@pytest.mark.usefixtures("romani_reader")
def test_a_bulgarian_sentence_names_romani_in_bulgarian() -> None:
    # The Romani catalog names Romani ("romani") but has no such sentence: all of it in Bulgarian.
    assert I18N.gettext("Romani", locale="rom") == "romani"
    bulgarian_lesson = _rendered(lesson(), ("rom", "bg", "en"))
    notice = language_notice(bulgarian_lesson, I18N)
    assert notice == "<i>Този урок все още не е на ромски; ето го на български.</i>"
    assert notice in step_layout(bulgarian_lesson, 0, show_notice=True).text


@pytest.mark.usefixtures("romani_reader")
def test_a_voice_steps_caption_says_the_same_notice() -> None:
    english_lesson = _rendered(every_kind_lesson(), ("rom", "bg", "en"))
    caption = step_layout(english_lesson, 0, show_notice=True, spoken=True).text
    assert "<i>Този урок все още не е на ромски; ето го на английски.</i>" in caption
    assert "romani" not in caption


def test_parts_in_other_languages_are_named_like_the_sentence() -> None:
    title_only = {"en": "Every kind", "bg": "Всякакви"}
    partly = _rendered(
        {**every_kind_lesson(), "title": title_only, "partial": ["bg"]}, ("bg", "en")
    )
    assert (partly.locale, partly.fallback_locales) == ("bg", ["en"])
    assert language_notice(partly, I18N, "bg") == (
        "<i>Части от този урок все още не са на български; те са на английски.</i>"
    )


def _catalog(root: Path, code: str, entries: dict[str, str]) -> None:
    folder = root / code / "LC_MESSAGES"
    folder.mkdir(parents=True)
    body = "".join(f'msgid "{source}"\nmsgstr "{target}"\n\n' for source, target in entries.items())
    (folder / "messages.po").write_text(
        f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n{body}',
        encoding="utf-8",
    )


def test_a_sentence_the_first_catalog_has_takes_its_words_from_it(tmp_path: Path) -> None:
    _catalog(
        tmp_path,
        "rom",
        {
            NOT_YET_IN: "<i>Kado sikhipen nai pe {language}; si pe {shown}.</i>",
            "Romani": "romani čhib",
            "Bulgarian": "bulgarikani čhib",
        },
    )
    _catalog(
        tmp_path,
        "bg",
        {
            NOT_YET_IN: "<i>Не е на {language}; ето го на {shown}.</i>",
            "Romani": "ромски",
            "Bulgarian": "български",
        },
    )
    i18n: I18n = create_i18n(path=tmp_path)
    bulgarian_lesson = _rendered(lesson(), ("rom", "bg", "en"))
    assert language_notice(bulgarian_lesson, i18n, "rom>bg") == (
        "<i>Kado sikhipen nai pe romani čhib; si pe bulgarikani čhib.</i>"
    )
    # A chain none of whose catalogs has the sentence says it in English, names and all.
    assert sentence_gettext(i18n, "Not in any catalog", "rom>bg")("Romani") == "Romani"
