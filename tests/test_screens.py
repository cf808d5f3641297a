"""The screens a learner sees of a lesson (``learntogether.screens``), which the bot sends and the
console's preview draws: their texts and button rows, in the learner's language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from learntogether import screens
from learntogether.content.render import RenderedLesson, render_lesson
from learntogether.content.schema import LessonDocument
from learntogether.i18n import create_i18n
from learntogether.screens import Action, Layout, feedback_text, question_layout, step_layout
from learntogether.services.quizzes import judge
from learntogether.telegram_html import parse_html
from tests.content.samples import every_kind_lesson, lesson

I18N = create_i18n()


@pytest.fixture(autouse=True)
def bulgarian() -> Iterator[None]:
    with I18N.context(), I18N.use_locale("bg"):
        yield


def _rendered(data: dict[str, Any], chain: tuple[str, ...] = ("bg", "en")) -> RenderedLesson:
    return render_lesson(LessonDocument.model_validate({"slug": "a-lesson", **data}), chain)


def _labels(layout: Layout) -> list[list[tuple[str, Action, int]]]:
    return [[(button.text, button.action, button.value) for button in row] for row in layout.rows]


def test_a_step_with_a_link_has_the_link_alone_then_the_way_on() -> None:
    rendered = _rendered(lesson())
    first, last = (
        step_layout(rendered, 0, show_notice=True),
        step_layout(rendered, 1, show_notice=True),
    )
    assert first.text.startswith("<b>Какво е сегрегация</b> · стъпка 1 от 2")
    assert _labels(first) == [[("Напред ▶", Action.NEXT, 1)]]
    assert _labels(last)[0] == [("Прочетете", Action.LINK, 0)]
    assert last.rows[0][0].url == "https://hudoc.echr.coe.int/"
    assert _labels(last)[1] == [
        ("◀ Назад", Action.BACK, 0),
        ("Започване на теста ▶", Action.START_QUIZ, 0),
    ]


def test_a_survey_and_a_lesson_without_a_quiz_end_differently() -> None:
    survey = _rendered(
        {
            **every_kind_lesson(),
            "quiz": {"questions": [every_kind_lesson()["quiz"]["questions"][3]]},
        }
    )
    assert step_layout(survey, 1, show_notice=False).rows[-1][-1].action is Action.START_QUIZ
    assert "анкетата" in step_layout(survey, 1, show_notice=False).rows[-1][-1].text
    plain = _rendered({k: v for k, v in lesson().items() if k != "quiz"})
    assert step_layout(plain, 1, show_notice=False).rows[-1][-1].action is Action.FINISH


def test_the_notice_says_when_the_lesson_falls_back() -> None:
    english_only = _rendered(every_kind_lesson())
    # What is true: not in Bulgarian, shown in English.
    notice = "Този урок все още не е на български; ето го на английски."
    assert notice in step_layout(english_only, 0, show_notice=True).text
    assert notice not in step_layout(english_only, 0, show_notice=False).text


def test_each_kind_of_question_has_its_buttons() -> None:
    questions = _rendered(every_kind_lesson()).questions
    single, multiple = questions[0], questions[1]
    assert _labels(question_layout(single, 0, 5)) == [
        [("A", Action.CHOOSE, 0)],
        [("B", Action.CHOOSE, 1)],
    ]
    ticked = question_layout(multiple, 1, 5, mask=0b101)
    assert [row[0].text for row in ticked.rows] == ["☑ A", "☐ B", "☑ C", "Изпращане"]
    assert ticked.rows[-1][0].value == 0b101
    kinds = {question.kind: question for question in questions}
    likert = question_layout(kinds["likert"], 3, 5)
    assert [row[0].value for row in likert.rows] == [1, 2, 3, 4, 5]
    assert _labels(question_layout(kinds["open"], 4, 5)) == [[("Пропускане", Action.SKIP, 0)]]


def test_long_options_are_listed_in_the_text_with_letter_buttons_four_a_row() -> None:
    data = every_kind_lesson()
    long = "A rather long option that does not fit on a Telegram button"
    data["quiz"]["questions"][0]["options"] = [
        {"text": {"en": f"{long} {n}"}, "correct": n == 0} for n in range(5)
    ]
    question = _rendered(data).questions[0]
    layout = question_layout(question, 0, 5)
    assert f"<b>A</b>. {long} 0" in layout.text
    assert [len(row) for row in layout.rows] == [4, 1]


def test_a_poll_question_has_no_buttons() -> None:
    question = _rendered(lesson()).questions[0]
    layout = question_layout(question, 0, 2, lead="✅")
    assert layout.rows == ()
    assert layout.text.startswith("✅\n\n<b>Въпрос 1 от 2</b>")


def test_feedback_for_one_option_and_for_a_multiple_choice() -> None:
    questions = _rendered(every_kind_lesson()).questions
    right = judge(questions[0], [1])
    assert feedback_text(**vars(right)) == "✅ Правилно!\nAbout B.\nB it is."
    missed = judge(questions[1], [1])
    text = feedback_text(**vars(missed))
    assert text is not None
    assert "❌ <b>B</b> — About B." in text
    assert "<b>A</b>, <b>C</b>" in text
    likert = judge(questions[3], [4])
    assert likert.correct is None and feedback_text(**vars(likert)) is None


def test_a_steps_text_is_parsed_once_however_many_learners_see_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parses: list[str] = []

    def counted(text: str) -> tuple[str, list[dict[str, Any]]]:
        parses.append(text)
        return parse_html(text)

    monkeypatch.setattr(screens, "parse_html", counted)
    screens.parsed.cache_clear()
    screens.visible_length.cache_clear()
    rendered = _rendered(lesson())
    texts = {step_layout(rendered, 1, show_notice=True).text for _learner in range(3)}
    assert len(texts) == 1
    text = texts.pop()
    assert screens.parsed(text)[0] == screens.plain(text)
    assert screens.visible_length(text) == len(screens.plain(text))
    assert parses == [text]
