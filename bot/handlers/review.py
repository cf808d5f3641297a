"""Spaced review in the bot: the invitation's Start and Skip, and the review's questions.

Thin over ``learntogether/services/review.py``; the invitation itself comes through the outbox.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import views
from bot.callbacks import ReviewChoice, ReviewSkip, ReviewStart
from bot.filters import registered
from learntogether.db.models import User
from learntogether.i18n import Locales
from learntogether.services import review


async def start_review(
    query: CallbackQuery,
    callback_data: ReviewStart,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    view = await review.start(
        session, learner=learner, review_id=callback_data.review_id, chain=locales.content
    )
    await query.answer()
    await views.show(query, views.review_question(view))


async def skip_review(
    query: CallbackQuery, callback_data: ReviewSkip, session: AsyncSession, learner: User
) -> None:
    await review.skip(session, learner=learner, review_id=callback_data.review_id)
    await query.answer()
    await views.show(query, views.review_skipped())


async def choose(
    query: CallbackQuery,
    callback_data: ReviewChoice,
    session: AsyncSession,
    learner: User,
    locales: Locales,
) -> None:
    if not callback_data.done:
        # A multiple-choice toggle: the same question with the option ticked or not.
        view = await review.current_question(
            session,
            learner=learner,
            review_id=callback_data.review_id,
            index=callback_data.index,
            chain=locales.content,
        )
        await query.answer()
        await views.show(query, views.review_question(view, mask=callback_data.mask))
        return
    chosen = [i for i in range(callback_data.mask.bit_length()) if callback_data.mask & (1 << i)]
    if not chosen:
        await query.answer(_("Choose at least one answer first."), show_alert=True)
        return
    result = await review.answer(
        session,
        learner=learner,
        review_id=callback_data.review_id,
        index=callback_data.index,
        chosen=chosen,
        chain=locales.content,
    )
    await query.answer()
    if result.next_question is not None:
        lead = views.review_feedback(result)
        await views.show(query, views.review_question(result.next_question, lead=lead))
    elif result.finished is not None:
        await views.show(query, views.review_finished(result, result.finished))


def create_router() -> Router:
    router = Router(name="review")
    router.callback_query.filter(registered)
    router.callback_query.register(start_review, ReviewStart.filter())
    router.callback_query.register(skip_review, ReviewSkip.filter())
    router.callback_query.register(choose, ReviewChoice.filter())
    return router
