"""``/privacy``, ``/mydata`` and ``/delete``: every learner can see and erase their data."""

from __future__ import annotations

import json

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards
from bot.callbacks import EraseChoice
from bot.filters import registered
from bot.texts import privacy_notice
from learntogether.db.models import User
from learntogether.services import learners


async def show_notice(message: Message) -> None:
    await message.answer(privacy_notice())


async def send_my_data(message: Message, session: AsyncSession, learner: User) -> None:
    data = await learners.export_data(session, learner=learner)
    document = BufferedInputFile(
        json.dumps(data, ensure_ascii=False, indent=2).encode(),
        filename="my-data-to-learn-together.json",
    )
    await message.answer_document(
        document, caption=_("Everything To Learn Together stores about you.")
    )


async def ask_to_erase(message: Message) -> None:
    await message.answer(
        _(
            "This erases your name, Telegram account, settings, and written and spoken answers "
            "for good, and withdraws lesson recordings not yet approved (approved ones stay in "
            "the lesson without your name). A certificate you printed stays valid, but when it "
            "is checked it will no longer show your name. Your progress stays only as anonymous "
            "numbers in the programme's reports. Erase your data?"
        ),
        reply_markup=keyboards.confirm_erase(),
    )


async def erase(
    query: CallbackQuery,
    callback_data: EraseChoice,
    session: AsyncSession,
    learner: User,
    state: FSMContext,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if not callback_data.confirm:
        await query.message.edit_text(_("Nothing was erased."))
        return
    await learners.erase(session, learner=learner)
    await state.clear()
    await query.message.edit_text(
        _(
            "Your data has been erased. Thank you for learning with us. If you come back, send /start."
        )
    )


def create_router() -> Router:
    router = Router(name="privacy")
    router.message.register(show_notice, Command("privacy"))
    router.message.register(send_my_data, Command("mydata"), registered)
    router.message.register(ask_to_erase, Command("delete"), registered)
    router.callback_query.register(erase, EraseChoice.filter(), registered)
    return router
