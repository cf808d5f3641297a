"""``/help``, and knowing when a learner blocks the bot or comes back."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter, Command
from aiogram.types import ChatMemberUpdated, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import learner_commands, mediator_commands
from learntogether.db.models import User
from learntogether.services import actors, learners, outbox


async def show_help(message: Message, session: AsyncSession, learner: User | None) -> None:
    commands = learner_commands()
    if learner is not None and (await actors.mediator_actor(session, learner)).cohort_ids:
        commands += mediator_commands()
    lines = [f"/{name} — {text}" for name, text in commands]
    await message.answer(_("Here is what I can do:") + "\n\n" + "\n".join(lines))


async def blocked(event: ChatMemberUpdated, session: AsyncSession) -> None:
    await outbox.mark_blocked(session, telegram_id=event.from_user.id)


async def unblocked(event: ChatMemberUpdated, session: AsyncSession, learner: User | None) -> None:
    if learner is not None:
        await learners.mark_seen(session, learner=learner)


def create_router() -> Router:
    router = Router(name="guide")
    router.message.register(show_help, Command("help"))
    router.my_chat_member.register(blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.my_chat_member.register(unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    return router
