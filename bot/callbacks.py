"""Callback data of every button: short prefixes and numbers, well inside Telegram's 64 bytes.

Every field is typed to the values the bot itself writes (ids within the database's range, known
roles, languages, hours): a forged or stale button that falls outside them matches no handler
and gets the fallback's polite answer, instead of reaching a service and failing there.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from learntogether.db.models import Role
from learntogether.i18n import SUPPORTED_LOCALES
from learntogether.services import review

# Row ids are 32-bit integers in the database; positions and masks are small.
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Index = Annotated[int, Field(ge=0, le=10_000)]
Mask = Annotated[int, Field(ge=0, le=2**32)]
Hour = Annotated[int, Field(ge=0, le=23)]
Locale = Literal[SUPPORTED_LOCALES]  # type: ignore[valid-type]


class LanguageChoice(CallbackData, prefix="lg"):
    code: Locale


class RoleChoice(CallbackData, prefix="rl"):
    role: Role


class ConsentChoice(CallbackData, prefix="cs"):
    agree: bool


class SkipMunicipality(CallbackData, prefix="mu"):
    pass


class EraseChoice(CallbackData, prefix="er"):
    confirm: bool


class CataloguePage(CallbackData, prefix="ct"):
    page: Index


class TrackPage(CallbackData, prefix="tk"):
    track_id: Id
    page: Index


class OpenLesson(CallbackData, prefix="ol"):
    lesson_id: Id


class GoToStep(CallbackData, prefix="st"):
    progress_id: Id
    version_id: Id
    index: Index


class StartQuiz(CallbackData, prefix="sq"):
    progress_id: Id
    version_id: Id


class FinishLesson(CallbackData, prefix="fn"):
    progress_id: Id
    version_id: Id


class Choose(CallbackData, prefix="an"):
    """One option of a single or true_false question, or one point of a likert scale."""

    attempt_id: Id
    index: Index
    option: Index


class Toggle(CallbackData, prefix="tg"):
    """A multiple-choice option pressed; ``mask`` is the selection after the press."""

    attempt_id: Id
    index: Index
    mask: Mask


class Submit(CallbackData, prefix="sb"):
    attempt_id: Id
    index: Index
    mask: Mask


class SkipQuestion(CallbackData, prefix="sk"):
    attempt_id: Id
    index: Index


class NextQuestion(CallbackData, prefix="nq"):
    attempt_id: Id
    index: Index


class SettingsMenu(CallbackData, prefix="se"):
    """Open one part of /settings: lang, role, place, time, zone, quiet, toggle, back."""

    part: Literal["lang", "role", "place", "time", "zone", "quiet", "toggle", "back"]


class ReminderAt(CallbackData, prefix="ra"):
    minutes: Annotated[int, Field(ge=0, le=24 * 60 - 1)]
    """Minutes after midnight, in the learner's time zone."""


class TimeZoneChoice(CallbackData, prefix="tz"):
    zone: Annotated[str, Field(min_length=1, max_length=60)]


class QuietHoursChoice(CallbackData, prefix="qh"):
    start: Hour
    end: Hour
    """Hours; start == end clears quiet hours."""


class CohortAction(CallbackData, prefix="co"):
    """A mediator's action on a cohort: view, nudge, event (workshop check-in), cast (message)."""

    action: Literal["view", "nudge", "event", "cast", "chart"]
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{2,32}$")]


class BroadcastWhen(CallbackData, prefix="bw"):
    when: Literal["now", "hour", "morning", "cancel"]


class CertificatePdf(CallbackData, prefix="cf"):
    """Send one of the learner's certificates again, as a PDF."""

    certificate_id: Id


class CertificateName(CallbackData, prefix="cn"):
    """Print the name Telegram gave on this certificate (and on later ones)."""

    certificate_id: Id


class ReviewStart(CallbackData, prefix=review.START_PREFIX):
    """The review invitation's Start button (the delivery worker writes it as this packs)."""

    review_id: Id


class ReviewSkip(CallbackData, prefix=review.SKIP_PREFIX):
    """The review invitation's Skip button."""

    review_id: Id


class ReviewChoice(CallbackData, prefix="rva"):
    """An answer in a review: the options chosen as a bit mask; ``done`` False only toggles one
    option of a multiple-choice question."""

    review_id: Id
    index: Index
    mask: Mask
    done: bool
