"""Certificates in the bot: the PDF when a track is completed, and again from ``/progress``."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CertificatePdf
from bot.filters import registered
from learntogether.config import Settings
from learntogether.db.models import User
from learntogether.documents.certificate import CertificateTexts
from learntogether.i18n import Locales
from learntogether.services import certificates


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


def create_router() -> Router:
    router = Router(name="certificates")
    router.callback_query.register(send_again, CertificatePdf.filter(), registered)
    return router
