"""A lesson as a learner sees it in Telegram: each step's and each question's text and buttons.

The bot (``bot.views``) sends these screens with its callback data on the buttons; the console's
curriculum preview draws the very same screens as chat bubbles, so the two cannot drift apart.
Texts go through aiogram's context gettext: the caller sets the learner's locale
(``I18n.use_locale``), as the bot's middleware does for every update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from learntogether.content.render import RenderedLesson, RenderedQuestion
from learntogether.db.models import QuestionKind
from learntogether.services.player import SCORED, language_notice
from learntogether.services.quizzes import LIKERT_POINTS, ChosenOption
from learntogether.telegram_html import Entity, TelegramHTMLError, parse_html, utf16_length

MESSAGE_LIMIT = 4096
PARSED_KEPT = 2048
BUTTON_TEXT_LIMIT = 40


class Action(StrEnum):
    """What a button does; the bot turns each into its callback data."""

    LINK = "link"
    BACK = "back"
    NEXT = "next"
    START_QUIZ = "start_quiz"
    FINISH = "finish"
    CHOOSE = "choose"
    TOGGLE = "toggle"
    SUBMIT = "submit"
    SKIP = "skip"


@dataclass(frozen=True)
class Button:
    text: str
    action: Action
    value: int = 0
    """The step to go to (back, next), the option (choose, toggle) or the likert point (choose)."""
    url: str | None = None
    """The page a link button opens."""


@dataclass(frozen=True)
class Layout:
    """One message: its text in Telegram's HTML subset, and its inline keyboard row by row."""

    text: str
    rows: tuple[tuple[Button, ...], ...] = ()


@lru_cache(maxsize=PARSED_KEPT)
def parsed(text: str) -> tuple[str, tuple[Entity, ...]]:
    """``parse_html(text)``, kept: a screen's text is parsed to fit it, to cut it into messages
    and to compare it with the message shown, and a step's or question's text is the same for
    every learner on it. The entities are shared: read them, never change them."""
    shown, entities = parse_html(text)
    return shown, tuple(entities)


def plain(text: str) -> str:
    """The text Telegram shows once tags are parsed (markup it would refuse counts as text)."""
    try:
        shown, _entities = parsed(text)
    except TelegramHTMLError:
        return text
    return shown


@lru_cache(maxsize=PARSED_KEPT)
def visible_length(text: str) -> int:
    """What Telegram counts against its limits: UTF-16 units of the text once tags are parsed."""
    return utf16_length(plain(text))


def fit(*parts: str | None, required: str) -> str:
    """Join the parts around ``required``, dropping optional ones until the text fits."""
    optional = [part for part in parts if part]
    while optional:
        text = "\n\n".join([*optional, required])
        if visible_length(text) <= MESSAGE_LIMIT:
            return text
        optional.pop(0)
    return required


def _chunks(buttons: Sequence[Button], size: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[start : start + size]) for start in range(0, len(buttons), size)]


def graded(lesson: RenderedLesson) -> bool:
    """Whether the quiz has a question with a right answer (else it is a survey)."""
    return any(QuestionKind(question.kind) in SCORED for question in lesson.questions)


def step_layout(
    lesson: RenderedLesson, index: int, *, show_notice: bool, spoken: bool = False
) -> Layout:
    """Step ``index`` of the lesson: its header, the text, a link, and the way on. ``spoken``: the
    step goes as its recording, and the header (with the language notice) is its caption."""
    current = lesson.steps[index]
    count = len(lesson.steps)
    header = _("<b>{title}</b> · step {number} of {count}").format(
        title=html.quote(lesson.title), number=index + 1, count=count
    )
    notice = language_notice(lesson, I18n.get_current(no_error=False)) if show_notice else None
    rows: list[tuple[Button, ...]] = []
    if current.link_url and current.link_label:
        rows.append((Button(current.link_label, Action.LINK, url=current.link_url),))
    navigation: list[Button] = []
    if index > 0:
        navigation.append(Button(_("◀ Back"), Action.BACK, index - 1))
    if index < count - 1:
        navigation.append(Button(_("Next ▶"), Action.NEXT, index + 1))
    elif lesson.questions:
        label = _("Start the quiz ▶") if graded(lesson) else _("Start the survey ▶")
        navigation.append(Button(label, Action.START_QUIZ))
    else:
        navigation.append(Button(_("Finish the lesson ✅"), Action.FINISH))
    rows.append(tuple(navigation))
    if spoken:
        # The caption of a voice note (1,024 characters): the header, and the notice that says
        # which language the lesson is in when it is not the learner's, as above a text step.
        return Layout("\n\n".join(filter(None, ["🔊 " + header, notice])), tuple(rows))
    return Layout(fit(header, notice, required=current.text), tuple(rows))


def likert_labels(gettext: Callable[[str], str] = _) -> list[str]:
    """The five points of the agreement scale, from 1 to 5, in the reader's language: the bot's
    context by default, or the ``gettext`` a page gives."""
    return [
        gettext("Strongly disagree"),
        gettext("Disagree"),
        gettext("Neither"),
        gettext("Agree"),
        gettext("Strongly agree"),
    ]


def question_layout(
    question: RenderedQuestion,
    index: int,
    count: int,
    *,
    mask: int = 0,
    lead: str | None = None,
    header: str | None = None,
) -> Layout:
    """Question ``index`` of ``count`` and its buttons; ``mask`` holds the options ticked so far
    (multiple choice); ``lead`` is the feedback on the answer just given, shown above it so that
    one tap both answers and moves on. A poll question's options come as a Telegram poll.
    ``header`` replaces "Question n of m" (a review says so)."""
    kind = QuestionKind(question.kind)
    if header is None:
        header = _("<b>Question {number} of {count}</b>").format(number=index + 1, count=count)
    if question.poll:
        return Layout(fit(lead, header, required=_("Answer in the quiz below.")))
    letters = [chr(ord("A") + number) for number in range(len(question.options))]
    short = all(len(option.text) <= BUTTON_TEXT_LIMIT for option in question.options)
    body = [question.text]
    rows: list[tuple[Button, ...]]
    if kind is QuestionKind.LIKERT:
        body.append(_("How much do you agree?"))
        labels = likert_labels()
        rows = [
            (Button(f"{point} · {labels[point - 1]}", Action.CHOOSE, point),)
            for point in range(1, LIKERT_POINTS + 1)
        ]
    elif kind is QuestionKind.OPEN:
        body.append(_("Write your answer in a message, or skip this question."))
        rows = [(Button(_("Skip"), Action.SKIP),)]
    else:
        if not short:
            body.append(
                "\n".join(
                    f"<b>{letter}</b>. {option.text}"
                    for letter, option in zip(letters, question.options, strict=True)
                )
            )
        if kind is QuestionKind.MULTIPLE:
            body.append(_("Choose all that apply, then press Submit."))
        buttons = []
        for number, (letter, option) in enumerate(zip(letters, question.options, strict=True)):
            label = option.text if short else letter
            if kind is QuestionKind.MULTIPLE:
                ticked = "☑" if mask & (1 << number) else "☐"
                buttons.append(Button(f"{ticked} {label}", Action.TOGGLE, number))
            else:
                buttons.append(Button(label, Action.CHOOSE, number))
        rows = _chunks(buttons, 1 if short else min(len(letters), 4))
        if kind is QuestionKind.MULTIPLE:
            rows.append((Button(_("Submit"), Action.SUBMIT, mask),))
    return Layout(fit(lead, header, required="\n\n".join(body)), tuple(rows))


def feedback_text(
    *,
    correct: bool | None,
    feedback: str | None,
    explanation: str | None,
    chosen: Sequence[ChosenOption] = (),
    right: Sequence[str] = (),
) -> str | None:
    """Right or wrong, what the chosen options say and the explanation, each said once.

    A multiple-choice answer shows every chosen option with its feedback, and the right set
    when the answer missed it. Likert statements and open questions have none: they move on.
    """
    if correct is None:
        return None
    lines = [_("✅ Right!") if correct else _("❌ Not quite.")]
    if chosen:
        for option in chosen:
            mark = "✅" if option.correct else "❌"
            said = f" — {option.feedback}" if option.feedback else ""
            lines.append(f"{mark} <b>{option.text}</b>{said}")
        if not correct:
            options = ", ".join(f"<b>{text}</b>" for text in right)
            lines.append(_("The right answers: {options}").format(options=options))
    elif feedback:
        lines.append(feedback)
    if explanation and explanation not in (feedback, *lines):
        lines.append(explanation)
    return "\n".join(lines)
