"""``/progress``: what the learner has done, with a small chart, and their certificates."""

from __future__ import annotations

import asyncio

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_date
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CertificatePdf
from bot.filters import registered
from bot.keyboards import InlineKeyboardBuilder
from bot.views import CAPTION_LIMIT, Screen, send
from learntogether.charts import progress_chart
from learntogether.db.models import User
from learntogether.i18n import Locales, babel_locale
from learntogether.screens import BUTTON_TEXT_LIMIT, visible_length
from learntogether.services import certificates, progress
from learntogether.telegram_html import shorten


async def show_progress(
    message: Message, session: AsyncSession, learner: User, locales: Locales
) -> None:
    summary = await progress.summary(session, learner=learner, chain=locales.content)
    lines = [
        _("<b>Your progress</b>"),
        ngettext(
            "{count} lesson completed", "{count} lessons completed", summary.lessons_done
        ).format(count=summary.lessons_done),
        ngettext("{count} track completed", "{count} tracks completed", summary.tracks_done).format(
            count=summary.tracks_done
        ),
    ]
    if summary.average_score is not None:
        lines.append(_("Average quiz score: {score}%").format(score=summary.average_score))
    if summary.streak_days:
        lines.append(
            ngettext("{count} day in a row", "{count} days in a row", summary.streak_days).format(
                count=summary.streak_days
            )
        )
    for track in summary.tracks:
        lines.append(f"• {html.quote(track.title)}: {track.done}/{track.total}")
    if not summary.lessons_started:
        lines.append(_("You have not started a lesson yet. Send /lessons to begin."))
    own = await certificates.own_certificates(session, learner=learner, chain=locales.content)
    keyboard = None
    if own:
        lines.append("")
        lines.append(_("<b>Your certificates</b> (press one to get its PDF again)"))
        builder = InlineKeyboardBuilder()
        for certificate in own:
            issued = format_date(
                certificate.issued_on, "medium", locale=babel_locale(locales.formatting)
            )
            lines.append(f"• {html.quote(certificate.track_title)}, {issued}")
            builder.button(
                text=shorten(f"📄 {certificate.track_title}", BUTTON_TEXT_LIMIT),
                callback_data=CertificatePdf(certificate_id=certificate.id),
            )
        builder.adjust(1)
        keyboard = builder.as_markup()
    text = "\n".join(lines)
    if not summary.tracks:
        await send(message, Screen(text, keyboard))
        return
    # Drawing takes a tenth of a second: off the event loop, as every chart.
    chart = await asyncio.to_thread(
        progress_chart, summary.tracks, done_label=_("done"), left_label=_("to do")
    )
    photo = BufferedInputFile(chart, filename="progress.png")
    if visible_length(text) <= CAPTION_LIMIT:
        await message.answer_photo(photo, caption=text, reply_markup=keyboard)
        return
    await message.answer_photo(photo)
    await send(message, Screen(text, keyboard))


def create_router() -> Router:
    router = Router(name="progress")
    router.message.register(show_progress, Command("progress"), registered)
    return router
