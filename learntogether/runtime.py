"""Putting the parts together: the API, the bot (polling or webhook) and the scheduler.

``learntogether run`` runs them all in one process; ``api``, ``bot`` and ``worker`` run one part
each, so they can be scaled apart against PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import uvicorn
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramServerError, TelegramUnauthorizedError
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import create_bot, create_dispatcher
from bot.commands import ChatMenus
from bot.handlers.assisted import CheckInCounter
from bot.handlers.mediator import StatusPusher
from bot.webhook import WebhookFeeder, create_webhook_router
from learntogether import console
from learntogether.api.app import create_app
from learntogether.config import BotMode, ConfigError, Settings, get_settings
from learntogether.content.files import load_curriculum
from learntogether.db.engine import check_database, create_engine, create_session_maker
from learntogether.db.migrate import upgrade
from learntogether.delivery import DeliveryWorker
from learntogether.i18n import create_i18n
from learntogether.scheduler import SchedulerRunner
from learntogether.sendbudget import FREE_SEND_RATE, SendBudget, budget_for
from learntogether.services import lessons
from learntogether.services.actors import Actor
from learntogether.services.curriculum import import_files

log = logging.getLogger(__name__)

DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
POLLING_CONCURRENCY = 32
# A serving process keeps its database connections: with the pool's default (5 kept, 10 more
# opened when busy and closed when given back) a busy bot opened a connection every dozen
# updates, each a login, type set-up and every statement prepared again on it.
KEPT_CONNECTIONS = 15
BOT_API_RETRY_SECONDS = (1, 2, 5, 10, 30, 60)


class Part(StrEnum):
    API = "api"
    BOT = "bot"
    SCHEDULER = "scheduler"


class StartupError(Exception):
    """A reason the process cannot start, said in one line."""


@dataclass
class BotParts:
    bot: Bot
    dispatcher: Dispatcher
    budget: SendBudget
    """Slots for every message the bot sends; the delivery worker of the process shares it."""


def keep_startup_objects() -> int:
    """Leave what the process built to start (modules, mappers, pydantic models, catalogs) out of
    the garbage collector's full passes, after collecting the garbage left so far; how many
    objects that is.

    Each full pass went through the few hundred thousand objects that live as long as the process:
    about 160 ms of CPU every few seconds under load, a tenth of the bot's CPU (bench/updates.py).
    Only for a process that serves: tests build and drop many bots in one process."""
    gc.collect()
    gc.freeze()
    kept = gc.get_freeze_count()
    log.info("%d objects built at start kept out of garbage collection", kept)
    return kept


def build_send_budget(settings: Settings) -> SendBudget:
    """The bot's send budget at ``LT_SEND_RATE``, shared through ``LT_REDIS_URL`` when set.

    Paid broadcasts go past Telegram's free limit on their own pace; the budget keeps replies to
    the free one.
    """
    assert settings.bot_token is not None
    bot_id = settings.bot_token.get_secret_value().split(":", 1)[0]
    rate = (
        min(settings.send_rate, FREE_SEND_RATE) if settings.paid_broadcast else settings.send_rate
    )
    return budget_for(rate, redis_url=settings.redis_url, bot=bot_id)


def build_bot_parts(
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    *,
    budget: SendBudget | None = None,
) -> BotParts | None:
    """The bot and its dispatcher; a budget made here is closed when the dispatcher shuts down."""
    if settings.bot_token is None:
        return None
    i18n = create_i18n(settings.default_locale)
    dispatcher = create_dispatcher(settings, session_maker=session_maker, i18n=i18n)
    if budget is None:
        budget = build_send_budget(settings)
        dispatcher.shutdown.register(budget.close)
    return BotParts(
        bot=create_bot(settings, budget=budget),
        dispatcher=dispatcher,
        budget=budget,
    )


def build_delivery_worker(
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    *,
    budget: SendBudget,
) -> DeliveryWorker | None:
    """The outbox sender, with a bot of its own; None without LT_BOT_TOKEN.

    It takes its slots from ``budget`` after the replies (the process's bot's, when it has one).
    """
    if settings.bot_token is None:
        return None
    # The worker paces its sends and pauses them all on a 429 itself.
    bot = create_bot(settings, replies=False)
    i18n = create_i18n(settings.default_locale)
    statuses = StatusPusher(
        session_maker, i18n, default_locale=settings.default_locale, budget=budget
    )
    counts = CheckInCounter(
        session_maker, i18n, default_locale=settings.default_locale, budget=budget
    )
    return DeliveryWorker.from_settings(
        settings,
        bot,
        session_maker,
        i18n=i18n,
        budget=budget,
        chat_menus=ChatMenus(i18n),
        status_pusher=statuses,
        check_in_counter=counts,
    )


def webhook_route(settings: Settings) -> tuple[str, str]:
    """The URL to give Telegram and the path it posts to (a URL without a path gets the default)."""
    assert settings.webhook_url is not None
    path = urlsplit(settings.webhook_url).path
    if path in ("", "/"):
        return settings.webhook_url.rstrip("/") + DEFAULT_WEBHOOK_PATH, DEFAULT_WEBHOOK_PATH
    return settings.webhook_url, path


def build_app(
    settings: Settings,
    *,
    session_maker: async_sessionmaker[AsyncSession],
    bot_parts: BotParts | None,
    engine: AsyncEngine | None = None,
) -> FastAPI:
    """The API, with the Telegram webhook when the bot runs in webhook mode.

    An ``engine`` given here is disposed when the app shuts down.
    """
    routers = []
    startup = []
    shutdown = []
    if bot_parts is not None and settings.bot_mode is BotMode.WEBHOOK:
        assert settings.webhook_secret is not None
        url, path = webhook_route(settings)
        secret = settings.webhook_secret.get_secret_value()
        parts = bot_parts
        feeder = WebhookFeeder(parts.bot, parts.dispatcher)
        routers.append(create_webhook_router(feeder, path=path, secret=secret))

        async def start_webhook() -> None:
            await wait_for_bot_api(parts.bot)
            await parts.dispatcher.emit_startup(bot=parts.bot, **parts.dispatcher.workflow_data)
            await parts.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=parts.dispatcher.resolve_used_update_types(),
            )
            log.info("bot in webhook mode, receiving updates at %s", path)

        async def stop_webhook() -> None:
            await feeder.drain()
            await parts.dispatcher.emit_shutdown(bot=parts.bot, **parts.dispatcher.workflow_data)
            await parts.bot.session.close()

        startup.append(start_webhook)
        shutdown.append(stop_webhook)
    if engine is not None:
        shutdown.append(engine.dispose)
    app = create_app(
        settings,
        session_maker=session_maker,
        extra_routers=tuple(routers),
        on_startup=tuple(startup),
        on_shutdown=tuple(shutdown),
    )
    # The web console for staff, under / beside the API (the API never imports it).
    console.install(app, settings)
    return app


def create_app_from_environment() -> FastAPI:
    """``uvicorn --factory`` entry point for several API workers: each builds its own engine."""
    settings = get_settings()
    engine = serving_engine(settings)
    session_maker = create_session_maker(engine)
    app = build_app(
        settings,
        session_maker=session_maker,
        bot_parts=build_bot_parts(settings, session_maker),
        engine=engine,
    )
    keep_startup_objects()
    return app


def serving_engine(settings: Settings) -> AsyncEngine:
    """The engine of a serving process: its PostgreSQL connections kept while it runs (on
    SQLite keeping them measured no different, docs/BENCHMARKS.md "Updates")."""
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        return create_engine(settings.database_url)
    return create_engine(settings.database_url, pool_size=KEPT_CONNECTIONS, max_overflow=0)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the API's socket ourselves, so a port in use is one clear line, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = "is already in use" if error.errno == 98 else f"cannot be used ({error.strerror})"
        raise StartupError(
            f"port {port} on {host} {reason}; set LT_API_PORT to another port"
        ) from None
    sock.set_inheritable(True)
    return sock


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the runtime decides when every part stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def wait_for_bot_api(bot: Bot) -> None:
    """Wait until the Bot API server answers; a refused token is fatal, a network fault is retried."""
    for attempt, delay in enumerate((*BOT_API_RETRY_SECONDS, None), start=1):
        try:
            me = await bot.me()
        except TelegramUnauthorizedError:
            raise StartupError(
                "the Bot API server refused LT_BOT_TOKEN (401 Unauthorized)"
            ) from None
        except (TelegramNetworkError, TelegramServerError, OSError) as error:
            if delay is None:
                raise StartupError(f"the Bot API server does not answer: {error}") from None
            log.warning(
                "Bot API server not reachable (attempt %d): %s; retrying in %ss",
                attempt,
                error,
                delay,
            )
            await asyncio.sleep(delay)
        else:
            log.info("bot @%s connected", me.username)
            return


async def run_polling(parts: BotParts, *, polling_timeout: int = 10) -> None:
    """Long polling until ``dispatcher.stop_polling()``; updates are handled as bounded tasks."""
    try:
        await wait_for_bot_api(parts.bot)
    except BaseException:
        # Polling closes the bot's HTTP session when it ends; it never began.
        await parts.bot.session.close()
        raise
    await parts.dispatcher.start_polling(
        parts.bot,
        polling_timeout=polling_timeout,
        handle_signals=False,
        handle_as_tasks=True,
        tasks_concurrency_limit=POLLING_CONCURRENCY,
    )


async def import_lessons_on_first_start(
    settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """Fill an empty database with the curriculum in ``LT_LESSONS_DIR``; a bad file blocks nothing else."""
    async with session_maker() as session:
        if await lessons.count_lessons(session) > 0:
            return
        folder = settings.lessons_dir
        if not folder.is_dir():
            log.warning("no lessons yet, and LT_LESSONS_DIR %s is not a folder", folder)
            return
        curriculum = load_curriculum([folder])
        if curriculum.problems:
            for problem in curriculum.problems:
                log.error("%s", problem)
            log.error(
                "lessons in %s have %d problem(s); none imported", folder, len(curriculum.problems)
            )
            return
        await import_files(session, curriculum, actor=Actor.system("first start"))
        await session.commit()
    log.info(
        "imported %d tracks and %d lessons from %s",
        len(curriculum.tracks),
        len(curriculum.lessons),
        folder,
    )


async def serve(settings: Settings, parts: set[Part], *, migrate: bool = False) -> None:
    """Run the chosen parts until SIGINT or SIGTERM, or until one of them fails."""
    engine = serving_engine(settings)
    try:
        await check_database(engine)
        session_maker = create_session_maker(engine)
        if migrate:
            await upgrade(engine)
            await import_lessons_on_first_start(settings, session_maker)
        webhook_api = Part.API in parts and settings.bot_mode is BotMode.WEBHOOK
        budget = build_send_budget(settings) if settings.bot_token is not None else None
        bot_parts = (
            build_bot_parts(settings, session_maker, budget=budget)
            if Part.BOT in parts or webhook_api
            else None
        )
        if bot_parts is None and Part.BOT in parts:
            log.warning("LT_BOT_TOKEN is not set: the Telegram bot is off")
        try:
            await _serve_parts(settings, parts, engine, session_maker, bot_parts, budget)
        finally:
            if budget is not None:
                await budget.close()
    finally:
        await engine.dispose()


async def _serve_parts(
    settings: Settings,
    parts: set[Part],
    engine: AsyncEngine,
    session_maker: async_sessionmaker[AsyncSession],
    bot_parts: BotParts | None,
    budget: SendBudget | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks: dict[str, asyncio.Task[None]] = {}
    server: uvicorn.Server | None = None
    scheduler = (
        SchedulerRunner(settings, engine=engine, session_maker=session_maker)
        if Part.SCHEDULER in parts
        else None
    )
    delivery = (
        build_delivery_worker(settings, session_maker, budget=budget)
        if scheduler is not None and budget is not None
        else None
    )
    try:
        if delivery is not None:
            tasks["delivery"] = asyncio.create_task(delivery.run())
            log.info("delivery started: %g messages a second", settings.send_rate)
        elif scheduler is not None:
            log.warning("LT_BOT_TOKEN is not set: delivery is off, messages wait in the outbox")
        if scheduler is not None:
            tasks["scheduler"] = asyncio.create_task(scheduler.run())
            log.info("scheduler started (its jobs run in one process at a time)")
        if Part.API in parts:
            sock = bind_socket(settings.api_host, settings.api_port)
            app = build_app(settings, session_maker=session_maker, bot_parts=bot_parts)
            config = uvicorn.Config(app, log_config=None, lifespan="on", access_log=False)
            server = EmbeddedServer(config)
            tasks["api"] = asyncio.create_task(server.serve(sockets=[sock]))
            log.info("admin API on http://%s:%d", settings.api_host, settings.api_port)
        polling = (
            bot_parts is not None and Part.BOT in parts and settings.bot_mode is BotMode.POLLING
        )
        if polling and bot_parts is not None:
            tasks["bot"] = asyncio.create_task(run_polling(bot_parts))
        # Once the port is ours and everything is built (a start-up error stays one line).
        keep_startup_objects()
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        for name, task in tasks.items():
            if task in done and not task.cancelled() and task.exception() is not None:
                error = task.exception()
                if isinstance(error, StartupError | ConfigError):
                    raise error
                raise StartupError(f"the {name} part stopped: {error}") from error
    finally:
        if bot_parts is not None and "bot" in tasks:
            with contextlib.suppress(RuntimeError):
                await bot_parts.dispatcher.stop_polling()
        if server is not None:
            server.should_exit = True
        if delivery is not None:
            delivery.stop()
        if scheduler is not None:
            scheduler.stop()
        if tasks:
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        if delivery is not None:
            await delivery.bot.session.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
