"""``/console``: a mediator gets a one-time sign-in link to the web console, for their cohorts."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import registered
from bot.handlers.mediator import not_a_mediator
from bot.middlewares import MediatorActorMiddleware
from learntogether.config import Settings
from learntogether.services import console_sessions
from learntogether.services.actors import Actor


async def console_command(
    message: Message, session: AsyncSession, actor: Actor, settings: Settings
) -> None:
    if not actor.cohort_ids:
        await message.answer(not_a_mediator())
        return
    link = await console_sessions.create_mediator_link(
        session,
        base_url=console_sessions.base_url(
            settings.public_url, settings.api_host, settings.api_port
        ),
        actor=actor,
    )
    await message.answer(
        _(
            "Your sign-in link to the web console, for your groups. It works once, within "
            "15 minutes; do not share it:\n{link}"
        ).format(link=html.quote(link.url)),
        disable_web_page_preview=True,
    )


def create_router() -> Router:
    router = Router(name="console")
    router.message.middleware(MediatorActorMiddleware())
    router.message.register(console_command, Command("console"), registered)
    return router
