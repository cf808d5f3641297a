"""Certificates in the bot: the name to print, the PDF when a track is completed, and the PDF
again from ``/progress``.

The first certificate asks which name to print (Telegram's, with one tap, or one the learner
types); it is kept as the learner's (``/mydata`` shows it, ``/delete`` erases it) and later
certificates print it without asking.
"""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import views
from bot.callbacks import CertificateName, CertificatePdf
from bot.filters import registered, typed_text
from bot.keyboards import InlineKeyboardBuilder
from learntogether import screens
from learntogether.config import Settings
from learntogether.db.models import User
from learntogether.documents.certificate import CertificateTexts, Issuer
from learntogether.i18n import Locales
from learntogether.services import catalogue, certificates
from learntogether.services.catalogue import LessonEntry
from learntogether.services.errors import InvalidInput
from learntogether.telegram_html import shorten

CERTIFICATE_ID = "certificate_id"
"""Conversation-state key: the certificate waiting for its name."""


class NamingCertificate(StatesGroup):
    name = State()


def certificate_texts() -> CertificateTexts:
    """The certificate's phrases in the current learner's language."""
    return CertificateTexts(
        heading=_("Certificate"),
        awarded_to=_("awarded to"),
        for_completing=_("for completing the track"),
        issued_on_label=_("Issued on"),
        verify_label=_("Verification code"),
    )


async def certificate_file(
    session: AsyncSession,
    learner: User,
    certificate_id: int,
    settings: Settings,
    locales: Locales,
) -> BufferedInputFile:
    """The learner's certificate as a PDF in their language (NotFound when it is not theirs)."""
    filename, pdf = await certificates.certificate_document(
        session,
        learner=learner,
        certificate_id=certificate_id,
        locales=locales,
        texts=certificate_texts(),
        verify_base_url=settings.certificate_verify_url(),
        issuer=Issuer(settings.programme_name, settings.certificate_logo),
    )
    return BufferedInputFile(pdf, filename=filename)


async def send_certificate(
    message: Message,
    session: AsyncSession,
    learner: User,
    certificate_id: int,
    settings: Settings,
    locales: Locales,
    *,
    caption: str,
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """The learner's certificate as a PDF, under ``caption``."""
    document = await certificate_file(session, learner, certificate_id, settings, locales)
    await message.answer_document(document, caption=caption, reply_markup=keyboard)


async def send_again(
    query: CallbackQuery,
    callback_data: CertificatePdf,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    locales: Locales,
) -> None:
    """A certificate's button under ``/progress``: its PDF once more.

    A button naming someone else's certificate raises NotFound before the query is answered, so
    the errors' handler gives the polite answer.
    """
    document = await certificate_file(
        session, learner, callback_data.certificate_id, settings, locales
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer_document(document, caption=_("Your certificate, once more."))


async def offer_certificate(
    message: Message,
    session: AsyncSession,
    learner: User,
    certificate_id: int,
    settings: Settings,
    locales: Locales,
    state: FSMContext,
    next_lesson: LessonEntry | None,
) -> None:
    """A track just completed: the certificate, or first the question which name to print."""
    suggestion = certificates.name_to_ask(learner)
    if suggestion is None:
        await _send_earned(
            message, session, learner, certificate_id, settings, locales, next_lesson
        )
        return
    await state.set_state(NamingCertificate.name)
    await state.update_data({CERTIFICATE_ID: certificate_id})
    builder = InlineKeyboardBuilder()
    if suggestion:
        text = _(
            "🎓 You completed the track! Your certificate is ready to print. Shall it show your "
            "name as <b>{name}</b>? Press the button, or send me the name as you would like it "
            "written."
        ).format(name=html.quote(suggestion))
        builder.button(
            text=shorten(_("✓ Print “{name}”").format(name=suggestion), screens.BUTTON_TEXT_LIMIT),
            callback_data=CertificateName(certificate_id=certificate_id),
        )
    else:
        text = _(
            "🎓 You completed the track! Your certificate is ready to print. Send me your name as "
            "you would like it written on it."
        )
    await message.answer(text, reply_markup=builder.as_markup() if suggestion else None)


async def _send_earned(
    message: Message,
    session: AsyncSession,
    learner: User,
    certificate_id: int,
    settings: Settings,
    locales: Locales,
    next_lesson: LessonEntry | None,
) -> None:
    await send_certificate(
        message,
        session,
        learner,
        certificate_id,
        settings,
        locales,
        caption=_("Congratulations! You completed the track. Here is your certificate."),
        keyboard=views.continue_keyboard(next_lesson),
    )


async def accept_name(
    query: CallbackQuery,
    callback_data: CertificateName,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    locales: Locales,
    state: FSMContext,
) -> None:
    """The Telegram name accepted with one tap."""
    await certificates.choose_name(
        session, learner=learner, certificate_id=callback_data.certificate_id, name=None
    )
    await query.answer()
    await state.clear()
    if isinstance(query.message, Message):
        await _named(
            query.message, session, learner, callback_data.certificate_id, settings, locales
        )


async def typed_name(
    message: Message,
    session: AsyncSession,
    learner: User,
    settings: Settings,
    locales: Locales,
    state: FSMContext,
) -> None:
    """A name the learner wrote for their certificate."""
    certificate_id = int((await state.get_data())[CERTIFICATE_ID])
    try:
        await certificates.choose_name(
            session, learner=learner, certificate_id=certificate_id, name=message.text
        )
    except InvalidInput:
        await message.answer(
            _("Please send the name in one message of at most {limit} characters.").format(
                limit=certificates.NAME_LIMIT
            )
        )
        return
    await state.clear()
    await _named(message, session, learner, certificate_id, settings, locales)


async def _named(
    message: Message,
    session: AsyncSession,
    learner: User,
    certificate_id: int,
    settings: Settings,
    locales: Locales,
) -> None:
    next_lesson = await catalogue.suggested_lesson(session, learner=learner, chain=locales.content)
    await _send_earned(message, session, learner, certificate_id, settings, locales, next_lesson)


def create_router() -> Router:
    router = Router(name="certificates")
    router.message.filter(registered)
    router.callback_query.filter(registered)
    router.callback_query.register(send_again, CertificatePdf.filter())
    router.callback_query.register(accept_name, CertificateName.filter())
    router.message.register(typed_name, StateFilter(NamingCertificate.name), typed_text)
    return router
