"""For mediators: ``/cohort`` (who is behind), ``/nudge`` and ``/broadcast``; workshops and
assisted mode, from ``/cohort`` too, are in ``bot.handlers.assisted``.

A learner is a mediator of the cohorts an admin assigned them to (``POST /cohorts/{code}/
mediators``); everyone else gets a short explanation instead.

A broadcast's status message is read from the database whenever it is shown, so any process
shows it and a restart loses nothing: on Refresh in the bot, and when the delivery worker settles
its messages (``StatusPusher``, which the worker calls in whichever process it runs).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, ExceptionTypeFilter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, ErrorEvent, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime, format_time
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import BroadcastStatusAction, BroadcastWhen, CohortAction, NudgeConfirm
from bot.filters import Matches, registered
from bot.keyboards import InlineKeyboardBuilder
from bot.middlewares import MediatorActorMiddleware
from bot.views import Screen, send, show
from learntogether import charts
from learntogether.config import Settings
from learntogether.db.base import utcnow
from learntogether.db.models import BroadcastStatus, DeliveryStatus, User, WaitReason
from learntogether.i18n import Locales, display_language
from learntogether.sendbudget import Priority, SendBudget, acquire
from learntogether.services import actors, broadcasts, cohorts, learners, reminders, reports
from learntogether.services.actors import Actor
from learntogether.services.broadcasts import (
    BroadcastStatusView,
    FollowedStatus,
    OtherLanguage,
    RecipientStatus,
)
from learntogether.services.cohorts import CohortInfo
from learntogether.services.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound

log = logging.getLogger(__name__)

BEHIND_LISTED = 20
# Recipients named on a broadcast's status; the rest are counted.
RECIPIENTS_LISTED = 30


class Mediating(StatesGroup):
    broadcast_text = State()


def not_a_mediator() -> str:
    return _(
        "This is for mediators. If you keep a group going, ask the programme team to add you as "
        "its mediator."
    )


def _cohort_buttons(found: list[CohortInfo], action: str) -> InlineKeyboardBuilder:
    builder = InlineKeyboardBuilder()
    for cohort in found:
        builder.button(
            text=cohort.name[:40], callback_data=CohortAction(action=action, code=cohort.code)
        )
    builder.adjust(1)
    return builder


async def _pick_cohort(
    message: Message, session: AsyncSession, actor: Actor, action: str
) -> str | None:
    """The only cohort, or None after asking which one (or explaining who may use this)."""
    found = await cohorts.mediated_cohorts(session, actor)
    if not found:
        await message.answer(not_a_mediator())
        return None
    if len(found) == 1:
        return found[0].code
    await message.answer(_("Which group?"), reply_markup=_cohort_buttons(found, action).as_markup())
    return None


async def _overview(session: AsyncSession, actor: Actor, code: str) -> Screen:
    info = await cohorts.get_cohort(session, code=code, actor=actor)
    quiet, how_many_quiet = await cohorts.members(
        session, code=code, actor=actor, behind_only=True, limit=BEHIND_LISTED
    )
    lines = [
        f"<b>{html.quote(info.name)}</b>",
        ngettext("{count} member", "{count} members", info.members).format(count=info.members),
        ngettext(
            "{count} quiet for {days} days or more",
            "{count} quiet for {days} days or more",
            how_many_quiet,
        ).format(count=how_many_quiet, days=info.nudge_after_days),
    ]
    lines += [f"• {html.quote(member.name or '—')}" for member in quiet]
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("👋 Nudge the quiet ones"), callback_data=CohortAction(action="nudge", code=code)
    )
    builder.button(
        text=_("📍 Workshop check-in"), callback_data=CohortAction(action="event", code=code)
    )
    builder.button(
        text=_("🤝 For someone without a phone"),
        callback_data=CohortAction(action="assist", code=code),
    )
    builder.button(
        text=_("📣 Message the group"), callback_data=CohortAction(action="cast", code=code)
    )
    builder.button(
        text=_("📊 Progress chart"), callback_data=CohortAction(action="chart", code=code)
    )
    builder.adjust(1)
    return Screen("\n".join(lines), builder.as_markup())


async def cohort_command(message: Message, session: AsyncSession, actor: Actor) -> None:
    code = await _pick_cohort(message, session, actor, "view")
    if code is not None:
        await send(message, await _overview(session, actor, code))


async def view_cohort(
    query: CallbackQuery, callback_data: CohortAction, session: AsyncSession, actor: Actor
) -> None:
    await query.answer()
    await show(query, await _overview(session, actor, callback_data.code))


def _nudge_text(result: reminders.NudgeResult) -> str:
    if not result.nudged and not result.recently_nudged:
        return _("Nobody in this group has been quiet for long. Nothing to send.")
    text = ngettext(
        "A friendly nudge is on its way to {count} member.",
        "A friendly nudge is on its way to {count} members.",
        result.nudged,
    ).format(count=result.nudged)
    if result.recently_nudged:
        text += "\n" + ngettext(
            "{count} member was nudged this week already and is left in peace.",
            "{count} members were nudged this week already and are left in peace.",
            result.recently_nudged,
        ).format(count=result.recently_nudged)
    return text


async def _nudge_question(session: AsyncSession, actor: Actor, code: str) -> Screen:
    """ "Nudge 7 quiet members of Sliven-1?" with Yes and No, or why there is nobody to nudge."""
    preview = await reminders.nudge_preview(session, cohort_code=code, actor=actor)
    if not preview.nudged and preview.recently_nudged:
        return Screen(
            ngettext(
                "Nobody to nudge now: {count} quiet member was nudged this week already and is "
                "left in peace.",
                "Nobody to nudge now: {count} quiet members were nudged this week already and are "
                "left in peace.",
                preview.recently_nudged,
            ).format(count=preview.recently_nudged)
        )
    if not preview.nudged:
        return Screen(_nudge_text(preview))
    info = await cohorts.get_cohort(session, code=code, actor=actor)
    text = ngettext(
        "Nudge {count} quiet member of {cohort}?",
        "Nudge {count} quiet members of {cohort}?",
        preview.nudged,
    ).format(count=preview.nudged, cohort=html.quote(info.name))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, nudge them"), callback_data=NudgeConfirm(code=code, confirm=True))
    builder.button(text=_("No"), callback_data=NudgeConfirm(code=code, confirm=False))
    builder.adjust(2)
    return Screen(text, builder.as_markup())


async def nudge_command(message: Message, session: AsyncSession, actor: Actor) -> None:
    code = await _pick_cohort(message, session, actor, "nudge")
    if code is not None:
        await send(message, await _nudge_question(session, actor, code))


async def ask_nudge(
    query: CallbackQuery, callback_data: CohortAction, session: AsyncSession, actor: Actor
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await send(query.message, await _nudge_question(session, actor, callback_data.code))


async def nudge_cohort(
    query: CallbackQuery, callback_data: NudgeConfirm, session: AsyncSession, actor: Actor
) -> None:
    """The mediator's answer: nudge now (recorded as theirs), or nothing."""
    await query.answer()
    if not callback_data.confirm:
        await show(query, Screen(_("Nobody was nudged.")))
        return
    result = await reminders.nudge_cohort(session, cohort_code=callback_data.code, actor=actor)
    await show(query, Screen(_nudge_text(result)))


async def send_chart(
    query: CallbackQuery, callback_data: CohortAction, session: AsyncSession, actor: Actor
) -> None:
    """The group's active learners and completed lessons, week by week, as a picture."""
    info = await cohorts.get_cohort(session, code=callback_data.code, actor=actor)
    table = await reports.participation(
        session,
        period=reports.Period.WEEK,
        filters=reports.Filters(cohort=info.code),
        figures=[reports.Figure.ACTIVE, reports.Figure.LESSONS_COMPLETED],
        actor=actor,
    )
    labels = {"active": _("active learners"), "lessons_completed": _("lessons completed")}
    png = await asyncio.to_thread(
        charts.cohort_progress_chart, table, title=info.name, labels=labels
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer_photo(
            BufferedInputFile(png, "progress.png"),
            caption=_("{name}: week by week").format(name=html.quote(info.name)),
        )


async def broadcast_command(
    message: Message, session: AsyncSession, actor: Actor, state: FSMContext
) -> None:
    code = await _pick_cohort(message, session, actor, "cast")
    if code is not None:
        await _ask_text(message, state, code)


async def pick_broadcast_cohort(
    query: CallbackQuery,
    callback_data: CohortAction,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    await cohorts.get_cohort(session, code=callback_data.code, actor=actor)
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_text(query.message, state, callback_data.code)


async def _ask_text(message: Message, state: FSMContext, code: str) -> None:
    await state.set_state(Mediating.broadcast_text)
    await state.update_data(code=code)
    await message.answer(
        _(
            "Write the message for the group. You can use <b>bold</b> and <i>italic</i>. "
            "You will see it exactly as they will before anything is sent."
        )
    )


async def preview_broadcast(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    locales: Locales,
    settings: Settings,
) -> None:
    text = message.html_text
    try:
        preview = await broadcasts.preview_broadcast(
            session,
            actor=actor,
            text=text,
            cohort=(await state.get_data())["code"],
            default_locale=locales.ui,
            programme_locale=settings.default_locale,
        )
    except InvalidInput as error:
        await message.answer(
            _("This message cannot be sent: {reason}. Write it again.").format(
                reason=html.quote(error.problems_said(_)[0])
            )
        )
        return
    await state.update_data(text=text)
    await message.answer(_("This is what the group will see:"))
    await message.answer(text)
    if preview.other_languages:
        await message.answer(_other_languages(preview.other_languages, locales))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Send now"), callback_data=BroadcastWhen(when="now"))
    builder.button(text=_("In one hour"), callback_data=BroadcastWhen(when="hour"))
    builder.button(text=_("Tomorrow at 9:00"), callback_data=BroadcastWhen(when="morning"))
    builder.button(text=_("Cancel"), callback_data=BroadcastWhen(when="cancel"))
    builder.adjust(1)
    await message.answer(_("When should it go out?"), reply_markup=builder.as_markup())


def _other_languages(others: list[OtherLanguage], locales: Locales) -> str:
    lines = [_("Not everyone would read it in their own language:")]
    lines += [
        "• "
        + ngettext(
            "{count} learner reads {language}: they would get it in {given}.",
            "{count} learners read {language}: they would get it in {given}.",
            other.count,
        ).format(
            count=other.count,
            language=display_language(other.reads, locales.formatting),
            given=display_language(other.given, locales.formatting),
        )
        for other in others
    ]
    lines.append(
        _(
            "To reach them in their own language, write it in the console, which has a box for "
            "each language; or send it as it is."
        )
    )
    return "\n".join(lines)


def _send_time(when: str, zone: ZoneInfo) -> datetime | None:
    now = utcnow()
    if when == "hour":
        return now + timedelta(hours=1)
    if when == "morning":
        local = now.astimezone(zone) + timedelta(days=1)
        return local.replace(hour=9, minute=0, second=0, microsecond=0)
    return None


class _Clock:
    """Moments as the mediator reads them: their time zone, their language."""

    def __init__(self, learner: User, locales: Locales) -> None:
        self.zone = learners.zone_of(learner.timezone, learner.country)
        self.locale = locales.formatting
        self.today = utcnow().astimezone(self.zone).date()

    def __call__(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        if local.date() == self.today:
            return format_time(local, "short", locale=self.locale)
        return format_datetime(local, "short", locale=self.locale)


def _waiting_line(reason: WaitReason, count: int, until: str) -> str:
    if reason is WaitReason.QUIET_HOURS:
        return ngettext(
            "⏳ {count} waits for their quiet hours to end, until {time}",
            "⏳ {count} wait for their quiet hours to end, until {time}",
            count,
        ).format(count=count, time=until)
    if reason is WaitReason.PAUSE:
        return ngettext(
            "⏳ {count} waits: Telegram asked for a pause, until {time}",
            "⏳ {count} wait: Telegram asked for a pause, until {time}",
            count,
        ).format(count=count, time=until)
    return ngettext(
        "⏳ {count} could not be sent yet and is tried again at {time}",
        "⏳ {count} could not be sent yet and are tried again at {time}",
        count,
    ).format(count=count, time=until)


def _names(recipients: list[RecipientStatus], statuses: set[DeliveryStatus]) -> str:
    return ", ".join(
        html.quote(recipient.name or "—")
        for recipient in recipients
        if recipient.status in statuses
    )


_RECEIVED = {DeliveryStatus.SENT}
_ON_THE_WAY = {DeliveryStatus.PENDING, DeliveryStatus.SENDING}
_NOT_RECEIVED = {DeliveryStatus.FAILED, DeliveryStatus.BLOCKED, DeliveryStatus.CANCELLED}


def _status_screen(view: BroadcastStatusView, clock: _Clock) -> Screen:
    """What the mediator sees of a broadcast: when, counts, why messages wait, who got it."""
    info = view.info
    counts = info.counts
    lines = [_("<b>Message to the group</b>")]
    if view.cohort_names:
        lines[0] += " · " + html.quote(", ".join(view.cohort_names))
    if info.status is BroadcastStatus.CANCELLED and info.cancelled_at is not None:
        lines.append(_("❌ Cancelled at {time}").format(time=clock(info.cancelled_at)))
    elif info.send_at > utcnow():
        lines.append(_("🕘 Scheduled for {time}").format(time=clock(info.send_at)))
    elif info.status is BroadcastStatus.DONE:
        lines.append(_("✅ Done"))
    lines.append(
        _(
            "Recipients: {total}\nSent: {sent} · waiting: {pending} · failed: {failed} · "
            "blocked the bot: {blocked}"
        ).format(
            total=counts.total,
            sent=counts.sent,
            pending=counts.pending,
            failed=counts.failed,
            blocked=counts.blocked,
        )
    )
    if counts.cancelled:
        lines.append(_("Not sent (cancelled): {count}").format(count=counts.cancelled))
    lines += [
        _waiting_line(group.reason, group.count, clock(group.until)) for group in view.waiting
    ]
    for label, statuses in (
        (_("Received: {names}"), _RECEIVED),
        (_("On the way: {names}"), _ON_THE_WAY),
        (_("Not received: {names}"), _NOT_RECEIVED),
    ):
        if names := _names(view.recipients, statuses):
            lines.append(label.format(names=names))
    if view.unlisted:
        lines.append(
            ngettext("… and {count} more", "… and {count} more", view.unlisted).format(
                count=view.unlisted
            )
        )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🔄 Refresh"),
        callback_data=BroadcastStatusAction(action="refresh", broadcast_id=info.id),
    )
    if view.cancellable:
        builder.button(
            text=_("Cancel what has not gone"),
            callback_data=BroadcastStatusAction(action="cancel", broadcast_id=info.id),
        )
    builder.adjust(1)
    return Screen("\n".join(lines), builder.as_markup())


def _digest(screen: Screen) -> str:
    """What a status message shows, in 64 characters: compared before it is edited again."""
    keyboard = screen.keyboard.model_dump(mode="json") if screen.keyboard else None
    shown = json.dumps([screen.text, keyboard], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(shown.encode()).hexdigest()


async def _current_status(
    session: AsyncSession, actor: Actor, broadcast_id: int, learner: User, locales: Locales
) -> Screen:
    view = await broadcasts.broadcast_status(
        session, broadcast_id=broadcast_id, actor=actor, listed=RECIPIENTS_LISTED
    )
    return _status_screen(view, _Clock(learner, locales))


async def send_broadcast(
    query: CallbackQuery,
    callback_data: BroadcastWhen,
    state: FSMContext,
    session: AsyncSession,
    learner: User,
    actor: Actor,
    locales: Locales,
) -> None:
    data = await state.get_data()
    if "text" not in data or callback_data.when == "cancel":
        await state.clear()
        await query.answer()
        await show(query, Screen(_("Nothing was sent.")))
        return
    await state.clear()
    try:
        info = await broadcasts.create_broadcast(
            session,
            actor=actor,
            text=data["text"],
            cohort=data["code"],
            send_at=_send_time(
                callback_data.when, learners.zone_of(learner.timezone, learner.country)
            ),
            default_locale=locales.ui,
        )
    except DomainError as error:
        await query.answer()
        await show(
            query,
            Screen(
                _("This message cannot be sent: {reason}").format(reason=html.quote(error.said(_)))
            ),
        )
        return
    await query.answer(_("Queued."))
    screen = await _current_status(session, actor, info.id, learner, locales)
    await show(query, screen)
    if isinstance(query.message, Message):
        # The delivery worker keeps this message up to date from now on.
        await broadcasts.follow_status(
            session,
            broadcast_id=info.id,
            actor=actor,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            digest=_digest(screen),
        )


async def broadcast_status(
    query: CallbackQuery,
    callback_data: BroadcastStatusAction,
    session: AsyncSession,
    learner: User,
    actor: Actor,
    locales: Locales,
) -> None:
    """Refresh: the status as the database has it now (whichever process sends the messages);
    Cancel: what has not gone stays unsent. An unchanged status is not edited again."""
    notice = None
    if callback_data.action == "cancel":
        try:
            await broadcasts.cancel_broadcast(
                session, broadcast_id=callback_data.broadcast_id, actor=actor
            )
            notice = _("Cancelled.")
        except Conflict:
            notice = _("It has gone to everyone already; nothing to cancel.")
    screen = await _current_status(session, actor, callback_data.broadcast_id, learner, locales)
    await show(query, screen)
    if isinstance(query.message, Message):
        await broadcasts.status_shown(
            session,
            broadcast_id=callback_data.broadcast_id,
            digest=_digest(screen),
            message_id=query.message.message_id,
        )
    # Answered once the status shows what the press found.
    await query.answer(notice)


class Edited(Enum):
    """How an edit of a followed message went."""

    SHOWN = "shown"
    """Telegram took it, or the message showed that already."""
    GONE = "gone"
    """The message can no longer be edited (deleted, too old): stop following it."""
    LATER = "later"
    """Telegram did not take it now (a 429, the network): shown at the next change."""


class FollowedMessages:
    """What the delivery worker's editors of messages mediators follow share (a broadcast's
    status, a workshop's QR count): sessions, the mediator's language and reach, and the send
    budget each edit takes a slot of."""

    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        i18n: I18n,
        *,
        default_locale: str,
        budget: SendBudget | None = None,
    ) -> None:
        self.session_maker = session_maker
        self.i18n = i18n
        self.default_locale = default_locale
        self.budget = budget

    async def _mediator(
        self, session: AsyncSession, user_id: int
    ) -> tuple[User, Actor, Locales] | None:
        """The mediator a followed message was sent to, their reach and their languages."""
        mediator = await session.get(User, user_id)
        if mediator is None:
            return None
        actor = await actors.mediator_actor(session, mediator)
        locales = await learners.locales(session, mediator, default_locale=self.default_locale)
        return mediator, actor, locales

    async def _edit(self, edit: Callable[[], Awaitable[object]], what: str) -> Edited:
        """Make one edit within the send budget; ``what`` names the message in the log."""
        ticket = await acquire(self.budget, Priority.BULK) if self.budget else None
        try:
            await edit()
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return Edited.SHOWN
            log.info("%s not shown: %s", what, error)
            return Edited.GONE
        except TelegramAPIError as error:
            log.info("%s not shown: %s", what, error)
            return Edited.LATER
        finally:
            if ticket is not None and self.budget is not None:
                await self.budget.sent(ticket)
        return Edited.SHOWN


class StatusPusher(FollowedMessages):
    """Brings the status messages mediators follow up to date; the delivery worker calls it with
    the broadcasts whose messages it settled. A status that did not change is not edited."""

    async def __call__(self, bot: Bot, broadcast_ids: set[int]) -> None:
        async with self.session_maker() as session:
            for followed in await broadcasts.followed_statuses(
                session, broadcast_ids=broadcast_ids
            ):
                digest = await self._push(bot, session, followed)
                if digest != followed.digest:
                    await broadcasts.status_shown(
                        session,
                        broadcast_id=followed.broadcast_id,
                        digest=digest,
                        message_id=followed.message_id,
                    )
            await session.commit()

    async def _push(self, bot: Bot, session: AsyncSession, followed: FollowedStatus) -> str | None:
        """Edit one status message if it changed; what it shows now (None: stop following)."""
        found = await self._mediator(session, followed.author_id)
        if found is None:
            return None
        author, actor, locales = found
        try:
            with self.i18n.context(), self.i18n.use_locale(locales.catalog):
                screen = await _current_status(
                    session, actor, followed.broadcast_id, author, locales
                )
        except DomainError:
            return None  # no longer theirs to see
        digest = _digest(screen)
        if digest == followed.digest:
            return digest
        edit = functools.partial(
            bot.edit_message_text,
            screen.text,
            chat_id=followed.chat_id,
            message_id=followed.message_id,
            # The worker's bot may have no default parse mode.
            parse_mode=ParseMode.HTML,
            reply_markup=screen.keyboard,
        )
        edited = await self._edit(edit, f"status of broadcast {followed.broadcast_id}")
        if edited is Edited.GONE:
            return None
        return followed.digest if edited is Edited.LATER else digest


async def not_yours(event: ErrorEvent) -> None:
    """A button for a group the mediator no longer keeps (or that is gone)."""
    text = _("This group is not one of yours any more. Send /cohort to see yours.")
    if event.update.callback_query is not None:
        await event.update.callback_query.answer(text, show_alert=True)
    elif event.update.message is not None:
        await event.update.message.answer(text)


def create_router() -> Router:
    router = Router(name="mediator")
    # The acting mediator, built once for each update a handler here takes.
    router.message.middleware(MediatorActorMiddleware())
    router.callback_query.middleware(MediatorActorMiddleware())
    router.errors.register(not_yours, ExceptionTypeFilter(NotAllowed, NotFound))
    router.message.register(cohort_command, Command("cohort"), registered)
    router.message.register(nudge_command, Command("nudge"), registered)
    router.message.register(broadcast_command, Command("broadcast"), registered)
    router.callback_query.register(view_cohort, CohortAction.filter(F.action == "view"), registered)
    router.callback_query.register(ask_nudge, CohortAction.filter(F.action == "nudge"), registered)
    router.callback_query.register(nudge_cohort, NudgeConfirm.filter(), registered)
    router.callback_query.register(send_chart, CohortAction.filter(F.action == "chart"), registered)
    router.callback_query.register(
        pick_broadcast_cohort, CohortAction.filter(F.action == "cast"), registered
    )
    router.callback_query.register(send_broadcast, BroadcastWhen.filter(), registered)
    router.callback_query.register(broadcast_status, BroadcastStatusAction.filter(), registered)
    router.message.register(
        preview_broadcast, StateFilter(Mediating.broadcast_text), Matches(F.text), registered
    )
    return router
