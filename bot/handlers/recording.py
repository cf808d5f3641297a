"""``/record``: a mediator reads a lesson step aloud in their language, for review and publication.

Track → lesson → step (its text shown, the step's recordings in the chosen language played),
the language (Romani with a note on the dialect), an explicit agreement to publication (a
recording is the speaker's personal data), then the voice note. Thin over
``services.recordings``.
"""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, ExceptionTypeFilter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    ErrorEvent,
    InlineKeyboardButton,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import (
    RecordConsent,
    RecordLanguage,
    RecordLesson,
    RecordStep,
    RecordTrack,
    RecordWithdraw,
)
from bot.filters import Matches, registered, typed_text
from bot.keyboards import InlineKeyboardBuilder
from bot.views import Screen, send, show
from bot.voice_notes import incoming, play, refusal
from learntogether.db.models import User
from learntogether.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, Locales
from learntogether.services import recordings
from learntogether.services.errors import Conflict, NotAllowed, NotFound
from learntogether.services.media import AudioRefused
from learntogether.services.recordings import ROMANI, StepSource

BUTTON_TEXT = 60


class Recording(StatesGroup):
    dialect = State()
    consent = State()
    voice = State()


def _back(builder: InlineKeyboardBuilder, label: str, data: str) -> None:
    builder.row(InlineKeyboardButton(text=label, callback_data=data))


async def _tracks_screen(session: AsyncSession, learner: User, locales: Locales) -> Screen:
    builder = InlineKeyboardBuilder()
    for track in await recordings.tracks(session, learner=learner, chain=locales.content):
        builder.button(text=track.title[:BUTTON_TEXT], callback_data=RecordTrack(track_id=track.id))
    builder.adjust(1)
    return Screen(_("Record a lesson step in your language. Which track?"), builder.as_markup())


async def record_command(
    message: Message, session: AsyncSession, learner: User, locales: Locales, state: FSMContext
) -> None:
    await state.clear()
    await send(message, await _tracks_screen(session, learner, locales))


async def pick_track(
    query: CallbackQuery,
    callback_data: RecordTrack,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    await query.answer()
    if not callback_data.track_id:
        await show(query, await _tracks_screen(session, learner, locales))
        return
    builder = InlineKeyboardBuilder()
    for lesson in await recordings.lessons_of(
        session, learner=learner, track_id=callback_data.track_id, chain=locales.content
    ):
        builder.button(
            text=lesson.title[:BUTTON_TEXT], callback_data=RecordLesson(lesson_id=lesson.id)
        )
    builder.adjust(1)
    _back(builder, _("« Tracks"), RecordTrack(track_id=0).pack())
    await show(query, Screen(_("Which lesson?"), builder.as_markup()))


async def pick_lesson(
    query: CallbackQuery,
    callback_data: RecordLesson,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    await query.answer()
    source = await recordings.step_source(
        session, learner=learner, lesson_id=callback_data.lesson_id, index=0, chain=locales.content
    )
    builder = InlineKeyboardBuilder()
    for index in range(source.count):
        builder.button(
            text=str(index + 1),
            callback_data=RecordStep(lesson_id=source.lesson_id, index=index),
        )
    builder.adjust(6)
    _back(builder, _("« Tracks"), RecordTrack(track_id=0).pack())
    text = _("<b>{lesson}</b>: which step will you record?").format(
        lesson=html.quote(source.lesson_title)
    )
    await show(query, Screen(text, builder.as_markup()))


def _step_text(source: StepSource) -> str:
    header = _("<b>{lesson}</b> · step {number} of {count}").format(
        lesson=html.quote(source.lesson_title), number=source.index + 1, count=source.count
    )
    return f"{header}\n\n{source.text}"


async def pick_step(
    query: CallbackQuery,
    callback_data: RecordStep,
    session: AsyncSession,
    learner: User,
    locales: Locales,
    state: FSMContext,
) -> None:
    await query.answer()
    source = await recordings.step_source(
        session,
        learner=learner,
        lesson_id=callback_data.lesson_id,
        index=callback_data.index,
        chain=locales.content,
    )
    await state.set_data({"version_id": source.version_id, "index": source.index})
    builder = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        mark = " 🔊" if code in source.recorded else ""
        builder.button(text=LANGUAGE_NAMES[code] + mark, callback_data=RecordLanguage(code=code))
    builder.adjust(2)
    question = _(
        "Read this step aloud in your language. In which language will you record it? "
        "(🔊: it has a recording already; you will hear it first.)"
    )
    await show(query, Screen(f"{_step_text(source)}\n\n{question}", builder.as_markup()))


async def pick_language(
    query: CallbackQuery,
    callback_data: RecordLanguage,
    bot: Bot,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await query.answer()
    data = await state.get_data()
    if "version_id" not in data or not isinstance(query.message, Message):
        raise recordings.RecordingNotFound("No step is being recorded.")
    # Not "locale": onboarding keeps the learner's chosen language under that key.
    await state.update_data(recording_locale=callback_data.code, dialect=None)
    existing = await recordings.published_audio(
        session, version_id=data["version_id"], index=data["index"], locale=callback_data.code
    )
    if existing is not None:
        await play(query.message, bot, session, existing)
    if callback_data.code == ROMANI:
        await state.set_state(Recording.dialect)
        await query.message.answer(
            _(
                "Romani is spoken in many ways. In a few words, which dialect will you speak "
                "(for example Kalderash, Erli, Arli)? Or send - to leave it out."
            )
        )
        return
    await _ask_consent(query.message, state)


async def give_dialect(message: Message, state: FSMContext) -> None:
    note = (message.text or "").strip()
    await state.update_data(dialect=None if note == "-" else note)
    await _ask_consent(message, state)


async def _ask_consent(message: Message, state: FSMContext) -> None:
    await state.set_state(Recording.consent)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("I agree"), callback_data=RecordConsent(agree=True))
    builder.button(text=_("Cancel"), callback_data=RecordConsent(agree=False))
    builder.adjust(1)
    await message.answer(
        _(
            "Your voice is your personal data. The programme team will listen to your recording; "
            "if they approve it, it becomes part of the lesson: every learner of it hears it, "
            "with your name as its speaker. You can withdraw it until it is approved. Do you "
            "agree that it is published this way?"
        ),
        reply_markup=builder.as_markup(),
    )


async def consent(query: CallbackQuery, callback_data: RecordConsent, state: FSMContext) -> None:
    await query.answer()
    if not callback_data.agree:
        await state.clear()
        await show(query, Screen(_("Nothing was recorded.")))
        return
    await state.set_state(Recording.voice)
    await show(
        query,
        Screen(
            _(
                "Thank you. Now hold the microphone button and read the step aloud (up to 3 "
                "minutes), then send the voice note."
            )
        ),
    )


async def receive_voice(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    learner: User,
    state: FSMContext,
) -> None:
    assert message.voice is not None  # the filter saw to it
    data = await state.get_data()
    if "recording_locale" not in data:  # the conversation was lost (a restart without Redis)
        await state.clear()
        await message.answer(
            _("This lesson or step is no longer offered. Send /record to choose again.")
        )
        return
    try:
        recording = await recordings.submit(
            session,
            learner=learner,
            version_id=data["version_id"],
            index=data["index"],
            locale=data["recording_locale"],
            dialect=data.get("dialect"),
            voice=incoming(bot, message.voice),
        )
    except AudioRefused as refused:
        await message.answer(refusal(refused))
        return
    await state.clear()
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Withdraw it"), callback_data=RecordWithdraw(recording_id=recording.id))
    await message.answer(
        _(
            "Thank you! Your recording waits for the programme team to listen to it. I will tell "
            "you here when it is approved or not."
        ),
        reply_markup=builder.as_markup(),
    )


async def not_a_voice_note(message: Message) -> None:
    await message.answer(
        _("Please send a voice note: hold the microphone button and read the step aloud.")
    )


async def withdraw(
    query: CallbackQuery, callback_data: RecordWithdraw, session: AsyncSession, learner: User
) -> None:
    await query.answer()
    await recordings.withdraw(session, learner=learner, recording_id=callback_data.recording_id)
    await show(query, Screen(_("Your recording was withdrawn and deleted.")))


async def refused(event: ErrorEvent) -> None:
    """Not a mediator, a step gone, a recording already reviewed: said plainly."""
    error = event.exception
    if isinstance(error, NotAllowed):
        text = _("Recording lessons is for mediators.")
    elif isinstance(error, Conflict):
        text = _("This recording was already reviewed; it can no longer be withdrawn.")
    else:
        text = _("This lesson or step is no longer offered. Send /record to choose again.")
    query, message = event.update.callback_query, event.update.message
    if query is not None:
        await query.answer(text, show_alert=True)
    elif message is not None:
        await message.answer(text)


_PREFIXES = tuple(
    f"{data.__prefix__}:"
    for data in (
        RecordTrack,
        RecordLesson,
        RecordStep,
        RecordLanguage,
        RecordConsent,
        RecordWithdraw,
    )
)


async def about_recording(event: ErrorEvent) -> bool:
    """Filter: the failed update was /record or one of its buttons (errors reach every router's
    error handlers in turn, so this one must not answer for the others)."""
    query, message = event.update.callback_query, event.update.message
    if query is not None:
        return (query.data or "").startswith(_PREFIXES)
    return message is not None and (message.text or "").startswith("/record")


def create_router() -> Router:
    router = Router(name="recording")
    router.message.filter(registered)
    router.callback_query.filter(registered)
    router.message.register(record_command, Command("record"))
    router.callback_query.register(pick_track, RecordTrack.filter())
    router.callback_query.register(pick_lesson, RecordLesson.filter())
    router.callback_query.register(pick_step, RecordStep.filter())
    router.callback_query.register(pick_language, RecordLanguage.filter())
    router.callback_query.register(consent, RecordConsent.filter(), StateFilter(Recording.consent))
    router.callback_query.register(withdraw, RecordWithdraw.filter())
    router.message.register(give_dialect, StateFilter(Recording.dialect), typed_text)
    router.message.register(receive_voice, StateFilter(Recording.voice), Matches(F.voice))
    router.message.register(
        not_a_voice_note, StateFilter(Recording.voice), Matches(~F.text.startswith("/"))
    )
    router.errors.register(
        refused, ExceptionTypeFilter(NotAllowed, NotFound, Conflict), about_recording
    )
    return router
