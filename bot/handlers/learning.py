"""``/lessons``, the lesson player and quizzes: thin over the catalogue, player and quiz services."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, ExceptionTypeFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    ErrorEvent,
    InputPollOption,
    Message,
    PollAnswer,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import views
from bot.callbacks import (
    CataloguePage,
    Choose,
    FinishLesson,
    GoToStep,
    NextQuestion,
    OpenLesson,
    SkipQuestion,
    StartQuiz,
    Submit,
    Toggle,
    TrackPage,
)
from bot.filters import Matches, registered
from bot.handlers.certificates import offer_certificate
from bot.keyboards import InlineKeyboardBuilder
from bot.voice_notes import incoming, refusal, upload_of
from learntogether.config import Settings
from learntogether.db.models import User
from learntogether.i18n import Locales
from learntogether.services import catalogue, listening, player, quizzes
from learntogether.services.errors import InvalidInput, NotFound
from learntogether.services.media import AudioRefused
from learntogether.services.outbox import RESUME_CALLBACK
from learntogether.services.player import StaleButton
from learntogether.services.quizzes import QuestionView

POLL_STUB = "poll_stub"
"""Conversation-state key: the message above the learner's open quiz poll."""


async def show_catalogue(
    message: Message, session: AsyncSession, learner: User, locales: Locales
) -> None:
    screen = views.catalogue(
        await catalogue.catalogue(session, learner=learner, chain=locales.content), 0
    )
    await views.send(message, screen)


async def page_catalogue(
    query: CallbackQuery,
    callback_data: CataloguePage,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    await query.answer()
    await views.show(
        query,
        views.catalogue(
            await catalogue.catalogue(session, learner=learner, chain=locales.content),
            callback_data.page,
        ),
    )


async def show_track(
    query: CallbackQuery,
    callback_data: TrackPage,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    entry = await catalogue.track(
        session, learner=learner, track_id=callback_data.track_id, chain=locales.content
    )
    if entry is None:
        await query.answer(_("This track is not offered any more."), show_alert=True)
        return
    await query.answer()
    await views.show(query, views.track(entry, callback_data.page))


async def _show_step(
    query: CallbackQuery,
    session: AsyncSession,
    learner: User,
    bot: Bot,
    view: player.PlayerView,
    *,
    show_notice: bool,
) -> None:
    """The step in the message the button was on, or as a voice note to a learner who would
    rather listen (uploaded the first time, by file_id after)."""
    voice = await listening.voice_note(session, learner=learner, view=view, bot_id=bot.id)
    if voice is None:
        await views.show(query, views.step(view, show_notice=show_notice))
        return
    sent = await views.show_voice(
        query,
        views.step(view, show_notice=show_notice, spoken=True),
        upload_of(voice),
        voice.duration,
    )
    if sent is not None:
        file_id = sent.voice.file_id if sent.voice is not None else None
        await listening.voice_sent(
            session, learner=learner, view=view, voice=voice, bot_id=bot.id, file_id=file_id
        )


async def open_lesson(
    query: CallbackQuery,
    callback_data: OpenLesson,
    session: AsyncSession,
    learner: User,
    locales: Locales,
    bot: Bot,
) -> None:
    view = await player.open_lesson(
        session, learner=learner, lesson_id=callback_data.lesson_id, chain=locales.content
    )
    await query.answer()
    await _show_step(query, session, learner, bot, view, show_notice=True)


async def resume(
    query: CallbackQuery, session: AsyncSession, learner: User, locales: Locales, bot: Bot
) -> None:
    """The Continue button of a nudge or reminder: straight into the next lesson."""
    lesson = await catalogue.suggested_lesson(session, learner=learner, chain=locales.content)
    await query.answer()
    if lesson is None:
        screen = views.catalogue(
            await catalogue.catalogue(session, learner=learner, chain=locales.content), 0
        )
        await views.show(query, screen)
        return
    view = await player.open_lesson(
        session, learner=learner, lesson_id=lesson.lesson_id, chain=locales.content
    )
    await _show_step(query, session, learner, bot, view, show_notice=True)


async def go_to_step(
    query: CallbackQuery,
    callback_data: GoToStep,
    session: AsyncSession,
    learner: User,
    locales: Locales,
    bot: Bot,
) -> None:
    view = await player.go_to_step(
        session,
        learner=learner,
        progress_id=callback_data.progress_id,
        version_id=callback_data.version_id,
        index=callback_data.index,
        chain=locales.content,
    )
    await query.answer()
    await _show_step(query, session, learner, bot, view, show_notice=False)


async def finish_lesson(
    query: CallbackQuery,
    callback_data: FinishLesson,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    locales: Locales,
    state: FSMContext,
) -> None:
    finished = await quizzes.complete_without_quiz(
        session,
        learner=learner,
        progress_id=callback_data.progress_id,
        version_id=callback_data.version_id,
        chain=locales.content,
    )
    await query.answer()
    await views.show(query, views.lesson_finished(finished.next_lesson))
    if finished.certificate_id is not None and isinstance(query.message, Message):
        await offer_certificate(
            query.message,
            session,
            learner,
            finished.certificate_id,
            settings,
            locales,
            state,
            finished.next_lesson,
        )


async def start_quiz(
    query: CallbackQuery,
    callback_data: StartQuiz,
    session: AsyncSession,
    learner: User,
    locales: Locales,
    state: FSMContext,
) -> None:
    view = await quizzes.start_attempt(
        session,
        learner=learner,
        progress_id=callback_data.progress_id,
        version_id=callback_data.version_id,
        chain=locales.content,
        resume=True,
    )
    await query.answer()
    await _present(query, session, learner, state, view)


async def show_question(
    query: CallbackQuery,
    callback_data: NextQuestion | Toggle,
    session: AsyncSession,
    learner: User,
    locales: Locales,
    state: FSMContext,
) -> None:
    """The current question again: a multiple choice toggled, or an older message's "Next question"."""
    view = await quizzes.current_question(
        session,
        learner=learner,
        attempt_id=callback_data.attempt_id,
        index=callback_data.index,
        chain=locales.content,
    )
    mask = callback_data.mask if isinstance(callback_data, Toggle) else 0
    await query.answer()
    await _present(query, session, learner, state, view, mask=mask)


async def _present(
    target: CallbackQuery | Message,
    session: AsyncSession,
    learner: User,
    state: FSMContext,
    view: QuestionView,
    *,
    mask: int = 0,
    lead: str | None = None,
) -> None:
    """Show a question in the message a button was on, or below ``target``'s message; one marked
    ``poll`` goes out as a native quiz poll under it. ``lead``: feedback on the last answer."""
    screen = views.question(view, mask=mask, lead=lead)
    if isinstance(target, CallbackQuery):
        await views.show(target, screen)
        shown = target.message if isinstance(target.message, Message) else None
    else:
        shown = await views.send(target, screen)
    if view.question.poll and shown is not None:
        await _send_poll(shown, session, learner, state, view, lead=lead)


async def _send_poll(
    stub: Message,
    session: AsyncSession,
    learner: User,
    state: FSMContext,
    view: QuestionView,
    *,
    lead: str | None,
) -> None:
    """The quiz poll under ``stub``, the message that says to answer it below.

    The stub is remembered (in the conversation state: it is only looks) so that the vote can
    take its "answer below" away.
    """
    question = view.question
    poll = await stub.answer_poll(
        question=question.text,
        options=[InputPollOption(text=option.text) for option in question.options],
        type="quiz",
        is_anonymous=False,
        correct_option_id=next(
            index for index, option in enumerate(question.options) if option.correct
        ),
        explanation=question.explanation,
    )
    if poll.poll is not None:
        await quizzes.poll_sent(
            session,
            learner=learner,
            attempt_id=view.attempt_id,
            index=view.index,
            poll_id=poll.poll.id,
        )
        await state.update_data(
            {
                POLL_STUB: {
                    "poll": poll.poll.id,
                    "message": stub.message_id,
                    "text": views.poll_question_answered(view, lead=lead),
                }
            }
        )


async def _settle_poll_stub(bot: Bot, chat_id: int, state: FSMContext, poll_id: str) -> None:
    """The voted poll's message no longer says to answer below."""
    stub = (await state.get_data()).get(POLL_STUB)
    if not isinstance(stub, dict) or stub.get("poll") != poll_id:
        return
    await state.update_data({POLL_STUB: None})
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_text(
            text=stub["text"], chat_id=chat_id, message_id=stub["message"], reply_markup=None
        )


async def poll_answered(
    answer: PollAnswer,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    bot: Bot,
    locales: Locales,
    state: FSMContext,
) -> None:
    """A vote in a quiz poll: the outcome and the way on, as a new message under the poll."""
    if answer.user is None:
        return
    await _settle_poll_stub(bot, answer.user.id, state, answer.poll_id)
    try:
        result = await quizzes.answer_poll(
            session,
            learner=learner,
            poll_id=answer.poll_id,
            chosen=answer.option_ids,
            chain=locales.content,
        )
    except StaleButton:
        await bot.send_message(
            answer.user.id, _("That quiz is from an older attempt. Send /lessons to go on.")
        )
        return
    if result.next_question is not None:
        screen = views.question(result.next_question, lead=views.feedback(result))
    else:
        screen = views.outcome(result)
    message = await bot.send_message(answer.user.id, screen.text, reply_markup=screen.keyboard)
    if result.next_question is not None and result.next_question.question.poll:
        lead = views.feedback(result)
        await _send_poll(message, session, learner, state, result.next_question, lead=lead)
    if result.certificate_id is not None:
        await offer_certificate(
            message,
            session,
            learner,
            result.certificate_id,
            settings,
            locales,
            state,
            result.next_lesson,
        )


async def choose(
    query: CallbackQuery,
    callback_data: Choose,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    locales: Locales,
    state: FSMContext,
) -> None:
    await _answer(
        query,
        session,
        learner,
        settings,
        locales,
        state,
        callback_data.attempt_id,
        callback_data.index,
        [callback_data.option],
    )


async def submit(
    query: CallbackQuery,
    callback_data: Submit,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    locales: Locales,
    state: FSMContext,
) -> None:
    chosen = [
        index
        for index in range(callback_data.mask.bit_length())
        if callback_data.mask & (1 << index)
    ]
    if not chosen:
        await query.answer(_("Choose at least one answer first."), show_alert=True)
        return
    await _answer(
        query,
        session,
        learner,
        settings,
        locales,
        state,
        callback_data.attempt_id,
        callback_data.index,
        chosen,
    )


async def skip(
    query: CallbackQuery,
    callback_data: SkipQuestion,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    locales: Locales,
    state: FSMContext,
) -> None:
    await _answer(
        query,
        session,
        learner,
        settings,
        locales,
        state,
        callback_data.attempt_id,
        callback_data.index,
        [],
    )


async def _answer(
    query: CallbackQuery,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    locales: Locales,
    state: FSMContext,
    attempt_id: int,
    index: int,
    chosen: list[int],
) -> None:
    result = await quizzes.answer(
        session,
        learner=learner,
        attempt_id=attempt_id,
        index=index,
        chosen=chosen,
        chain=locales.content,
    )
    # Said once, in the message: no toast repeating the feedback.
    await query.answer()
    if result.next_question is not None:
        lead = views.feedback(result)
        await _present(query, session, learner, state, result.next_question, lead=lead)
        return
    await views.show(query, views.outcome(result))
    if result.certificate_id is not None and isinstance(query.message, Message):
        await offer_certificate(
            query.message,
            session,
            learner,
            result.certificate_id,
            settings,
            locales,
            state,
            result.next_lesson,
        )


async def awaiting_open_answer(
    message: Message, session: AsyncSession, learner: User, locales: Locales
) -> dict[str, QuestionView] | bool:
    """Filter: an open question is waiting for this learner's words (handed on as ``pending``)."""
    pending = await quizzes.pending_open_question(session, learner=learner, chain=locales.content)
    return {"pending": pending} if pending is not None else False


async def open_answer(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    pending: QuestionView,
    locales: Locales,
    state: FSMContext,
) -> None:
    """An open question answered in writing or by voice (kept if it is fit to keep)."""
    try:
        result = await quizzes.answer(
            session,
            learner=learner,
            attempt_id=pending.attempt_id,
            index=pending.index,
            text=message.text,
            voice=incoming(bot, message.voice) if message.voice is not None else None,
            chain=locales.content,
        )
    except AudioRefused as refused:
        await message.answer(refusal(refused))
        return
    if result.next_question is not None:
        lead = views.feedback(result)
        await _present(message, session, learner, state, result.next_question, lead=lead)
        return
    await views.send(message, views.outcome(result))
    if result.certificate_id is not None:
        await offer_certificate(
            message,
            session,
            learner,
            result.certificate_id,
            settings,
            locales,
            state,
            result.next_lesson,
        )


async def open_answer_not_in_words(message: Message) -> None:
    """A file, a music track, a picture where an open question waits: nothing is kept."""
    await message.answer(
        _(
            "Please answer in your own words: write them, or hold the microphone button and say "
            "them in a voice note (up to 2 minutes). Files and pictures are not kept here."
        )
    )


async def stale_button(event: ErrorEvent) -> None:
    """Buttons from older messages, versions or attempts: a polite word and the way forward."""
    query = event.update.callback_query
    if query is None:
        raise event.exception
    error = event.exception
    lesson_id = error.lesson_id if isinstance(error, StaleButton) else None
    await query.answer(_("This button is from an older message. Here is where you are now."))
    if isinstance(query.message, Message):
        builder = InlineKeyboardBuilder()
        if lesson_id is not None:
            builder.button(text=_("Open the lesson"), callback_data=OpenLesson(lesson_id=lesson_id))
        builder.button(text=_("All lessons"), callback_data=CataloguePage(page=0))
        builder.adjust(1)
        await query.message.answer(
            _("That button was from an older version of this screen."),
            reply_markup=builder.as_markup(),
        )


def create_router() -> Router:
    router = Router(name="learning")
    router.message.filter(registered)
    router.callback_query.filter(registered)
    router.message.register(show_catalogue, Command("lessons"))
    router.callback_query.register(page_catalogue, CataloguePage.filter())
    router.callback_query.register(show_track, TrackPage.filter())
    router.callback_query.register(open_lesson, OpenLesson.filter())
    router.callback_query.register(resume, Matches(F.data == RESUME_CALLBACK))
    router.callback_query.register(go_to_step, GoToStep.filter())
    router.callback_query.register(finish_lesson, FinishLesson.filter())
    router.callback_query.register(start_quiz, StartQuiz.filter())
    router.callback_query.register(show_question, NextQuestion.filter())
    router.callback_query.register(show_question, Toggle.filter())
    router.callback_query.register(choose, Choose.filter())
    router.callback_query.register(submit, Submit.filter())
    router.callback_query.register(skip, SkipQuestion.filter())
    router.poll_answer.register(poll_answered, registered)
    router.message.register(
        open_answer, Matches((F.text & ~F.text.startswith("/")) | F.voice), awaiting_open_answer
    )
    router.message.register(
        open_answer_not_in_words,
        Matches(F.audio | F.document | F.photo | F.video | F.video_note | F.sticker),
        awaiting_open_answer,
    )
    router.errors.register(stale_button, ExceptionTypeFilter(StaleButton, NotFound, InvalidInput))
    return router
