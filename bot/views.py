"""Screens: the text and keyboard of each thing the bot shows, in the learner's language.

A screen aims at one Telegram message (4096 characters after entities are parsed): optional parts
(a header, a notice) are left out first. What is still too long goes out as several messages,
cut between paragraphs, and the keyboard rides on the last one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiogram import html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import EditMessageText
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.callbacks import (
    CataloguePage,
    Choose,
    FinishLesson,
    GoToStep,
    OpenLesson,
    ReviewChoice,
    SkipQuestion,
    StartQuiz,
    Submit,
    Toggle,
    TrackPage,
)
from bot.keyboards import InlineKeyboardBuilder
from learntogether import screens
from learntogether.screens import (
    BUTTON_TEXT_LIMIT,
    MESSAGE_LIMIT,
    Action,
    Button,
    Layout,
    fit,
    likert_labels,
    parsed,
    plain,
    visible_length,
)
from learntogether.services.before_after import StatementChange
from learntogether.services.catalogue import DONE, IN_PROGRESS, LessonEntry, TrackEntry
from learntogether.services.player import PlayerView
from learntogether.services.quizzes import AnswerOutcome, QuestionView, QuizResult
from learntogether.services.review import ReviewAnswer, ReviewDone, ReviewQuestion
from learntogether.telegram_html import TelegramHTMLError, shorten, utf16_length

CAPTION_LIMIT = 1024
PAGE_SIZE = 6
CONTINUE_TEXT_LIMIT = 60
STATUS_ICONS = {DONE: "✅", IN_PROGRESS: "▶️"}
NEW_ICON = "🆕"


class EditShown(EditMessageText):
    """``editMessageText`` for a caller that does not read the message back: Telegram's answer
    (the whole message, every button of its keyboard) is kept as JSON, not built into models (a
    pydantic model and its private attributes a button, 15% of the bot's Python time in the
    lesson path)."""

    __returning__ = dict[str, Any] | bool


@dataclass(frozen=True)
class Screen:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


async def show(query: CallbackQuery, screen: Screen) -> None:
    """Edit the message the button was on in place (a double tap changes nothing, and is fine).

    A screen the message already shows is not sent again: Telegram would refuse the edit ("message
    is not modified"), and under load every refused call still costs a request. A screen too long
    for one message edits in its first part and sends the rest after it. A voice note cannot
    become text: it is replaced by a new message.
    """
    if not isinstance(query.message, Message):
        return
    if query.message.voice is not None:
        if await _retire(query.message):
            await send(query.message, screen)
        return
    first, *rest = split_message(screen.text)
    keyboard = None if rest else screen.keyboard
    if not shows(query.message, first, keyboard):
        try:
            await EditShown(
                chat_id=query.message.chat.id,
                message_id=query.message.message_id,
                business_connection_id=query.message.business_connection_id,
                text=first,
                reply_markup=keyboard,
            ).as_(query.message.bot)
        except TelegramBadRequest as error:
            # Two taps racing each other can still meet an edit that the other one made.
            if "message is not modified" not in error.message:
                raise
    await _send_parts(query.message, rest, screen.keyboard)


async def show_voice(
    query: CallbackQuery, screen: Screen, voice: InputFile | str, duration: int
) -> Message | None:
    """Replace the message the button was on by a voice note (Telegram edits no message into
    one) with ``screen`` as its caption and keyboard; None when a quicker tap already did."""
    if not isinstance(query.message, Message) or not await _retire(query.message):
        return None
    return await query.message.answer_voice(
        voice, caption=screen.text, reply_markup=screen.keyboard, duration=duration
    )


async def _retire(message: Message) -> bool:
    """Take ``message`` away for the one replacing it; False when it is gone already (another
    tap replaced it: that tap sends the replacement). A message too old for the bot to delete
    keeps its text and loses its buttons."""
    try:
        await message.delete()
    except TelegramBadRequest as error:
        if "message to delete not found" in error.message:
            return False
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=None)
    return True


def shows(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> bool:
    """Whether ``message`` already shows ``text`` (Telegram HTML) with ``keyboard``.

    Compared as Telegram stores a message, the plain text and its entities, rather than as HTML
    (the same message has many HTML spellings).
    """
    try:
        plain, entities = parsed(text)
    except TelegramHTMLError:
        return False
    if (message.text or "") != plain:
        return False
    shown_entities = [
        entity.model_dump(mode="json", exclude_none=True) for entity in message.entities or []
    ]
    if _entity_set(shown_entities) != _entity_set(entities):
        return False
    return _markup(message.reply_markup) == _markup(keyboard)


def _entity_set(entities: Sequence[dict[str, Any]]) -> set[tuple[tuple[str, str], ...]]:
    return {
        tuple(sorted((key, str(value)) for key, value in entity.items())) for entity in entities
    }


def _markup(keyboard: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    if keyboard is None or not keyboard.inline_keyboard:
        return None
    return keyboard.model_dump(mode="json", exclude_none=True)


async def send(message: Message, screen: Screen) -> Message | None:
    """Send a screen as a new message (or several, when it is longer than Telegram allows);
    the last message sent."""
    return await _send_parts(message, split_message(screen.text), screen.keyboard)


async def _send_parts(
    message: Message, parts: list[str], keyboard: InlineKeyboardMarkup | None
) -> Message | None:
    sent = None
    for number, part in enumerate(parts, start=1):
        sent = await message.answer(part, reply_markup=keyboard if number == len(parts) else None)
    return sent


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut ``text`` into messages of at most ``limit`` visible characters, losing nothing.

    Cuts fall between paragraphs, else between lines, else between words. A piece whose cut would
    leave a tag open (formatting that spans the cut) goes out as plain text instead.
    """
    return [part for part in _split(text, limit, 0) if part.strip()]


_SEPARATORS = ("\n\n", "\n", " ")


def _split(text: str, limit: int, level: int) -> list[str]:
    if visible_length(text) <= limit:
        return [text]
    if level == len(_SEPARATORS):
        return _plain_chunks(text, limit)
    separator = _SEPARATORS[level]
    parts: list[str] = []
    current: str | None = None
    for piece in text.split(separator):
        candidate = piece if current is None else current + separator + piece
        if visible_length(candidate) <= limit:
            current = candidate
            continue
        if current is not None:
            parts.append(current)
        current = piece
        if visible_length(piece) > limit:
            parts.extend(_split(piece, limit, level + 1))
            current = None
    if current is not None:
        parts.append(current)
    if not all(_balanced(part) for part in parts):
        return _plain_chunks(text, limit)
    return parts


def _balanced(text: str) -> bool:
    try:
        parsed(text)
    except TelegramHTMLError:
        return False
    return True


def _plain_chunks(text: str, limit: int) -> list[str]:
    shown = plain(text)
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for char in shown:
        width = utf16_length(char)
        if length + width > limit:
            chunks.append("".join(current))
            current, length = [], 0
        current.append(char)
        length += width
    chunks.append("".join(current))
    return [html.quote(chunk) for chunk in chunks]


def continue_button(lesson: LessonEntry) -> InlineKeyboardButton:
    """``Continue: <title>``, to the learner's next lesson (``catalogue.suggested_lesson``)."""
    return InlineKeyboardButton(
        text=shorten(_("Continue: {title}").format(title=lesson.title), CONTINUE_TEXT_LIMIT),
        callback_data=OpenLesson(lesson_id=lesson.lesson_id).pack(),
    )


def continue_keyboard(lesson: LessonEntry | None) -> InlineKeyboardMarkup | None:
    """The one way forward of an end screen: the next lesson, when there is one left."""
    if lesson is None:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[continue_button(lesson)]])


def _icon(status: str) -> str:
    return STATUS_ICONS.get(status, NEW_ICON)


def catalogue(tracks: list[TrackEntry], page: int) -> Screen:
    if not tracks:
        return Screen(_("There are no lessons yet. Please come back soon."))
    pages = max(1, -(-len(tracks) // PAGE_SIZE))
    page = max(0, min(page, pages - 1))
    shown = tracks[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    builder = InlineKeyboardBuilder()
    lines = []
    for track in shown:
        lines.append(
            f"{_icon(track.status)} <b>{html.quote(track.title)}</b> — {track.done}/{len(track.lessons)}"
        )
        builder.button(
            text=shorten(f"{_icon(track.status)} {track.title}", BUTTON_TEXT_LIMIT),
            callback_data=TrackPage(track_id=track.track_id, page=0),
        )
    builder.adjust(1)
    _pager(builder, page, pages, lambda number: CataloguePage(page=number))
    header = _(
        "<b>Lessons</b> — the tracks for your role come first.\n✅ done · ▶️ started · 🆕 new"
    )
    return Screen(fit(header, required="\n".join(lines)), builder.as_markup())


def track(entry: TrackEntry, page: int) -> Screen:
    pages = max(1, -(-len(entry.lessons) // PAGE_SIZE))
    page = max(0, min(page, pages - 1))
    shown = entry.lessons[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    builder = InlineKeyboardBuilder()
    lines = []
    for lesson in shown:
        lines.append(_lesson_line(lesson))
        builder.button(
            text=shorten(f"{_icon(lesson.status)} {lesson.title}", BUTTON_TEXT_LIMIT),
            callback_data=OpenLesson(lesson_id=lesson.lesson_id),
        )
    builder.adjust(1)
    _pager(builder, page, pages, lambda number: TrackPage(track_id=entry.track_id, page=number))
    builder.row(
        InlineKeyboardButton(text=_("◀ All tracks"), callback_data=CataloguePage(page=0).pack())
    )
    title = f"<b>{html.quote(entry.title)}</b> — {entry.done}/{len(entry.lessons)}"
    description = html.quote(entry.description) if entry.description else None
    body = "\n\n".join([certificate_rule(entry), "\n".join(lines)])
    text = "\n\n".join(part for part in (title, description, body) if part)
    if visible_length(text) > MESSAGE_LIMIT:
        text = fit(title, required=body)  # a long description gives way to the lessons
    return Screen(text, builder.as_markup())


def certificate_rule(entry: TrackEntry) -> str:
    """What the track's certificate takes, from its pass rule, said once when it is opened."""
    count = len(entry.lessons)
    required = min(entry.certificate_lessons or count, count)
    if required >= count:
        rule = ngettext(
            "🎓 Certificate: pass the track's lesson.",
            "🎓 Certificate: pass all {count} lessons of the track.",
            count,
        ).format(count=count)
    else:
        rule = ngettext(
            "🎓 Certificate: pass {required} of the track's {count} lessons.",
            "🎓 Certificate: pass {required} of the track's {count} lessons.",
            count,
        ).format(required=required, count=count)
    if entry.certificate_average is not None:
        rule += " " + _("Your average score must reach {percent}%.").format(
            percent=entry.certificate_average
        )
    return f"<i>{rule}</i>"


def _lesson_line(lesson: LessonEntry) -> str:
    return _("{icon} {title} ({minutes} min)").format(
        icon=_icon(lesson.status), title=html.quote(lesson.title), minutes=lesson.minutes
    )


def _pager(
    builder: InlineKeyboardBuilder, page: int, pages: int, make: Callable[[int], CallbackData]
) -> None:
    """A row ◀ n/m ▶ under a list longer than a page."""
    if pages <= 1:
        return
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀", callback_data=make(page - 1).pack()))
    row.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=make(page).pack()))
    if page < pages - 1:
        row.append(InlineKeyboardButton(text="▶", callback_data=make(page + 1).pack()))
    builder.row(*row)


def _keyboard(
    layout: Layout, data: Callable[[Button], CallbackData]
) -> InlineKeyboardMarkup | None:
    """The layout's buttons, each with the callback data ``data`` gives it (links open a page)."""
    if not layout.rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=button.text, url=button.url)
                if button.action is Action.LINK
                else InlineKeyboardButton(text=button.text, callback_data=data(button).pack())
                for button in row
            ]
            for row in layout.rows
        ]
    )


def step(view: PlayerView, *, show_notice: bool, spoken: bool = False) -> Screen:
    """The step as a message, or (``spoken``) as the caption and buttons of its voice note."""
    layout = screens.step_layout(
        view.lesson, view.step_index, show_notice=show_notice, spoken=spoken
    )

    def data(button: Button) -> CallbackData:
        if button.action is Action.START_QUIZ:
            return StartQuiz(progress_id=view.progress_id, version_id=view.version_id)
        if button.action is Action.FINISH:
            return FinishLesson(progress_id=view.progress_id, version_id=view.version_id)
        return GoToStep(
            progress_id=view.progress_id, version_id=view.version_id, index=button.value
        )

    return Screen(layout.text, _keyboard(layout, data))


def question(view: QuestionView, *, mask: int = 0, lead: str | None = None) -> Screen:
    """A question and its buttons; ``lead`` is the feedback on the answer just given, shown
    above it so that one tap both answers and moves on."""
    layout = screens.question_layout(view.question, view.index, view.count, mask=mask, lead=lead)

    def data(button: Button) -> CallbackData:
        attempt, index = view.attempt_id, view.index
        if button.action is Action.TOGGLE:
            return Toggle(attempt_id=attempt, index=index, mask=mask ^ (1 << button.value))
        if button.action is Action.SUBMIT:
            return Submit(attempt_id=attempt, index=index, mask=button.value)
        if button.action is Action.SKIP:
            return SkipQuestion(attempt_id=attempt, index=index)
        return Choose(attempt_id=attempt, index=index, option=button.value)

    return Screen(layout.text, _keyboard(layout, data))


def before_and_after(changes: tuple[StatementChange, ...]) -> str | None:
    """The learner's own answers at the start and now, side by side, without judging them."""
    if not changes:
        return None
    labels = likert_labels()
    lines = [
        _("<b>Your answers, then and now</b>"),
        _("For you alone: how you answered at the start of the track, and today."),
    ]
    for change in changes:
        lines.append(
            _("{statement}\nAt the start: {before} · Today: {after}").format(
                statement=change.statement,
                before=labels[change.before - 1],
                after=labels[change.after - 1],
            )
        )
    return "\n\n".join(lines)


def review_question(view: ReviewQuestion, *, mask: int = 0, lead: str | None = None) -> Screen:
    """A question of a spaced review, with the feedback on the last answer above it; a quiz's
    poll question comes back as buttons."""
    header = _("<b>Review: question {number} of {count}</b>").format(
        number=view.index + 1, count=view.count
    )
    question = replace(view.question, poll=False)
    layout = screens.question_layout(
        question, view.index, view.count, mask=mask, lead=lead, header=header
    )

    def data(button: Button) -> CallbackData:
        review, index = view.review_id, view.index
        if button.action is Action.TOGGLE:
            return ReviewChoice(
                review_id=review, index=index, mask=mask ^ (1 << button.value), done=False
            )
        if button.action is Action.SUBMIT:
            return ReviewChoice(review_id=review, index=index, mask=button.value, done=True)
        return ReviewChoice(review_id=review, index=index, mask=1 << button.value, done=True)

    return Screen(layout.text, _keyboard(layout, data))


def review_feedback(result: ReviewAnswer) -> str:
    """Right or not, the right answer when missed (a review is for learning it), and the
    explanation, each once."""
    lines = [_("✅ Right!") if result.correct else _("❌ Not quite.")]
    if result.feedback:
        lines.append(result.feedback)
    if not result.correct:
        right = ", ".join(f"<b>{text}</b>" for text in result.right)
        lines.append(_("The right answers: {options}").format(options=right))
    if result.explanation and result.explanation not in lines:
        lines.append(result.explanation)
    return "\n".join(lines)


def review_finished(result: ReviewAnswer, done: ReviewDone) -> Screen:
    """The end of a review: the last feedback, how it went, and the way back to the lessons."""
    summary = _(
        "<b>Review done:</b> {correct} of {total} right. Coming back to it is what makes it stay."
    ).format(correct=done.correct, total=done.total)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("All lessons"), callback_data=CataloguePage(page=0))
    return Screen(
        fit(required="\n\n".join([review_feedback(result), summary])), builder.as_markup()
    )


def review_skipped() -> Screen:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("All lessons"), callback_data=CataloguePage(page=0))
    return Screen(_("No review this time. See you soon!"), builder.as_markup())


def poll_question_answered(view: QuestionView, *, lead: str | None = None) -> str:
    """What a poll question's message says once its poll is answered: no stale "answer below"."""
    header = _("<b>Question {number} of {count}</b>").format(
        number=view.index + 1, count=view.count
    )
    return fit(lead, required=header)


def feedback(result: AnswerOutcome) -> str | None:
    """What the learner is told about the answer just given (``screens.feedback_text``)."""
    return screens.feedback_text(
        correct=result.correct,
        feedback=result.feedback,
        explanation=result.explanation,
        chosen=result.chosen,
        right=result.right,
    )


def outcome(result: AnswerOutcome) -> Screen:
    """After the last answer: its feedback, the score against the pass mark, and the way on."""
    parts = [text for text in (feedback(result),) if text]
    builder = InlineKeyboardBuilder()
    if result.result is not None:
        parts.append(summary(result.result))
        mirror = before_and_after(result.before_after)
        # Statements are short; a survey whose texts would not fit one message leaves it out.
        if mirror is not None and visible_length("\n\n".join([*parts, mirror])) <= MESSAGE_LIMIT:
            parts.append(mirror)
        progress = result.player
        ways: list[InlineKeyboardButton] = []
        if result.result.scored:
            retry = StartQuiz(progress_id=progress.progress_id, version_id=progress.version_id)
            ways.append(InlineKeyboardButton(text=_("Try again"), callback_data=retry.pack()))
        if result.next_lesson is not None:
            # After a pass the next lesson comes first; after a fail, trying again does.
            position = 0 if result.result.passed else len(ways)
            ways.insert(position, continue_button(result.next_lesson))
        for button in ways:
            builder.row(button)
        builder.button(text=_("All lessons"), callback_data=CataloguePage(page=0))
        builder.adjust(1)
    return Screen(fit(required="\n\n".join(parts)), builder.as_markup())


def summary(result: QuizResult) -> str:
    if result.percent is None:
        return _("<b>Thank you for your answers!</b>")
    score = _(
        "You answered {correct} of {total} correctly ({percent}%); the pass mark is {pass_mark}%."
    ).format(
        correct=result.correct,
        total=result.scored,
        percent=result.percent,
        pass_mark=result.pass_score or 0,
    )
    verdict = (
        _("<b>Passed!</b> ✅") if result.passed else _("<b>Not passed yet.</b> You can try again.")
    )
    return f"{score}\n{verdict}"


def lesson_finished(next_lesson: LessonEntry | None) -> Screen:
    builder = InlineKeyboardBuilder()
    if next_lesson is not None:
        builder.row(continue_button(next_lesson))
    builder.button(text=_("All lessons"), callback_data=CataloguePage(page=0))
    return Screen(_("<b>Lesson finished.</b> Well done!"), builder.as_markup())
