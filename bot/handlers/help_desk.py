"""A human to ask: a learner's question to their mediators, and a mediator's answer back.

Learner side: a message that is only a help word ("help", "ayuda", "помощ", …) asks what to pass
on; a message the bot did not understand offers "Ask my mediator" (``fallback``). Mediator side:
a reply to the passed-on question, or its Reply button, answers the learner. Who may ask and
answer, and what is kept, is decided in ``learntogether/services/help.py``.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AskMediator, HelpCancel, HelpReply
from bot.filters import Matches, registered, typed_text
from bot.keyboards import InlineKeyboardBuilder
from learntogether.config import Settings
from learntogether.db.models import User
from learntogether.services import help as help_desk
from learntogether.services import learners, outbox
from learntogether.services.errors import DomainError, InvalidInput, NotAllowed

DRAFT = "help_draft"
"""Conversation-state key: the message the bot did not understand, kept for "Ask my mediator"."""
REPLYING_TO = "help_replying_to"


class Asking(StatesGroup):
    question = State()
    """A learner writes the question for their mediator."""
    answer = State()
    """A mediator writes the answer to a learner's question."""


def no_mediator_text(settings: Settings) -> str:
    """For a learner with no mediator in the bot: /help, and the programme's contact if set."""
    if settings.programme_contact:
        return _(
            "There is no mediator for you in the bot yet. Send /help to see what I can do; for "
            "anything else, write to the programme: {contact}"
        ).format(contact=html.quote(settings.programme_contact))
    return _("There is no mediator for you in the bot yet. Send /help to see what I can do.")


def ask_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Ask my mediator"), callback_data=AskMediator())
    return builder.as_markup()


def _cancel_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Cancel"), callback_data=HelpCancel())
    return builder.as_markup()


async def offer(
    message: Message, session: AsyncSession, learner: User, state: FSMContext, settings: Settings
) -> None:
    """A message the bot did not understand: offer to pass it on to the learner's mediators."""
    if not await help_desk.has_mediator(session, learner=learner):
        await message.answer(_("I did not understand that.") + "\n\n" + no_mediator_text(settings))
        return
    await state.update_data({DRAFT: message.text})
    await message.answer(
        _(
            "I did not understand that. Send /help to see what I can do, or shall I pass your "
            "message on to your mediator?"
        ),
        reply_markup=ask_keyboard(),
    )


async def help_word(
    message: Message, session: AsyncSession, learner: User, state: FSMContext, settings: Settings
) -> None:
    if not await help_desk.has_mediator(session, learner=learner):
        await message.answer(no_mediator_text(settings))
        return
    await state.set_state(Asking.question)
    await message.answer(
        _(
            "What would you like to ask your mediator? Write it in one message and I will pass "
            "it on. Send /help to see what I can do myself."
        ),
        reply_markup=_cancel_keyboard(),
    )


async def write_question(
    message: Message,
    session: AsyncSession,
    learner: User,
    state: FSMContext,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> None:
    await state.clear()
    await message.answer(
        await _pass_on(session, learner, message.text, settings, bot, i18n),
    )


async def ask_mediator(
    query: CallbackQuery,
    session: AsyncSession,
    learner: User,
    state: FSMContext,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> None:
    draft = (await state.get_data()).get(DRAFT)
    await state.update_data({DRAFT: None})
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if not draft:
        await query.message.edit_text(
            _("What would you like to ask your mediator? Write it in one message."),
            reply_markup=_cancel_keyboard(),
        )
        await state.set_state(Asking.question)
        return
    await query.message.edit_text(await _pass_on(session, learner, draft, settings, bot, i18n))


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("All right: nothing was sent."))


async def _pass_on(
    session: AsyncSession,
    learner: User,
    text: str | None,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> str:
    """Keep the question, send it to each mediator in their language; what to tell the learner."""
    try:
        question = await help_desk.ask_mediators(session, learner=learner, text=text)
    except help_desk.NoMediator:
        return no_mediator_text(settings)
    except DomainError as error:
        return _refusal(error)
    languages = await learners.locales_of(
        session, question.mediators, default_locale=settings.default_locale
    )
    copies = []
    for mediator in question.mediators:
        with i18n.use_locale(languages[mediator.user_id].catalog):
            sent = await _send_or_skip(
                session,
                bot,
                mediator.telegram_id,
                _(
                    "<b>{name} asks</b> (group {cohort}):\n\n{text}\n\nReply to this message, "
                    "or press Reply, and I will pass your answer on."
                ).format(
                    name=html.quote(question.learner_name),
                    cohort=html.quote(question.cohort_name),
                    text=html.quote(question.text),
                ),
                reply_markup=_reply_keyboard(question.help_id),
            )
        if sent is not None:
            copies.append((sent.chat.id, sent.message_id))
    await help_desk.record_copies(session, help_id=question.help_id, copies=copies)
    if not copies:
        # Kept all the same (the API lists it with the learner's questions), but nobody was told.
        return _(
            "I could not reach your mediator in the bot just now. Your message is kept; please "
            "ask again later."
        )
    return _("I passed your message on to your mediator. Their answer will come here.")


async def _send_or_skip(
    session: AsyncSession,
    bot: Bot,
    chat_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send one person's copy; None when Telegram refuses it for good.

    A person who blocked the bot, or a chat that is gone, must not lose the other side its
    message: the conversation is kept either way, and a blocked person is marked so, as the
    delivery worker does.
    """
    try:
        return await bot.send_message(chat_id, text, reply_markup=reply_markup)
    except TelegramForbiddenError:
        await outbox.mark_blocked(session, telegram_id=chat_id)
    except TelegramBadRequest:
        pass
    return None


def _refusal(error: DomainError) -> str:
    """What a refused question or answer tells its writer, in their language."""
    if isinstance(error, InvalidInput):
        return _("Please write it in one message of at most {limit} characters.").format(
            limit=help_desk.MAX_TEXT
        )
    if isinstance(error, NotAllowed):
        return _("Only a mediator of the learner's group can answer.")
    return _("This question can no longer be answered: the learner has erased their data.")


def _reply_keyboard(help_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Reply"), callback_data=HelpReply(help_id=help_id))
    return builder.as_markup()


async def replied_question(message: Message, session: AsyncSession) -> dict[str, Any] | bool:
    """Filter: the message replies to a question the bot passed on (handed on as ``help_id``)."""
    replied = message.reply_to_message
    if replied is None:
        return False
    help_id = await help_desk.question_replied_to(
        session, chat_id=message.chat.id, message_id=replied.message_id
    )
    return {"help_id": help_id} if help_id is not None else False


async def reply_by_quoting(
    message: Message,
    session: AsyncSession,
    learner: User,
    help_id: int,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> None:
    await message.answer(
        await _answer(session, learner, help_id, message.text, settings, bot, i18n)
    )


async def reply_button(query: CallbackQuery, callback_data: HelpReply, state: FSMContext) -> None:
    await state.set_state(Asking.answer)
    await state.update_data({REPLYING_TO: callback_data.help_id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Write your answer in one message, and I will pass it on."),
            reply_markup=_cancel_keyboard(),
        )


async def write_answer(
    message: Message,
    session: AsyncSession,
    learner: User,
    state: FSMContext,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> None:
    help_id = (await state.get_data()).get(REPLYING_TO)
    await state.clear()
    if not isinstance(help_id, int):
        return
    await message.answer(
        await _answer(session, learner, help_id, message.text, settings, bot, i18n)
    )


async def _answer(
    session: AsyncSession,
    mediator: User,
    help_id: int,
    text: str | None,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> str:
    """Keep the answer and send it to the learner in their languages; what to tell the mediator."""
    try:
        answered = await help_desk.answer(session, mediator=mediator, help_id=help_id, text=text)
    except DomainError as error:
        return _refusal(error)
    sent = None
    if answered.learner_telegram_id is not None:
        languages = await learners.locales(
            session, answered.learner, default_locale=settings.default_locale
        )
        with i18n.use_locale(languages.catalog):
            sent = await _send_or_skip(
                session,
                bot,
                answered.learner_telegram_id,
                _("<b>Your mediator {name} answers:</b>\n\n{text}").format(
                    name=html.quote(answered.mediator_name), text=html.quote(answered.text)
                ),
            )
    name = html.quote(answered.learner.first_name or "—")
    if sent is None:
        return _(
            "{name} cannot get messages from the bot now (they may have blocked it). Your answer "
            "is kept."
        ).format(name=name)
    return _("Sent to {name}.").format(name=name)


def create_router() -> Router:
    """Include before the learning router: a mediator's reply to a question is not an answer
    to a quiz."""
    router = Router(name="help_desk")
    router.message.filter(registered)
    router.callback_query.filter(registered)
    text = typed_text
    router.message.register(write_question, StateFilter(Asking.question), text)
    router.message.register(write_answer, StateFilter(Asking.answer), text)
    router.message.register(reply_by_quoting, text, replied_question)
    router.message.register(
        help_word, StateFilter(None), text, Matches(F.text.func(help_desk.is_help_word))
    )
    router.callback_query.register(ask_mediator, AskMediator.filter())
    router.callback_query.register(cancel, HelpCancel.filter())
    router.callback_query.register(reply_button, HelpReply.filter())
    return router
