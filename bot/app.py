"""``create_bot()`` and ``create_dispatcher()``: factories, no work at import time."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import errors
from bot.commands import register_commands
from bot.conversations import LeaveConversation
from bot.filters import PressRouter, only_its_own_presses
from bot.handlers import (
    assisted,
    certificates,
    fallback,
    guide,
    help_desk,
    learning,
    mediator,
    onboarding,
    privacy,
    progress,
    recording,
    review,
)
from bot.handlers import console as console_link
from bot.handlers import settings as settings_menu
from bot.middlewares import (
    CommitBeforeReplying,
    DbSessionMiddleware,
    LearnerI18nMiddleware,
    LearnerMiddleware,
    LocalesMiddleware,
    OneUpdatePerUser,
    UpdateOnce,
)
from bot.retry import KeepWithinLimits
from bot.session import TelegramSession
from bot.storage import RedisStorageWithFallback
from learntogether.config import BotMode, Settings
from learntogether.sendbudget import SendBudget


def create_bot(
    settings: Settings, *, budget: SendBudget | None = None, replies: bool = True
) -> Bot:
    """A bot talking to ``LT_TELEGRAM_API_URL``: Telegram, a self-hosted Bot API server, a stand-in.

    With ``replies`` (the bot that answers learners) every message it sends takes a slot from
    ``budget`` and keeps the pace of its chat; the delivery worker's bot (``replies=False``) paces
    its own sends.
    """
    if settings.bot_token is None:
        raise ValueError("LT_BOT_TOKEN is not set")
    session = TelegramSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(CommitBeforeReplying())
    if replies:
        session.middleware(KeepWithinLimits(budget))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_storage(settings: Settings) -> BaseStorage:
    """Conversation state: Redis when processes share it (kept in the process while Redis is
    away), memory for the single embedded process."""
    if settings.redis_url:
        return RedisStorageWithFallback.from_url(settings.redis_url)
    return MemoryStorage()


def _one_update_per_user(
    settings: Settings, session_maker: async_sessionmaker[AsyncSession], redis: Redis | None
) -> OneUpdatePerUser:
    """Order across processes only with a webhook, where several may take updates."""
    if settings.bot_mode is not BotMode.WEBHOOK:
        return OneUpdatePerUser()
    if redis is not None:
        return OneUpdatePerUser(redis)
    engine = session_maker.kw.get("bind")
    return OneUpdatePerUser(engine=engine if isinstance(engine, AsyncEngine) else None)


def create_dispatcher(
    settings: Settings,
    *,
    session_maker: async_sessionmaker[AsyncSession],
    i18n: I18n,
    storage: BaseStorage | None = None,
) -> Dispatcher:
    # The conversation state is read once the update is known to be new and the learner's
    # earlier updates are done (in any process): registered below, after those two.
    dispatcher = PressRouter(
        storage=storage or create_storage(settings),
        disable_fsm=True,
        settings=settings,
        i18n=i18n,
        session_maker=session_maker,
    )
    storage = dispatcher.storage
    shared = storage.redis if isinstance(storage, RedisStorageWithFallback) else None
    dispatcher.update.outer_middleware(UpdateOnce(shared))
    dispatcher.update.outer_middleware(_one_update_per_user(settings, session_maker, shared))
    dispatcher.update.outer_middleware(dispatcher.fsm)
    dispatcher.update.outer_middleware(DbSessionMiddleware(session_maker))
    dispatcher.update.outer_middleware(LearnerMiddleware())
    dispatcher.update.outer_middleware(LocalesMiddleware(default_locale=settings.default_locale))
    LearnerI18nMiddleware(i18n).setup(dispatcher)
    dispatcher.message.outer_middleware(LeaveConversation())
    dispatcher.callback_query.outer_middleware(LeaveConversation())
    dispatcher.include_routers(
        onboarding.create_router(),
        privacy.create_router(),
        certificates.create_router(),
        guide.create_router(),
        help_desk.create_router(),
        # Before learning: a mediator's dialect note or voice note is not an open answer.
        recording.create_router(),
        learning.create_router(),
        progress.create_router(),
        review.create_router(),
        settings_menu.create_router(),
        mediator.create_router(),
        assisted.create_router(),
        console_link.create_router(),
        errors.create_router(),
        fallback.create_router(),
    )
    for router in dispatcher.sub_routers:
        dispatcher.route_presses(router, only_its_own_presses(router))
    dispatcher.startup.register(register_commands)
    return dispatcher
