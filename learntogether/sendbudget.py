"""One send budget per bot: every message the bot sends takes a slot, replies before broadcasts.

Telegram refuses a bot's message (429, ``retry_after``) once about 30 went out in the last second,
whoever sent them: a reply to a learner, a broadcast, a reminder. So every process that sends
for a bot takes its slots from one budget: a sliding window of the sends of the last ``window``
seconds, at most ``limit`` of them (``LT_SEND_RATE`` a second).

* A **reply** (a person is waiting for it) takes a slot while the window has one.
* **Bulk** sends (broadcasts, reminders, nudges) take what replies leave: they stop while the
  window has fewer free slots than the replies of the last second, the replies still waiting for
  a slot, and a small reserve (a tenth of the limit), so a learner's tap is answered at once even
  while a broadcast goes out at full pace.

A caller that gets no slot is told how long to wait and asks again: nothing is sent to Telegram
to be refused. A send counts in the window from the moment its answer came back, and while it is
on its way it counts all along: Telegram counts it when it arrives, which may be long after the
slot was given when the network or a busy event loop holds it up, and a window counted from the
moment of asking would let the next second's sends bunch up with the late ones.

With ``LT_REDIS_URL`` the processes share one window in Redis (a Lua script, by Redis's clock);
without, the process keeps it. When Redis is away each process keeps its own
window until Redis answers again (one warning, then one line when it is back): sends go on, and
processes that no longer share may together exceed the limit for that while; the 429s that
follow are waited out, nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Telegram's free limit is about 30 a second; paid broadcasts may go faster, replies may not.
FREE_SEND_RATE = 25.0
# Kept free for replies even when none came lately: a tap is answered without waiting.
RESERVE_SHARE = 0.1
# After Redis failed, the process keeps its own window this long before asking Redis again.
REDIS_RETRY_SECONDS = 5.0
# How long a Redis call may take before the process uses its own window.
REDIS_TIMEOUT_SECONDS = 1.0
_MIN_WAIT = 0.005
# A send not said to be done by then (its process died) stops counting.
_IN_FLIGHT_SECONDS = 60.0
_IN_FLIGHT_MS = round(_IN_FLIGHT_SECONDS * 1000)


class Priority(StrEnum):
    REPLY = "reply"
    """A person is waiting: an answer to their message or button."""
    BULK = "bulk"
    """Broadcasts, reminders, nudges: they take what replies leave."""


def window_for(rate: float) -> tuple[int, float]:
    """``(limit, window)``: ``rate`` sends a second as whole sends in a window of about a second."""
    if rate <= 0:
        raise ValueError("the send rate must be positive")
    limit = max(1, math.floor(rate))
    return limit, limit / rate


class SendBudget(Protocol):
    async def take(self, priority: Priority, ticket: str) -> float:
        """Take a slot now (0.0), or the seconds to wait before asking again.

        ``ticket`` names one message for all its asks: a waiting reply is counted once.
        """
        ...

    async def sent(self, ticket: str) -> None:
        """The message of ``ticket`` is done (answered, refused or given up): it counts from now."""
        ...

    async def close(self) -> None: ...


async def acquire(
    budget: SendBudget,
    priority: Priority,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> str:
    """Wait until ``budget`` gives this message a slot; its ticket, for ``budget.sent``."""
    ticket = uuid.uuid4().hex
    while (wait := await budget.take(priority, ticket)) > 0:
        await sleep(wait)
    return ticket


class LocalBudget:
    """The window of one process (no Redis, or Redis away)."""

    def __init__(
        self,
        rate: float,
        *,
        reserve_share: float = RESERVE_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window = window_for(rate)
        self.reserve = min(self.limit - 1, math.ceil(self.limit * reserve_share))
        self._clock = clock
        self._sends: dict[str, float] = {}
        """When each send counts from: its answer, or (on its way) far ahead."""
        self._replies: deque[float] = deque()
        self._wanted: dict[str, float] = {}

    async def take(self, priority: Priority, ticket: str) -> float:
        return self.take_now(priority, ticket)

    def take_now(self, priority: Priority, ticket: str) -> float:
        now = self._clock()
        horizon = now - self.window
        while self._replies and self._replies[0] <= horizon:
            self._replies.popleft()
        self._sends = {key: at for key, at in self._sends.items() if at > horizon}
        if self._wanted:
            self._wanted = {key: at for key, at in self._wanted.items() if at > horizon}
        reply = priority is Priority.REPLY
        count = len(self._sends)
        demand = len(self._replies) + len(self._wanted)
        allowed = self.limit if reply else self.limit - max(self.reserve, demand)
        if count < allowed:
            self._sends[ticket] = now + _IN_FLIGHT_SECONDS
            if reply:
                self._replies.append(now)
                self._wanted.pop(ticket, None)
            return 0.0
        if reply:
            self._wanted[ticket] = now
        moments = []
        if allowed > 0:  # enough sends leave the window
            moments.append(sorted(self._sends.values())[count - allowed] + self.window)
        if not reply and demand > self.reserve:  # or the replies' demand shrinks
            oldest = self._replies[0] if self._replies else now
            moments.append(min([oldest, *self._wanted.values()]) + self.window)
        # A send still on its way frees its slot when it is done: ask again within a window.
        return max(_MIN_WAIT, min(min(moments) - now, self.window))

    async def sent(self, ticket: str) -> None:
        self.sent_now(ticket)

    def sent_now(self, ticket: str) -> None:
        if ticket in self._sends:
            self._sends[ticket] = self._clock()

    async def close(self) -> None:
        return None


# KEYS: sends, replies, wanted. ARGV: limit, window (ms), priority, ticket, reserve, in flight (ms).
# Answers 0 (a slot taken) or the milliseconds to wait.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local horizon = now - window
for i = 1, 3 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', horizon) end
local reply = ARGV[3] == 'reply'
local count = redis.call('ZCARD', KEYS[1])
local demand = redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
local allowed = limit
if not reply then allowed = limit - math.max(tonumber(ARGV[5]), demand) end
if count < allowed then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[6]), ARGV[4])
  if reply then
    redis.call('ZADD', KEYS[2], now, ARGV[4])
    redis.call('ZREM', KEYS[3], ARGV[4])
  end
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
  for i = 2, 3 do redis.call('PEXPIRE', KEYS[i], window * 2) end
  return 0
end
if reply then
  redis.call('ZADD', KEYS[3], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[3], window * 2)
end
local frees_at = math.huge
if allowed > 0 then
  frees_at = tonumber(redis.call('ZRANGE', KEYS[1], count - allowed, count - allowed, 'WITHSCORES')[2]) + window
end
if not reply and demand > tonumber(ARGV[5]) then
  for i = 2, 3 do
    local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    if first[2] then frees_at = math.min(frees_at, tonumber(first[2]) + window) end
  end
end
return math.max(1, math.min(frees_at - now, window))
"""
# KEYS: sends. ARGV: ticket. The send is done: it counts from now.
_SENT = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return 1
"""


class RedisBudget:
    """The window shared by every process of one bot through Redis (``key``: one bot's budget).

    Falls back to the process's own window while Redis fails, and asks Redis again every
    ``retry_seconds``.
    """

    def __init__(
        self,
        url: str,
        rate: float,
        *,
        key: str,
        reserve_share: float = RESERVE_SHARE,
        retry_seconds: float = REDIS_RETRY_SECONDS,
        timeout: float = REDIS_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis: Redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.local = LocalBudget(rate, reserve_share=reserve_share, clock=clock)
        self.keys = [f"{key}:sends", f"{key}:replies", f"{key}:wanted"]
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._script = self.redis.register_script(_TAKE)
        self._sent = self.redis.register_script(_SENT)
        self._away_until: float | None = None

    @property
    def shared(self) -> bool:
        """Whether the last ask went to Redis (False while the process keeps its own window)."""
        return self._away_until is None

    async def take(self, priority: Priority, ticket: str) -> float:
        if self._away_until is not None and self._clock() < self._away_until:
            return self.local.take_now(priority, ticket)
        local = self.local
        window_ms = round(local.window * 1000)
        args = [local.limit, window_ms, priority.value, ticket, local.reserve, _IN_FLIGHT_MS]
        try:
            wait_ms = await self._script(keys=self.keys, args=args)
        except (RedisError, OSError) as error:
            if self._away_until is None:
                log.warning(
                    "the send budget cannot reach Redis (%s): this process keeps its own until "
                    "Redis is back",
                    error,
                )
            self._away_until = self._clock() + self.retry_seconds
            return local.take_now(priority, ticket)
        if self._away_until is not None:
            log.info("the send budget is shared through Redis again")
            self._away_until = None
        return float(wait_ms) / 1000

    async def sent(self, ticket: str) -> None:
        if self._away_until is not None:
            self.local.sent_now(ticket)
            return
        try:
            await self._sent(keys=self.keys[:1], args=[ticket])
        except (RedisError, OSError):
            self.local.sent_now(ticket)  # the next take says Redis is away

    async def close(self) -> None:
        await self.redis.aclose()


def budget_for(rate: float, *, redis_url: str | None, bot: str) -> SendBudget:
    """``bot``'s budget (its id): shared through Redis when there is one, else the process's own."""
    if redis_url:
        return RedisBudget(redis_url, rate, key=f"lt:sends:{bot}")
    return LocalBudget(rate)
