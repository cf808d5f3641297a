"""Middlewares: one database session per update, the learner behind it, and their languages."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from functools import partial
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.fsm.context import FSMContext
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18nMiddleware
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from learntogether.db.models import User as Learner
from learntogether.i18n import Locales
from learntogether.redisfallback import REDIS_ERRORS, RedisOutage
from learntogether.services import actors, learners

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
# Updates that mean the person is there: they wrote, pressed or answered.
_PRESENCE = ("message", "callback_query", "poll_answer")


class UpdateOnce(BaseMiddleware):
    """Handles each ``update_id`` once: Telegram delivers a webhook update again when it thinks
    the first delivery failed, and the learner must not get two answers.

    Updates seen are remembered for a day (Telegram keeps an update no longer) in Redis when the
    bot processes share it, and always in this process, the newest ``remembered`` of them: while
    Redis cannot be reached (one warning, tried again every few seconds) the process alone
    decides, and an update it handled then is not handled again when Redis is back. An update
    whose handling failed is forgotten, so a redelivery can succeed.
    """

    TTL_SECONDS = 24 * 60 * 60

    def __init__(self, redis: Redis | None = None, *, remembered: int = 10_000) -> None:
        self.redis = redis
        self.remembered = remembered
        self.outage = RedisOutage("update de-duplication", "done in this process only")
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot: Bot = data["bot"]
        key = f"lt:update:{bot.id}:{event.update_id}"
        if not await self._first(key, event.update_id):
            log.info("update %d was delivered again; handled once", event.update_id)
            return None
        try:
            return await handler(event, data)
        except BaseException:
            await self._forget(key, event.update_id)
            raise

    async def _first(self, key: str, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        if len(self._seen) > self.remembered:
            self._seen.popitem(last=False)
        if self.redis is None or not self.outage.worth_trying():
            return True
        try:
            first = bool(await self.redis.set(key, 1, nx=True, ex=self.TTL_SECONDS))
        except REDIS_ERRORS as error:
            self.outage.failed(error)
            return True
        self.outage.back()
        return first

    async def _forget(self, key: str, update_id: int) -> None:
        self._seen.pop(update_id, None)
        if self.redis is not None and not self.outage.down:
            try:
                await self.redis.delete(key)
            except REDIS_ERRORS as error:
                log.warning("could not forget failed update %d: %s", update_id, error)


class OneUpdatePerUser(BaseMiddleware):
    """Handles one person's updates one after the other, each committed before the next starts.

    Polling handles updates as concurrent tasks: a learner who answers the moment a reply arrives
    would otherwise be handled before the previous step's transaction was committed. In this
    process an ``asyncio.Lock`` a person orders them. With a webhook several processes take
    updates (``api --workers N``), so the order must hold across them (``shared``): a Redis lock
    when Redis is configured (in this process alone while Redis is away, one warning), else on
    PostgreSQL a session advisory lock held on the connection the update's session then uses
    (``data["update_connection"]``, see ``DbSessionMiddleware``); SQLite serves one process.
    Polling needs no more: Telegram serves ``getUpdates`` to one process at a time.
    """

    # A lock left by a process that died frees itself after this; no update takes that long.
    REDIS_LOCK_SECONDS = 60.0
    # How long an update waits for a lock before it is handled anyway (and says so).
    WAIT_SECONDS = 30.0
    REDIS_POLL_SECONDS = 0.005

    def __init__(
        self,
        redis: Redis | None = None,
        *,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.redis = redis
        self.engine = engine if engine is not None and engine.dialect.name == "postgresql" else None
        self.outage = RedisOutage("per-learner order", "kept in this process only")
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        lock = self._locks.setdefault(user.id, asyncio.Lock())
        self._waiting[user.id] = self._waiting.get(user.id, 0) + 1
        try:
            async with lock:
                if self.redis is not None:
                    return await self._in_redis_order(handler, event, data, user.id)
                if self.engine is not None:
                    return await self._in_database_order(handler, event, data, user.id)
                return await handler(event, data)
        finally:
            self._waiting[user.id] -= 1
            if not self._waiting[user.id]:
                del self._waiting[user.id], self._locks[user.id]

    async def _in_redis_order(
        self, handler: Handler, event: TelegramObject, data: dict[str, Any], user_id: int
    ) -> Any:
        assert self.redis is not None
        bot: Bot = data["bot"]
        lock = self.redis.lock(
            f"lt:learner-lock:{bot.id}:{user_id}",
            timeout=self.REDIS_LOCK_SECONDS,
            sleep=self.REDIS_POLL_SECONDS,
            blocking_timeout=self.WAIT_SECONDS,
        )
        held = False
        if self.outage.worth_trying():
            try:
                held = await lock.acquire()
            except REDIS_ERRORS as error:
                self.outage.failed(error)
            else:
                self.outage.back()
                if not held:
                    log.warning(
                        "learner's previous update still running after %ss", self.WAIT_SECONDS
                    )
        try:
            return await handler(event, data)
        finally:
            if held:
                try:
                    await lock.release()
                except REDIS_ERRORS as error:  # expired or Redis away: it frees itself
                    log.warning("could not release a learner's lock: %s", error)

    async def _in_database_order(
        self, handler: Handler, event: TelegramObject, data: dict[str, Any], user_id: int
    ) -> Any:
        assert self.engine is not None
        key = advisory_key(user_id)
        async with self.engine.connect() as connection:
            try:
                await asyncio.wait_for(
                    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key}),
                    self.WAIT_SECONDS,
                )
            except TimeoutError:
                log.warning("learner's previous update still running after %ss", self.WAIT_SECONDS)
                await connection.invalidate()
                return await handler(event, data)
            await connection.commit()
            data["update_connection"] = connection
            try:
                return await handler(event, data)
            finally:
                await connection.rollback()
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                await connection.commit()


def advisory_key(user_id: int) -> int:
    """The PostgreSQL advisory lock key of a person: a signed 64-bit hash, apart from the keys
    of the scheduler's leadership and the migrations."""
    digest = hashlib.blake2b(f"learner:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# The session of the update being handled, for CommitBeforeReplying.
_update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)
# The callback queries answered while handling the update: an error handler must not answer one
# twice (Telegram refuses it as "query is too old"). Set afresh for each update and never reset,
# so that the error handler, which runs after the update's middlewares have returned, sees it.
_answered_queries: ContextVar[set[str] | None] = ContextVar("answered_queries", default=None)


def query_answered(query_id: str) -> bool:
    """Whether the bot already answered this callback query while handling the update."""
    return query_id in (_answered_queries.get() or set())


class DbSessionMiddleware(BaseMiddleware):
    """Opens a session for the update, commits when the handler succeeds, rolls back otherwise.

    On the connection that holds the learner's advisory lock when ``OneUpdatePerUser`` took one.
    """

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self.session_maker = session_maker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        _answered_queries.set(set())
        connection: AsyncConnection | None = data.get("update_connection")
        maker = (
            self.session_maker
            if connection is None
            else partial(self.session_maker, bind=connection)
        )
        async with maker() as session:
            data["session"] = session
            token = _update_session.set(session)
            try:
                result = await handler(event, data)
            finally:
                _update_session.reset(token)
            if session.in_transaction():  # else the reply committed everything already
                await session.commit()
            return result


class CommitBeforeReplying(BaseRequestMiddleware):
    """Commits what the update changed before the bot tells the learner about it.

    A reply that says "saved" must never come before the save: if the commit failed, the learner
    would believe a lie, and a quick next tap would read the old state.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        session = _update_session.get()
        if session is not None and session.in_transaction():
            await session.commit()
        answered = _answered_queries.get()
        if isinstance(method, AnswerCallbackQuery) and answered is not None:
            answered.add(method.callback_query_id)
        return await make_request(bot, method)


class LearnerMiddleware(BaseMiddleware):
    """Puts the learner (or None before they agreed to the notice) in ``data["learner"]``, and
    their newest cohort's locale, read in the same query, in ``data["cohort_locales"]``."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        session: AsyncSession = data["session"]
        learner, joined = (
            await learners.find_learner_and_cohort(session, user.id)
            if user is not None
            else (None, {})
        )
        if learner is not None and isinstance(event, Update) and event.event_type in _PRESENCE:
            await learners.mark_seen(session, learner=learner)
        data["learner"] = learner
        data["cohort_locales"] = joined
        return await handler(event, data)


class MediatorActorMiddleware(BaseMiddleware):
    """Puts the learner as an acting mediator in ``data["actor"]``: the cohorts they mediate
    (maybe none), for the mediator's handlers to pass to the services."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        learner: Learner | None = data.get("learner")
        if learner is not None:
            data["actor"] = await actors.mediator_actor(data["session"], learner)
        return await handler(event, data)


class LocalesMiddleware(BaseMiddleware):
    """Puts the languages of the person behind the update (``Locales``) in ``data["locales"]``.

    The one locale policy (``learners.locales``): a learner's language, their newest cohort's,
    ``LT_DEFAULT_LOCALE``, English. During onboarding the language chosen so far is theirs (else
    Telegram's), and the cohort of their invite link is theirs until they join it. Decided once
    per update, so an error handler speaks the same languages without the update's session.
    """

    def __init__(self, *, default_locale: str) -> None:
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        onboarding = await state.get_data() if state is not None else {}
        user: User | None = data.get("event_from_user")
        data["locales"] = await learners.locales(
            data["session"],
            data.get("learner"),
            default_locale=self.default_locale,
            chosen=onboarding.get("locale"),
            telegram=user.language_code if user else None,
            invite_cohort=onboarding.get("cohort"),
            reads=onboarding.get("reads"),
            joined=data.get("cohort_locales"),
        )
        return await handler(event, data)


class LearnerI18nMiddleware(I18nMiddleware):
    """Speaks to the person along their chain of UI catalogs (``data["locales"]``)."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        locales: Locales | None = data.get("locales")
        # None only for an update that failed before its languages were known.
        return locales.catalog if locales is not None else self.i18n.default_locale
