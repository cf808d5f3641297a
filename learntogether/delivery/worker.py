"""The delivery worker: claims due rows, sends them within the limits, and writes what happened.

Three kinds of task share one limiter:

* the claimer leases a batch of due rows whenever less than a batch is queued, renders them
  and queues them;
* senders take queued messages, wait for their slot (the worker's pace, then the bot's send
  budget, where replies to learners go first) and send them; ``concurrency`` of them cover
  seconds of sending, so slow answers do not slow the pace;
* the recorder writes results in bulk every ``flush_seconds`` (or sooner when a batch is ready).

A worker holds at most ``max_held`` rows claimed but not yet written (four batches and the sends
in flight): that is all a crash can send twice (see ``outbox``), and in practice only the few
sent since the last write are. Stopping releases the queued rows and waits ``stop_grace`` seconds
for the sends under way, so a graceful stop sends nothing twice; a send still hanging then is
interrupted and settled as unsure, by its kind (``policy``: resent, or failed as ambiguous).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.base import utcnow
from learntogether.db.models import DeliveryStatus, WaitReason
from learntogether.delivery.fleet import Alone, Fleet, FleetState, fleet_for
from learntogether.delivery.limiter import SendLimiter
from learntogether.delivery.policy import AT_MOST_ONCE, Decision, RetryPolicy, judge, unsure_verdict
from learntogether.delivery.render import Message, Renderer, Unsendable
from learntogether.i18n import SOURCE_LOCALE
from learntogether.sendbudget import LocalBudget, Priority, SendBudget, acquire
from learntogether.services import outbox
from learntogether.services.outbox import Claimed, Settled

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
# Telegram answers in well under a second; half a minute without an answer is a lost request.
DEFAULT_SEND_TIMEOUT = 30
_WRITE_RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
_SAME_PAUSE_SECONDS = 0.5


class StatusPusher(Protocol):
    """Brings the status messages mediators follow of these broadcasts up to date: the bot's,
    passed in by ``runtime``."""

    async def __call__(self, bot: Bot, broadcast_ids: set[int]) -> None: ...


class CheckInCounter(Protocol):
    """Brings the check-in counts of workshops' QR messages up to date, where one changed: the
    bot's, passed in by ``runtime``. Check-ins are recorded by whichever process handles them."""

    async def __call__(self, bot: Bot) -> None: ...


# Status messages are brought up to date at most this often (Telegram allows about one edit a
# second in a chat).
DEFAULT_STATUS_SECONDS = 3.0


class ChatMenus(Protocol):
    """Sets (or removes) one chat's own command menu: the bot's, passed in by ``runtime``."""

    async def __call__(self, bot: Bot, chat_id: int, *, mediator: bool, locale: str) -> None: ...


@dataclass(frozen=True)
class _Job:
    delivery: Claimed
    message: Message
    send_by: datetime
    """The last moment a send may start and still end inside the lease (a send takes at most
    ``send_timeout``); after it, another worker may have claimed the row."""


def default_batch_size(send_rate: float) -> int:
    """About a second of sending, and at most 200 rows: the database work of a bigger batch holds
    up the event loop long enough to bunch the sends that wait behind it."""
    return max(10, min(200, math.ceil(send_rate)))


# Sends in flight keep the pace while answers this slow come back.
SLOW_ANSWER_SECONDS = 4.0
# A stopping worker waits this long for sends under way; a container's grace is often 10 s.
DEFAULT_STOP_GRACE = 5.0


def default_concurrency(send_rate: float) -> int:
    """Sends in flight at once: enough for ``SLOW_ANSWER_SECONDS`` of sending, so that slow
    answers (a tenth of them taking seconds) do not slow the pace; the limiter sets the pace."""
    return max(8, min(512, math.ceil(send_rate * SLOW_ANSWER_SECONDS)))


class DeliveryWorker:
    """Sends every due delivery row through ``bot``; ``run()`` (once) until ``stop()``."""

    def __init__(
        self,
        bot: Bot,
        session_maker: async_sessionmaker[AsyncSession],
        *,
        i18n: I18n,
        send_rate: float,
        default_locale: str = SOURCE_LOCALE,
        paid_broadcast: bool = False,
        batch_size: int | None = None,
        concurrency: int | None = None,
        lease: timedelta = DEFAULT_LEASE,
        idle_seconds: float = 1.0,
        flush_seconds: float = 0.2,
        send_timeout: int = DEFAULT_SEND_TIMEOUT,
        stop_grace: float = DEFAULT_STOP_GRACE,
        retry: RetryPolicy | None = None,
        limiter: SendLimiter | None = None,
        budget: SendBudget | None = None,
        fleet: Fleet | None = None,
        fleet_seconds: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
        chat_menus: ChatMenus | None = None,
        status_pusher: StatusPusher | None = None,
        check_in_counter: CheckInCounter | None = None,
        status_seconds: float = DEFAULT_STATUS_SECONDS,
    ) -> None:
        self.bot = bot
        self.status_pusher = status_pusher
        """Told which broadcasts' rows changed, every ``status_seconds`` at most."""
        self.check_in_counter = check_in_counter
        """Called every ``status_seconds``."""
        self.status_seconds = status_seconds
        self._changed: set[int] = set()
        self.chat_menus = chat_menus
        """Sets the command menu a mediator-role notice brings; without it, menus stay."""
        self.session_maker = session_maker
        self.renderer = Renderer(i18n, default_locale=default_locale)
        self.paid_broadcast = paid_broadcast
        self.batch_size = batch_size or default_batch_size(send_rate)
        self.concurrency = concurrency or default_concurrency(send_rate)
        if lease <= timedelta(seconds=send_timeout):
            raise ValueError(
                f"a lease of {lease.total_seconds():g} s must outlast a send ({send_timeout} s):"
                " another worker would send a row whose send is still under way"
            )
        self.lease = lease
        self.idle_seconds = idle_seconds
        self.flush_seconds = flush_seconds
        self.send_timeout = send_timeout
        self.stop_grace = stop_grace
        """How long a stop waits for sends under way before it interrupts them."""
        self.retry = retry or RetryPolicy()
        self.send_rate = send_rate
        self.limiter = limiter or SendLimiter(send_rate)
        self.budget: SendBudget = budget or LocalBudget(send_rate)
        """The bot's slots, shared with its replies (which go first) and other processes."""
        self.fleet: Fleet = fleet or Alone()
        """The other workers of this bot, which share its rate (``LT_REDIS_URL``)."""
        self.fleet_seconds = fleet_seconds
        self.clock = clock
        self.counts: Counter[DeliveryStatus] = Counter()
        """Rows settled by this worker, by their new status (``pending``: retried or put back)."""
        self.max_held = 4 * self.batch_size + self.concurrency
        """Rows claimed and not yet recorded, at most: what a crash can send twice."""
        self._held: set[int] = set()
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._results: list[Settled] = []
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._flush = asyncio.Event()
        self._waiting: set[asyncio.Task[None]] = set()
        self._senders_done = False
        self._telling: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        bot: Bot,
        session_maker: async_sessionmaker[AsyncSession],
        *,
        i18n: I18n,
        budget: SendBudget | None = None,
        chat_menus: ChatMenus | None = None,
        status_pusher: StatusPusher | None = None,
        check_in_counter: CheckInCounter | None = None,
    ) -> DeliveryWorker:
        """A worker paced by ``LT_SEND_RATE``, paying for broadcasts when ``LT_PAID_BROADCAST``."""
        return cls(
            bot,
            session_maker,
            i18n=i18n,
            send_rate=settings.send_rate,
            default_locale=settings.default_locale,
            paid_broadcast=settings.paid_broadcast,
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            send_timeout=settings.send_timeout_seconds,
            budget=budget,
            fleet=fleet_for(settings.redis_url),
            chat_menus=chat_menus,
            status_pusher=status_pusher,
            check_in_counter=check_in_counter,
        )

    # Running -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming, put queued rows back, let the sends under way finish; ``run`` returns."""
        self._stopping.set()
        self._wake.set()
        for task in self._waiting:
            task.cancel()

    async def run(self, *, until_idle: bool = False) -> None:
        """Send until ``stop()``; with ``until_idle``, also return once nothing is due or held."""
        if (await self._check_in()).workers > 1:
            # The others learn of this worker at their next check-in: until then, their share
            # is still the larger one.
            await self._pause_or_stop(self.fleet_seconds)
        senders = [asyncio.create_task(self._send_loop()) for _ in range(self.concurrency)]
        recorder = asyncio.create_task(self._record_loop())
        checking_in = asyncio.create_task(self._fleet_loop())
        pushing = asyncio.create_task(self._status_loop())
        try:
            await self._claim_loop(until_idle=until_idle)
        finally:
            self._stopping.set()
            self._release_queued()
            for _ in senders:
                self._queue.put_nowait(None)
            # Sends under way may hang until their timeout: a stop waits for them a little only.
            _, hanging = await asyncio.wait(senders, timeout=self.stop_grace)
            for sender in hanging:
                sender.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
            self._senders_done = True
            self._flush.set()
            await recorder
            pushing.cancel()
            await asyncio.gather(pushing, return_exceptions=True)
            await self._push_statuses()
            # Only once nothing is sent any more: the others may then take this worker's share,
            # and a 429 met by the last sends has been told to them.
            checking_in.cancel()
            await asyncio.gather(checking_in, *self._telling, return_exceptions=True)
            await self.fleet.leave()

    async def _pause_or_stop(self, seconds: float) -> None:
        """Sleep ``seconds``, waking early on stop or when room was made."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    # Status messages mediators follow ------------------------------------------------------

    async def _status_loop(self) -> None:
        # Not ``while True``: a push that turned its cancellation into an error it logged ends too.
        while not self._stopping.is_set():
            await asyncio.sleep(self.status_seconds)
            await self._push_statuses()
            await self._count_check_ins()

    async def _push_statuses(self) -> None:
        """Tell the status pusher which broadcasts' rows changed since it was last told."""
        if self.status_pusher is None or not self._changed:
            self._changed.clear()
            return
        changed, self._changed = self._changed, set()
        try:
            await self.status_pusher(self.bot, changed)
        except Exception:
            log.exception("bringing broadcast statuses up to date failed")

    async def _count_check_ins(self) -> None:
        if self.check_in_counter is None:
            return
        try:
            await self.check_in_counter(self.bot)
        except Exception:
            log.exception("bringing check-in counts up to date failed")

    # Sharing the bot's limits with other workers ---------------------------------------------

    async def _check_in(self) -> FleetState:
        """Take this worker's share of the rate, and a pause another worker was told."""
        state = await self.fleet.check_in()
        self.limiter.set_rate(self.send_rate / state.workers)
        # Another worker's 429 (this worker's own is already kept, give or take a check-in).
        if state.paused_for > self.limiter.paused_for + _SAME_PAUSE_SECONDS:
            self._hold(state.paused_for)
        return state

    async def _fleet_loop(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(self.fleet_seconds)
            try:
                await self._check_in()
            except Exception:
                log.exception("delivery worker check-in failed")

    def _tell_fleet_pause(self, seconds: float) -> None:
        task = asyncio.create_task(self.fleet.pause(seconds))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    # Claiming ------------------------------------------------------------------------------

    async def _claim_loop(self, *, until_idle: bool) -> None:
        while not self._stopping.is_set():
            if (paused := self.limiter.paused_for) > 0:
                await self._pause_or_stop(paused)
                continue
            # Claim ahead while senders still have work, so they never wait for the database.
            full = self._queue.qsize() >= self.batch_size
            if full or len(self._held) + self.batch_size > self.max_held:
                await self._pause_or_stop(self.idle_seconds)
                continue
            try:
                claimed = await self._claim()
            except Exception:
                log.exception("claiming deliveries failed; trying again shortly")
                await self._pause_or_stop(self.idle_seconds)
                continue
            if claimed:
                continue
            if until_idle and not self._held:
                return
            try:
                async with self.session_maker() as session:
                    await outbox.sweep(session, now=self.clock())
                    await session.commit()
            except Exception:
                log.exception("delivery housekeeping failed")
            await self._pause_or_stop(self.idle_seconds)

    async def _claim(self) -> int:
        """Claim, render and queue one batch; the number of rows claimed."""
        async with self.session_maker() as session:
            now = self.clock()
            claimed = await outbox.claim(
                session, limit=self.batch_size, lease=self.lease, now=now, touched=self._changed
            )
            send_by = now + self.lease - timedelta(seconds=self.send_timeout)
            # Read before the claim is committed: should it fail, the claim is undone with it.
            locales = await self.renderer.locales(session, claimed)
            await session.commit()
            # A lease that ran out while its row waited here was claimed again: keep one copy.
            claimed = [delivery for delivery in claimed if delivery.id not in self._held]
            self._held.update(delivery.id for delivery in claimed)
            for delivery in claimed:
                try:
                    rendered = await self.renderer.render(
                        session, delivery, locales[delivery.learner.id]
                    )
                except Exception as error:
                    log.exception("cannot render delivery %d", delivery.id)
                    rendered = Unsendable(f"cannot render: {type(error).__name__}: {error}")
                if isinstance(rendered, Unsendable):
                    self._settle(Settled(delivery, DeliveryStatus.CANCELLED, error=rendered.reason))
                else:
                    self._queue.put_nowait(_Job(delivery, rendered, send_by))
        return len(claimed)

    def _hold(self, seconds: float) -> datetime:
        """Pause every send for ``seconds`` (a 429, here or at another worker); the end."""
        self.limiter.pause(seconds)
        until = self.clock() + timedelta(seconds=seconds)
        # Queued rows go back too: a long pause must not outlast their lease.
        self._release_queued(until)
        return until

    def _release_queued(self, until: datetime | None = None) -> None:
        """Put every queued row back to pending, untried (stopping, or a pause began)."""
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if job is not None:
                self._settle(self._put_back(job.delivery, until, error=None))

    @staticmethod
    def _put_back(delivery: Claimed, until: datetime | None, *, error: str | None) -> Settled:
        return Settled(
            delivery,
            DeliveryStatus.PENDING,
            error=error,
            next_attempt_at=until,
            wait_reason=WaitReason.PAUSE,
            counts_as_attempt=False,
        )

    # Sending -------------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        while (job := await self._queue.get()) is not None:
            if self._queue.qsize() < self.batch_size:
                self._wake.set()  # time to claim the next batch
            self._settle(await self._deliver(job))

    async def _deliver(self, job: _Job) -> Settled:
        delivery = job.delivery
        chat_id = delivery.learner.telegram_id
        assert chat_id is not None  # claim settles rows of erased learners
        task = asyncio.current_task()
        assert task is not None
        self._waiting.add(task)
        ticket: str | None = None
        try:
            if self._stopping.is_set():
                raise asyncio.CancelledError
            await self.limiter.acquire(chat_id)
            if not self.paid_broadcast:
                ticket = await acquire(self.budget, Priority.BULK)
        except asyncio.CancelledError:
            if not self._stopping.is_set():
                raise
            # ``stop()`` cancels a send only while it waits for its slot: nothing went out.
            task.uncancel()
            return self._put_back(delivery, None, error=None)
        finally:
            self._waiting.discard(task)
        try:
            return await self._send(job, chat_id, task)
        finally:
            if ticket is not None:
                await self.budget.sent(ticket)

    async def _send(self, job: _Job, chat_id: int, task: asyncio.Task[None]) -> Settled:
        delivery = job.delivery
        if self.clock() > job.send_by:
            # It waited for a slot (a long 429, a slow rate) past what its lease covers: give it
            # back untried rather than race the worker that may claim it next.
            return self._put_back(delivery, None, error=None)
        try:
            if job.message.menu is not None and self.chat_menus is not None:
                # Before the notice that speaks of it; setting it twice is harmless.
                menu = job.message.menu
                await self.chat_menus(self.bot, chat_id, mediator=menu.mediator, locale=menu.locale)
            sent = await self.bot.send_message(
                chat_id=chat_id,
                text=job.message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=job.message.reply_markup,
                allow_paid_broadcast=True if self.paid_broadcast else None,
                request_timeout=self.send_timeout,
            )
        except asyncio.CancelledError:
            if not self._stopping.is_set():
                raise
            task.uncancel()
            return self._interrupted(delivery)
        except Exception as error:
            return self._judge(delivery, error)
        return Settled(delivery, DeliveryStatus.SENT, message_id=sent.message_id)

    def _interrupted(self, delivery: Claimed) -> Settled:
        """A send under way when the stop's grace ran out: it may have arrived."""
        if delivery.kind in AT_MOST_ONCE:
            verdict = unsure_verdict("the worker stopped while the send was under way")
            return Settled(delivery, DeliveryStatus.FAILED, error=verdict.reason)
        # At least once: the next worker sends it again (its attempt counted).
        return Settled(
            delivery,
            DeliveryStatus.PENDING,
            error="the worker stopped while the send was under way; sent again",
        )

    def _judge(self, delivery: Claimed, error: Exception) -> Settled:
        verdict = judge(
            error,
            attempts=delivery.attempts,
            policy=self.retry,
            at_most_once=delivery.kind in AT_MOST_ONCE,
        )
        if verdict.decision is Decision.PAUSE:
            log.warning("delivery paused for %.0fs: %s", verdict.pause_seconds, verdict.reason)
            until = self._hold(verdict.pause_seconds)
            self._tell_fleet_pause(verdict.pause_seconds)
            return self._put_back(delivery, until, error=verdict.reason)
        if verdict.decision is Decision.RETRY:
            log.info("delivery %d failed (%s); retrying", delivery.id, verdict.reason)
            return Settled(
                delivery,
                DeliveryStatus.PENDING,
                error=verdict.reason,
                next_attempt_at=self.clock() + verdict.backoff,
                wait_reason=WaitReason.RETRY,
            )
        status = (
            DeliveryStatus.BLOCKED
            if verdict.decision is Decision.BLOCKED
            else DeliveryStatus.FAILED
        )
        return Settled(delivery, status, error=verdict.reason)

    # Recording -----------------------------------------------------------------------------

    def _settle(self, result: Settled) -> None:
        self._results.append(result)
        if len(self._results) >= self.batch_size:
            self._flush.set()

    async def _record_loop(self) -> None:
        while True:
            senders_done = self._senders_done
            results, self._results = self._results, []
            if results:
                await self._write(results)
            if senders_done and not self._results:
                return
            self._flush.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush.wait(), self.flush_seconds)

    async def _write(self, results: Sequence[Settled]) -> None:
        """Write results, trying again while the database is busy or away.

        Results are only given up when the worker is stopping and the database stays away; their
        rows are then claimed again once the lease runs out.
        """
        for attempt in itertools.count(1):
            try:
                async with self.session_maker() as session:
                    await outbox.settle(session, results, now=self.clock())
                    await session.commit()
            except Exception:
                if self._stopping.is_set() and attempt > len(_WRITE_RETRY_SECONDS):
                    log.exception("could not record %d deliveries", len(results))
                    break
                log.warning("recording deliveries failed (attempt %d)", attempt, exc_info=True)
                await asyncio.sleep(
                    _WRITE_RETRY_SECONDS[min(attempt, len(_WRITE_RETRY_SECONDS)) - 1]
                )
            else:
                self.counts.update(result.status for result in results)
                self._changed.update(result.delivery.broadcast_id for result in results)
                break
        self._held.difference_update(result.delivery.id for result in results)
        self._wake.set()
