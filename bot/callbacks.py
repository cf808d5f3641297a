"""Callback data of every button: short prefixes and numbers, well inside Telegram's 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageChoice(CallbackData, prefix="lg"):
    code: str


class RoleChoice(CallbackData, prefix="rl"):
    role: str


class ConsentChoice(CallbackData, prefix="cs"):
    agree: bool


class SkipMunicipality(CallbackData, prefix="mu"):
    pass


class EraseChoice(CallbackData, prefix="er"):
    confirm: bool


class CataloguePage(CallbackData, prefix="ct"):
    page: int


class TrackPage(CallbackData, prefix="tk"):
    track_id: int
    page: int


class OpenLesson(CallbackData, prefix="ol"):
    lesson_id: int


class GoToStep(CallbackData, prefix="st"):
    progress_id: int
    version_id: int
    index: int


class StartQuiz(CallbackData, prefix="sq"):
    progress_id: int
    version_id: int


class FinishLesson(CallbackData, prefix="fn"):
    progress_id: int
    version_id: int


class Choose(CallbackData, prefix="an"):
    """One option of a single or true_false question, or one point of a likert scale."""

    attempt_id: int
    index: int
    option: int


class Toggle(CallbackData, prefix="tg"):
    """A multiple-choice option pressed; ``mask`` is the selection after the press."""

    attempt_id: int
    index: int
    mask: int


class Submit(CallbackData, prefix="sb"):
    attempt_id: int
    index: int
    mask: int


class SkipQuestion(CallbackData, prefix="sk"):
    attempt_id: int
    index: int


class NextQuestion(CallbackData, prefix="nq"):
    attempt_id: int
    index: int


class SettingsMenu(CallbackData, prefix="se"):
    """Open one part of /settings: lang, role, place, time, zone, quiet, toggle, back."""

    part: str


class ReminderAt(CallbackData, prefix="ra"):
    minutes: int
    """Minutes after midnight, in the learner's time zone."""


class TimeZoneChoice(CallbackData, prefix="tz"):
    zone: str


class QuietHoursChoice(CallbackData, prefix="qh"):
    start: int
    end: int
    """Hours; start == end clears quiet hours."""


class CohortAction(CallbackData, prefix="co"):
    """A mediator's action on a cohort: view, nudge, event (workshop check-in), cast (message)."""

    action: str
    code: str


class BroadcastWhen(CallbackData, prefix="bw"):
    when: str
