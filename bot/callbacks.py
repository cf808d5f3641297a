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
from learntogether.i18n import COMPLETE_LOCALES, SUPPORTED_LOCALES
from learntogether.services import review

# Row ids are 32-bit integers in the database; positions and masks are small.
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Index = Annotated[int, Field(ge=0, le=10_000)]
Mask = Annotated[int, Field(ge=0, le=2**32)]
Hour = Annotated[int, Field(ge=0, le=23)]
Locale = Literal[SUPPORTED_LOCALES]  # type: ignore[valid-type]
CompleteLocale = Literal[COMPLETE_LOCALES]  # type: ignore[valid-type]


class LanguageChoice(CallbackData, prefix="lg"):
    code: Locale


class ReadsBest(CallbackData, prefix="rb"):
    """The language read best, named with a partial one (Romani)."""

    code: CompleteLocale


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
    """Open one part of /settings: lang, role, place, time, zone, quiet, toggle, back; listen
    switches between listening to recorded steps and reading them."""

    part: Literal["lang", "role", "place", "time", "zone", "quiet", "toggle", "back", "listen"]


class ListenChoice(CallbackData, prefix="ls"):
    """The answer to "Would you rather listen?" (asked of parents when they join)."""

    listen: bool


Flow = Literal["s", "o"]
"""Where a reminder-time or time-zone picker was opened: ``s`` /settings, ``o`` onboarding."""
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class PickHour(CallbackData, prefix="ph"):
    """Open the hour picker of the daily reminder."""

    flow: Flow


class ReminderHour(CallbackData, prefix="rh"):
    """An hour chosen: the minutes come next."""

    flow: Flow
    hour: Hour


class ReminderAt(CallbackData, prefix="ra"):
    flow: Flow
    minutes: Annotated[int, Field(ge=0, le=24 * 60 - 1)]
    """Minutes after midnight, in the learner's time zone."""


class NoReminders(CallbackData, prefix="nr"):
    flow: Flow


class PickCountry(CallbackData, prefix="pc"):
    """Open the country picker of the time zone: the programme's countries, or all of Europe's."""

    flow: Flow
    everywhere: bool


class ZoneCountry(CallbackData, prefix="zc"):
    flow: Flow
    country: Country


class TimeZoneChoice(CallbackData, prefix="tz"):
    flow: Flow
    country: Country
    zone: Annotated[str, Field(min_length=1, max_length=48)]


class QuietHoursChoice(CallbackData, prefix="qh"):
    start: Hour
    end: Hour
    """Hours; start == end clears quiet hours."""


class CohortAction(CallbackData, prefix="co"):
    """A mediator's action on a cohort: view, nudge, event (workshop check-in), cast (message),
    chart, assist (assisted mode)."""

    action: Literal["view", "nudge", "event", "cast", "chart", "assist"]
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{2,32}$")]


class BroadcastWhen(CallbackData, prefix="bw"):
    when: Literal["now", "hour", "morning", "cancel"]


CohortCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{2,32}$")]


class Assist(CallbackData, prefix="as"):
    """Assisted mode for a cohort: the menu, enrol, check someone in, a paper quiz."""

    action: Literal["menu", "enrol", "attend", "quiz"]
    code: CohortCode


class AssistWorkshop(CallbackData, prefix="aw"):
    """A workshop chosen to check someone in at."""

    event_id: Id


class AssistCheckIn(CallbackData, prefix="ac"):
    event_id: Id
    user_id: Id


class AssistMember(CallbackData, prefix="am"):
    """The member a paper quiz is recorded for."""

    code: CohortCode
    user_id: Id


class AssistLesson(CallbackData, prefix="al"):
    """The lesson of a paper quiz, by its place in the list shown."""

    index: Index


class AssistAnswer(CallbackData, prefix="aa"):
    """A paper quiz's answer: an option (single, true_false) or a point (likert)."""

    index: Index
    option: Index


class AssistToggle(CallbackData, prefix="at"):
    """A multiple-choice option ticked or unticked; ``mask`` is the ticks after the tap."""

    index: Index
    mask: Mask


class AssistSubmit(CallbackData, prefix="ab"):
    index: Index
    mask: Mask


class AssistSkip(CallbackData, prefix="ak"):
    """An open question left blank on paper."""

    index: Index


class WorkshopNow(CallbackData, prefix="wn"):
    """A new workshop starts now (instead of a typed day and time)."""


class WorkshopNoPlace(CallbackData, prefix="wp"):
    """A new workshop without a place."""


class WorkshopRefresh(CallbackData, prefix="wr"):
    """Count the check-ins again; ``shown`` is the count the message shows."""

    event_id: Id
    shown: Index


class BroadcastStatusAction(CallbackData, prefix="bs"):
    """On a mediator's broadcast status: read it again from the database, or cancel the rest."""

    action: Literal["refresh", "cancel"]
    broadcast_id: Id


class NudgeConfirm(CallbackData, prefix="nc"):
    """The answer to "Nudge 7 quiet members of Sliven-1?"."""

    code: CohortCode
    confirm: bool


class CertificatePdf(CallbackData, prefix="cf"):
    """Send one of the learner's certificates again, as a PDF."""

    certificate_id: Id


class CertificateName(CallbackData, prefix="cn"):
    """Print the name Telegram gave on this certificate (and on later ones)."""

    certificate_id: Id


class AskMediator(CallbackData, prefix="qm"):
    """Pass the message the bot did not understand on to the learner's mediators."""


class HelpCancel(CallbackData, prefix="hc"):
    pass


class HelpReply(CallbackData, prefix="hr"):
    """A mediator answers the learner's question ``help_id``."""

    help_id: Id


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


class RecordTrack(CallbackData, prefix="rct"):
    """/record: the lessons of this track (0: back to the tracks)."""

    track_id: Annotated[int, Field(ge=0, le=2_147_483_647)]


class RecordLesson(CallbackData, prefix="rcl"):
    """/record: the steps of this lesson."""

    lesson_id: Id


class RecordStep(CallbackData, prefix="rcs"):
    """/record: this step of the lesson's newest published version, to record."""

    lesson_id: Id
    index: Index


class RecordLanguage(CallbackData, prefix="rcg"):
    code: Locale


class RecordConsent(CallbackData, prefix="rcc"):
    agree: bool


class RecordWithdraw(CallbackData, prefix="rcw"):
    recording_id: Id
