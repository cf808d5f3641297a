"""A link's button goes only to learners who can read its page."""

from __future__ import annotations

from learntogether.content.render import render_lesson
from learntogether.content.schema import LessonDocument
from tests.content.samples import lesson

ES_PAGE = "https://www.gitanos.org/que-hacemos/areas/education/promociona.html"
EN_PAGE = ES_PAGE + ".en"


def _lesson_with_link(**link: object) -> LessonDocument:
    data = lesson(slug="links")
    data["steps"][1]["link"] = {"url": EN_PAGE, "label": {"en": "Read", "bg": "Прочетете"}, **link}
    return LessonDocument.model_validate(data)


def test_a_link_without_languages_goes_to_every_learner() -> None:
    rendered = render_lesson(_lesson_with_link(), ["bg", "en"])
    assert (rendered.steps[1].link_url, rendered.steps[1].link_label) == (EN_PAGE, "Прочетете")


def test_a_learner_who_cannot_read_the_page_gets_no_button() -> None:
    rendered = render_lesson(_lesson_with_link(languages=["en"]), ["bg", "en"])
    assert (rendered.steps[1].link_url, rendered.steps[1].link_label) == (None, None)


def test_a_learner_gets_the_page_in_their_own_language_when_there_is_one() -> None:
    document = _lesson_with_link(languages=["en"], translations={"bg": ES_PAGE})
    assert render_lesson(document, ["bg", "en"]).steps[1].link_url == ES_PAGE
    assert render_lesson(document, ["en"]).steps[1].link_url == EN_PAGE
