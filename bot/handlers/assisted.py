"""For mediators, from ``/cohort``: workshops and assisted mode.

A workshop gets a title, a day and time on the cohort's clock and a place; its QR message shows
how many have checked in (a button counts again). Assisted mode acts for people without a phone:
enrol one, check a member in at a workshop, and record a quiz answered on paper by tapping the
answers on their behalf. The same services as the API and the console, so everything recorded is
flagged ``assisted``.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_date, format_time
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import (
    Assist,
    AssistAnswer,
    AssistCheckIn,
    AssistLesson,
    AssistMember,
    AssistSkip,
    AssistSubmit,
    AssistToggle,
    AssistWorkshop,
    CohortAction,
    WorkshopNoPlace,
    WorkshopNow,
    WorkshopRefresh,
)
from bot.filters import registered, typed_text
from bot.handlers.mediator import Edited, FollowedMessages, not_yours
from bot.keyboards import InlineKeyboardBuilder
from bot.middlewares import MediatorActorMiddleware
from bot.views import Screen, send, show
from learntogether.config import Settings
from learntogether.content.render import RenderedQuestion
from learntogether.db.base import utcnow
from learntogether.db.models import UserStatus
from learntogether.deeplinks import deep_link, qr_png
from learntogether.i18n import Locales, babel_locale
from learntogether.screens import likert_labels
from learntogether.services import assisted, cohorts, events, reminders
from learntogether.services.actors import Actor
from learntogether.services.assisted import AssistedAnswer, AssistedQuiz, ParticipantInput
from learntogether.services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from learntogether.services.events import EventInfo, EventInput, FollowedCount

log = logging.getLogger(__name__)

# Buttons to choose from: a cohort is a class or a parents' group, not a crowd.
MEMBERS_LISTED = 30
WORKSHOPS_LISTED = 5
LESSONS_LISTED = 90  # every lesson with a quiz; Telegram takes 100 buttons
BUTTON_TEXT = 40
# 17:30 · 12.12 17:30 · 12.12.2026 17:30 · 2026-12-12 17:30 (also 12/12)
_DAY_MONTH = re.compile(
    r"^(?:(?P<d>\d{1,2})[./](?P<m>\d{1,2})(?:[./](?P<y>\d{4}))?\s+)?(?P<h>\d{1,2}):(?P<min>\d{2})$"
)
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\s+(?P<h>\d{1,2}):(?P<min>\d{2})$")


class Workshop(StatesGroup):
    title = State()
    when = State()
    place = State()


class Assisting(StatesGroup):
    participant_name = State()
    quiz = State()
    open_answer = State()


def _when(moment: datetime, zone: str, locales: Locales) -> str:
    language = babel_locale(locales.formatting)
    local = moment.astimezone(ZoneInfo(zone))
    day = format_date(local, "medium", locale=language)
    return f"{day} {format_time(local, 'short', tzinfo=local.tzinfo, locale=language)}"


def parse_start(text: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """A typed day and time on the cohort's clock; a day without a year is the next one to come."""
    text = text.strip()
    found = _DAY_MONTH.match(text) or _ISO.match(text)
    if found is None:
        return None
    today = now.astimezone(zone).date()
    parts = found.groupdict()
    try:
        at = time(int(parts["h"]), int(parts["min"]))
        if parts["d"] is None:
            day = today
        else:
            year = int(parts["y"]) if parts["y"] else today.year
            day = date(year, int(parts["m"]), int(parts["d"]))
            if not parts["y"] and day < today - timedelta(days=1):
                day = day.replace(year=year + 1)
    except ValueError:
        return None
    return datetime.combine(day, at, zone)


# Workshops ------------------------------------------------------------------------------------


async def ask_workshop_title(
    query: CallbackQuery,
    callback_data: CohortAction,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    await _ask(
        query,
        state,
        session,
        actor,
        callback_data.code,
        Workshop.title,
        _("What is the workshop called?"),
    )


async def _ask(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    code: str,
    waiting_for: State,
    question: str,
) -> None:
    """Ask the mediator to write something for the cohort ``code`` and wait for it."""
    # A forged or stale button for a cohort that is not (or no longer) theirs opens nothing.
    await cohorts.get_cohort(session, code=code, actor=actor)
    await state.set_state(waiting_for)
    await state.update_data(code=code)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(question)


async def ask_workshop_time(
    message: Message, state: FSMContext, session: AsyncSession, actor: Actor
) -> None:
    title = (message.text or "").strip()
    if not 1 <= len(title) <= 200:
        await message.answer(_("The title must be 1 to 200 characters. Write it again."))
        return
    data = await state.get_data()
    info = await cohorts.get_cohort(session, code=data["code"], actor=actor)
    await state.update_data(title=title)
    await state.set_state(Workshop.when)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("It starts now"), callback_data=WorkshopNow())
    await message.answer(
        _(
            "When does it start? Write the day and time on the group's clock ({zone}), "
            "e.g. 12.12 17:30, or just 17:30 for today."
        ).format(zone=reminders.cohort_timezone(info.country)),
        reply_markup=builder.as_markup(),
    )


async def _ask_place(message: Message, state: FSMContext, starts_at: datetime) -> None:
    await state.update_data(starts_at=starts_at.isoformat())
    await state.set_state(Workshop.place)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("No place to give"), callback_data=WorkshopNoPlace())
    await message.answer(
        _("Where is it? Write the place, e.g. School No. 3, room 12."),
        reply_markup=builder.as_markup(),
    )


async def workshop_starts_now(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _ask_place(query.message, state, utcnow())


async def read_workshop_time(
    message: Message, state: FSMContext, session: AsyncSession, actor: Actor
) -> None:
    data = await state.get_data()
    info = await cohorts.get_cohort(session, code=data["code"], actor=actor)
    moment = parse_start(
        message.text or "", ZoneInfo(reminders.cohort_timezone(info.country)), utcnow()
    )
    if moment is None:
        await message.answer(
            _("Write a day and a time such as 12.12 17:30, or tap “{button}”.").format(
                button=_("It starts now")
            )
        )
        return
    await _ask_place(message, state, moment)


async def workshop_without_place(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locales: Locales,
) -> None:
    await query.answer()
    if isinstance(query.message, Message) and await state.get_state() == Workshop.place.state:
        await query.message.edit_reply_markup(reply_markup=None)
        await _create_workshop(query.message, state, session, actor, bot, locales, place=None)


async def read_workshop_place(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locales: Locales,
) -> None:
    await _create_workshop(message, state, session, actor, bot, locales, place=message.text)


async def _create_workshop(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locales: Locales,
    *,
    place: str | None,
) -> None:
    data = await state.get_data()
    try:
        details = EventInput(
            title=data["title"],
            starts_at=datetime.fromisoformat(data["starts_at"]),
            location=(place or "").strip() or None,
        )
    except ValidationError:
        await message.answer(_("The place must be at most 200 characters. Write it again."))
        return
    await state.clear()
    info = await events.create_event(session, cohort_code=data["code"], data=details, actor=actor)
    cohort = await cohorts.get_cohort(session, code=info.cohort, actor=actor)
    me = await bot.me()
    link = deep_link(me.username or "", info.check_in_payload)
    caption, keyboard = _qr_caption(info, cohort.country, link, locales)
    sent = await message.answer_photo(
        BufferedInputFile(qr_png(link), "check-in.png"), caption=caption, reply_markup=keyboard
    )
    # The delivery worker keeps the count up to date while check-in is open.
    await events.follow_check_ins(
        session,
        event_id=info.id,
        actor=actor,
        chat_id=sent.chat.id,
        message_id=sent.message_id,
        shown=info.attended,
    )


class CheckInCounter(FollowedMessages):
    """Brings the check-in counts of workshops' QR messages up to date; the delivery worker calls
    it every few seconds, whichever bot process recorded the check-ins. A count is shown at most
    once each call, so a crowd scanning at once makes one edit, not one each."""

    async def __call__(self, bot: Bot) -> None:
        async with self.session_maker() as session:
            changed = await events.check_in_counts_to_show(session)
            await session.commit()
            for followed in changed:
                if not await self._show(bot, session, followed):
                    await events.stop_following_check_ins(
                        session, event_id=followed.event_id, message_id=followed.message_id
                    )
            await session.commit()

    async def _show(self, bot: Bot, session: AsyncSession, followed: FollowedCount) -> bool:
        """Edit one QR message's count; False when it should no longer be followed. One that
        Telegram did not take now shows at the next check-in, or by "Count again"."""
        found = await self._mediator(session, followed.user_id)
        if found is None:
            return False
        _mediator, actor, locales = found
        try:
            info = await events.get_event(session, event_id=followed.event_id, actor=actor)
            cohort = await cohorts.get_cohort(session, code=info.cohort, actor=actor)
        except DomainError:
            return False  # no longer theirs to see
        me = await bot.me()
        link = deep_link(me.username or "", info.check_in_payload)
        with self.i18n.context(), self.i18n.use_locale(locales.catalog):
            caption, keyboard = _qr_caption(info, cohort.country, link, locales)
        edit = functools.partial(
            bot.edit_message_caption,
            chat_id=followed.chat_id,
            message_id=followed.message_id,
            caption=caption,
            # The worker's bot may have no default parse mode.
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )
        edited = await self._edit(edit, f"check-in count of workshop {followed.event_id}")
        return edited is not Edited.GONE


def _qr_caption(
    info: EventInfo, country: str | None, link: str, locales: Locales
) -> tuple[str, InlineKeyboardMarkup]:
    zone = reminders.cohort_timezone(country)
    lines = [
        f"<b>{html.quote(info.title)}</b>",
        f"{_when(info.starts_at, zone, locales)} ({zone})",
    ]
    if info.location:
        lines.append(html.quote(info.location))
    lines += [
        _("Let people scan this code, or send them the link: {link}").format(link=link),
        _("Check-in is open from 12 hours before until a day after the start."),
        ngettext(
            "<b>{count}</b> has checked in.", "<b>{count}</b> have checked in.", info.attended
        ).format(count=info.attended),
    ]
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🔄 Count again"),
        callback_data=WorkshopRefresh(event_id=info.id, shown=min(info.attended, 10_000)),
    )
    builder.button(text=_("✅ Check someone in"), callback_data=AssistWorkshop(event_id=info.id))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


async def refresh_workshop(
    query: CallbackQuery,
    callback_data: WorkshopRefresh,
    session: AsyncSession,
    actor: Actor,
    bot: Bot,
    locales: Locales,
) -> None:
    info = await events.get_event(session, event_id=callback_data.event_id, actor=actor)
    if info.attended == callback_data.shown or not isinstance(query.message, Message):
        await query.answer(_("No new check-ins."))
        return
    cohort = await cohorts.get_cohort(session, code=info.cohort, actor=actor)
    me = await bot.me()
    link = deep_link(me.username or "", info.check_in_payload)
    caption, keyboard = _qr_caption(info, cohort.country, link, locales)
    await query.answer()
    try:
        await query.message.edit_caption(caption=caption, reply_markup=keyboard)
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:
            raise


# Assisted mode: the menu, enrolling ---------------------------------------------------------


async def assisted_menu(
    query: CallbackQuery, callback_data: CohortAction | Assist, session: AsyncSession, actor: Actor
) -> None:
    info = await cohorts.get_cohort(session, code=callback_data.code, actor=actor)
    builder = InlineKeyboardBuilder()
    code = info.code
    builder.button(
        text=_("➕ Enrol someone without a phone"), callback_data=Assist(action="enrol", code=code)
    )
    builder.button(text=_("✅ Check someone in"), callback_data=Assist(action="attend", code=code))
    builder.button(text=_("📝 Record a paper quiz"), callback_data=Assist(action="quiz", code=code))
    builder.button(text=_("« Back"), callback_data=CohortAction(action="view", code=code))
    builder.adjust(1)
    text = _(
        "<b>{name}: for people without a phone</b>\n"
        "You act on their behalf; what you record is marked as done with your help."
    ).format(name=html.quote(info.name))
    await query.answer()
    await show(query, Screen(text, builder.as_markup()))


async def ask_participant_name(
    query: CallbackQuery,
    callback_data: Assist,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    question = _(
        "Read them the privacy notice (/privacy) and go on only if they agree.\n"
        "What is their first name? (Nothing more is needed.)"
    )
    await _ask(
        query, state, session, actor, callback_data.code, Assisting.participant_name, question
    )


async def enrol_participant(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    data = await state.get_data()
    try:
        person = ParticipantInput(first_name=message.text or "")
    except ValidationError:
        await message.answer(_("The first name must be 1 to 128 characters. Write it again."))
        return
    await state.clear()
    added = await assisted.add_participant(
        session,
        cohort_code=data["code"],
        data=person,
        actor=actor,
        default_locale=settings.default_locale,
    )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📝 Record a paper quiz"),
        callback_data=AssistMember(code=data["code"], user_id=added.user_id),
    )
    builder.button(text=_("« Back"), callback_data=Assist(action="menu", code=data["code"]))
    builder.adjust(1)
    await message.answer(
        _("{name} is enrolled in the group.").format(name=html.quote(added.first_name)),
        reply_markup=builder.as_markup(),
    )


# Checking someone in ---------------------------------------------------------------------


async def choose_workshop(
    query: CallbackQuery,
    callback_data: Assist,
    session: AsyncSession,
    actor: Actor,
    locales: Locales,
) -> None:
    info = await cohorts.get_cohort(session, code=callback_data.code, actor=actor)
    found, _total = await events.list_events(
        session, cohort_code=info.code, actor=actor, limit=WORKSHOPS_LISTED
    )
    builder = InlineKeyboardBuilder()
    zone = reminders.cohort_timezone(info.country)
    for event in found:
        label = f"{_when(event.starts_at, zone, locales)} · {event.title}"
        builder.button(text=label[:BUTTON_TEXT], callback_data=AssistWorkshop(event_id=event.id))
    builder.button(text=_("« Back"), callback_data=Assist(action="menu", code=info.code))
    builder.adjust(1)
    text = (
        _("At which workshop?")
        if found
        else _("This group has no workshop yet: create one with “{button}”.").format(
            button=_("📍 Workshop check-in")
        )
    )
    await query.answer()
    await show(query, Screen(text, builder.as_markup()))


async def _attendance_screen(session: AsyncSession, actor: Actor, event_id: int) -> Screen:
    info = await events.get_event(session, event_id=event_id, actor=actor)
    came = {
        attendee.user_id
        for attendee in await events.attendance(session, event_id=event_id, actor=actor)
    }
    members, total = await cohorts.members(
        session, code=info.cohort, actor=actor, limit=MEMBERS_LISTED
    )
    builder = InlineKeyboardBuilder()
    for member in members:
        if member.user_id not in came and member.status is not UserStatus.ERASED:
            builder.button(
                text=(member.name or "–")[:BUTTON_TEXT],
                callback_data=AssistCheckIn(event_id=event_id, user_id=member.user_id),
            )
    builder.button(text=_("« Back"), callback_data=Assist(action="menu", code=info.code))
    builder.adjust(2)
    lines = [
        f"<b>{html.quote(info.title)}</b>",
        ngettext(
            "<b>{count}</b> has checked in.", "<b>{count}</b> have checked in.", len(came)
        ).format(count=len(came)),
        _("Tap who came:"),
    ]
    if total > MEMBERS_LISTED:
        lines.append(
            _("Only the first {count} members are listed; the console lists them all.").format(
                count=MEMBERS_LISTED
            )
        )
    return Screen("\n".join(lines), builder.as_markup())


async def show_attendance(
    query: CallbackQuery, callback_data: AssistWorkshop, session: AsyncSession, actor: Actor
) -> None:
    screen = await _attendance_screen(session, actor, callback_data.event_id)
    await query.answer()
    if isinstance(query.message, Message) and query.message.photo:
        # From the QR message: keep it (people are scanning it) and list below.
        await send(query.message, screen)
        return
    await show(query, screen)


async def check_member_in(
    query: CallbackQuery, callback_data: AssistCheckIn, session: AsyncSession, actor: Actor
) -> None:
    try:
        added = await events.record_attendance(
            session, event_id=callback_data.event_id, user_id=callback_data.user_id, actor=actor
        )
    except InvalidInput:
        await query.answer(_("They are not in this group any more."), show_alert=True)
        return
    await query.answer(_("Checked in.") if added else _("They were checked in already."))
    await show(query, await _attendance_screen(session, actor, callback_data.event_id))


# A paper quiz -------------------------------------------------------------------------------


async def choose_member(
    query: CallbackQuery, callback_data: Assist, session: AsyncSession, actor: Actor
) -> None:
    members, total = await cohorts.members(
        session, code=callback_data.code, actor=actor, limit=MEMBERS_LISTED
    )
    builder = InlineKeyboardBuilder()
    for member in members:
        if member.status is not UserStatus.ERASED:
            builder.button(
                text=(member.name or "–")[:BUTTON_TEXT],
                callback_data=AssistMember(code=callback_data.code, user_id=member.user_id),
            )
    builder.button(text=_("« Back"), callback_data=Assist(action="menu", code=callback_data.code))
    builder.adjust(2)
    text = _("Whose answers are they?")
    if total > MEMBERS_LISTED:
        text += "\n" + _(
            "Only the first {count} members are listed; the console lists them all."
        ).format(count=MEMBERS_LISTED)
    await query.answer()
    await show(query, Screen(text, builder.as_markup()))


async def choose_lesson(
    query: CallbackQuery,
    callback_data: AssistMember,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    locales: Locales,
) -> None:
    await cohorts.get_cohort(session, code=callback_data.code, actor=actor)
    found = (await assisted.quiz_lessons(session, chain=locales.content))[:LESSONS_LISTED]
    await state.set_state(Assisting.quiz)
    await state.set_data(
        {
            "code": callback_data.code,
            "user_id": callback_data.user_id,
            "lessons": [lesson.slug for lesson in found],
        }
    )
    builder = InlineKeyboardBuilder()
    for index, lesson in enumerate(found):
        builder.button(text=lesson.title[:BUTTON_TEXT], callback_data=AssistLesson(index=index))
    builder.button(text=_("« Back"), callback_data=Assist(action="menu", code=callback_data.code))
    builder.adjust(1)
    await query.answer()
    await show(query, Screen(_("Which lesson's quiz did they answer?"), builder.as_markup()))


async def _paper_quiz(
    session: AsyncSession, actor: Actor, data: dict[str, Any], settings: Settings
) -> assisted.PaperQuiz:
    return await assisted.paper_quiz(
        session,
        cohort_code=data["code"],
        user_id=data["user_id"],
        lesson=data["lesson"],
        actor=actor,
        default_locale=settings.default_locale,
    )


def _question_screen(quiz: assisted.PaperQuiz, index: int, mask: int = 0) -> Screen:
    question: RenderedQuestion = quiz.lesson.questions[index]
    header = _("<b>{name} · question {number} of {count}</b>").format(
        name=html.quote(quiz.first_name or "–"),
        number=index + 1,
        count=len(quiz.lesson.questions),
    )
    lines = [header, question.text]
    builder = InlineKeyboardBuilder()
    letters = [chr(ord("A") + position) for position in range(len(question.options))]
    if question.kind == "likert":
        for point, label in enumerate(likert_labels(), start=1):
            builder.button(
                text=f"{point} · {label}", callback_data=AssistAnswer(index=index, option=point)
            )
        builder.adjust(1)
    elif question.kind == "open":
        lines.append(_("Write what they wrote, or tap “{button}”.").format(button=_("Left blank")))
        builder.button(text=_("Left blank"), callback_data=AssistSkip(index=index))
    else:
        lines += [
            f"<b>{letter}</b>. {option.text}"
            for letter, option in zip(letters, question.options, strict=True)
        ]
        if question.kind == "multiple":
            lines.append(
                _("Tap every answer they ticked, then “{button}”.").format(button=_("Done"))
            )
            for position, letter in enumerate(letters):
                ticked = bool(mask & (1 << position))
                builder.button(
                    text=f"{'☑' if ticked else '☐'} {letter}",
                    callback_data=AssistToggle(index=index, mask=mask ^ (1 << position)),
                )
            builder.button(text=_("Done"), callback_data=AssistSubmit(index=index, mask=mask))
            builder.adjust(len(letters), 1)
        else:
            lines.append(_("Tap the answer they ticked."))
            for position, letter in enumerate(letters):
                builder.button(
                    text=letter, callback_data=AssistAnswer(index=index, option=position)
                )
            builder.adjust(len(letters))
    return Screen("\n".join(lines), builder.as_markup())


async def start_paper_quiz(
    query: CallbackQuery,
    callback_data: AssistLesson,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    data = await state.get_data()
    lessons: list[str] = data.get("lessons", [])
    if callback_data.index >= len(lessons):
        await query.answer(
            _("This list is out of date. Start again from /cohort."), show_alert=True
        )
        return
    data |= {"lesson": lessons[callback_data.index], "answers": []}
    await state.set_data(data)
    quiz = await _paper_quiz(session, actor, data, settings)
    await query.answer()
    await _next_question(query, state, quiz, data)


async def _next_question(
    query: CallbackQuery, state: FSMContext, quiz: assisted.PaperQuiz, data: dict[str, Any]
) -> None:
    index = len(data["answers"])
    question = quiz.lesson.questions[index]
    await state.set_state(Assisting.open_answer if question.kind == "open" else Assisting.quiz)
    await show(query, _question_screen(quiz, index))


async def _take_answer(
    event: CallbackQuery | Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    index: int,
    answer: dict[str, Any],
) -> None:
    """Keep one answer; after the last, record the whole quiz through the service at once."""
    data = await state.get_data()
    answers: list[dict[str, Any]] = data.get("answers", [])
    if "lesson" not in data or index != len(answers):
        if isinstance(event, CallbackQuery):
            await event.answer(_("This question is answered already."))
        return
    quiz = await _paper_quiz(session, actor, data, settings)
    answers.append({"key": quiz.lesson.questions[index].key, **answer})
    data["answers"] = answers
    await state.set_data(data)
    if isinstance(event, CallbackQuery):
        await event.answer()
    if len(answers) < len(quiz.lesson.questions):
        screen = _question_screen(quiz, len(answers))
        await state.set_state(
            Assisting.open_answer
            if quiz.lesson.questions[len(answers)].kind == "open"
            else Assisting.quiz
        )
        await (show(event, screen) if isinstance(event, CallbackQuery) else send(event, screen))
        return
    await state.clear()
    result = await assisted.record_quiz(
        session,
        cohort_code=data["code"],
        data=AssistedQuiz(
            user_id=data["user_id"],
            lesson=data["lesson"],
            answers=[AssistedAnswer(**given) for given in answers],
        ),
        actor=actor,
        default_locale=settings.default_locale,
    )
    name = html.quote(quiz.first_name or "–")
    if result.scored:
        text = _("Recorded for {name}: {correct} of {scored} right.").format(
            name=name, correct=result.correct, scored=result.scored
        )
        text += "\n" + (_("Passed.") if result.passed else _("Not passed this time."))
    else:
        text = _("Recorded for {name}.").format(name=name)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📝 Another paper quiz"),
        callback_data=AssistMember(code=data["code"], user_id=data["user_id"]),
    )
    builder.button(text=_("« Back"), callback_data=Assist(action="menu", code=data["code"]))
    builder.adjust(1)
    screen = Screen(text, builder.as_markup())
    await (show(event, screen) if isinstance(event, CallbackQuery) else send(event, screen))


async def choose_answer(
    query: CallbackQuery,
    callback_data: AssistAnswer,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    await _take_answer(
        query,
        state,
        session,
        actor,
        settings,
        index=callback_data.index,
        answer={"choice": [callback_data.option]},
    )


async def toggle_answer(
    query: CallbackQuery,
    callback_data: AssistToggle,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    data = await state.get_data()
    if "lesson" not in data or callback_data.index != len(data.get("answers", [])):
        await query.answer(_("This question is answered already."))
        return
    quiz = await _paper_quiz(session, actor, data, settings)
    await query.answer()
    await show(query, _question_screen(quiz, callback_data.index, mask=callback_data.mask))


async def submit_answers(
    query: CallbackQuery,
    callback_data: AssistSubmit,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    chosen = [position for position in range(32) if callback_data.mask & (1 << position)]
    if not chosen:
        await query.answer(_("Tap at least one answer first."), show_alert=True)
        return
    await _take_answer(
        query,
        state,
        session,
        actor,
        settings,
        index=callback_data.index,
        answer={"choice": chosen},
    )


async def skip_open_answer(
    query: CallbackQuery,
    callback_data: AssistSkip,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    await _take_answer(query, state, session, actor, settings, index=callback_data.index, answer={})


async def read_open_answer(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    data = await state.get_data()
    await _take_answer(
        message,
        state,
        session,
        actor,
        settings,
        index=len(data.get("answers", [])),
        answer={"text": (message.text or "").strip()[:2000] or None},
    )


def create_router() -> Router:
    router = Router(name="assisted")
    router.message.middleware(MediatorActorMiddleware())
    router.callback_query.middleware(MediatorActorMiddleware())
    router.errors.register(not_yours, ExceptionTypeFilter(NotAllowed, NotFound))
    callbacks = router.callback_query
    callbacks.register(ask_workshop_title, CohortAction.filter(F.action == "event"), registered)
    callbacks.register(assisted_menu, CohortAction.filter(F.action == "assist"), registered)
    callbacks.register(assisted_menu, Assist.filter(F.action == "menu"), registered)
    callbacks.register(ask_participant_name, Assist.filter(F.action == "enrol"), registered)
    callbacks.register(choose_workshop, Assist.filter(F.action == "attend"), registered)
    callbacks.register(choose_member, Assist.filter(F.action == "quiz"), registered)
    callbacks.register(show_attendance, AssistWorkshop.filter(), registered)
    callbacks.register(check_member_in, AssistCheckIn.filter(), registered)
    callbacks.register(refresh_workshop, WorkshopRefresh.filter(), registered)
    callbacks.register(choose_lesson, AssistMember.filter(), registered)
    callbacks.register(start_paper_quiz, AssistLesson.filter(), registered)
    callbacks.register(choose_answer, AssistAnswer.filter(), registered)
    callbacks.register(toggle_answer, AssistToggle.filter(), registered)
    callbacks.register(submit_answers, AssistSubmit.filter(), registered)
    callbacks.register(skip_open_answer, AssistSkip.filter(), registered)
    callbacks.register(
        workshop_starts_now, WorkshopNow.filter(), StateFilter(Workshop.when), registered
    )
    callbacks.register(workshop_without_place, WorkshopNoPlace.filter(), registered)
    messages = router.message
    messages.register(ask_workshop_time, StateFilter(Workshop.title), typed_text, registered)
    messages.register(read_workshop_time, StateFilter(Workshop.when), typed_text, registered)
    messages.register(
        read_workshop_place,
        StateFilter(Workshop.place),
        typed_text,
        registered,
    )
    messages.register(
        enrol_participant,
        StateFilter(Assisting.participant_name),
        typed_text,
        registered,
    )
    messages.register(
        read_open_answer,
        StateFilter(Assisting.open_answer),
        typed_text,
        registered,
    )
    return router
