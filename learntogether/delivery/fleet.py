"""Delivery workers that share one bot's limits: Telegram counts the bot's sends, not a process's.

Each worker checks in every few seconds. With ``LT_REDIS_URL`` the check-in goes to Redis: a
sorted set of live workers (a member expires when its worker stops checking in) and the end of
a pause after a 429. Each worker then sends at ``LT_SEND_RATE`` divided by the number of live
workers and holds its sends while any worker's pause lasts. Without Redis a worker is alone.

Redis's own clock (``TIME``) decides expiries and pauses, so the workers' clocks need not agree.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# A worker that has not checked in for this long is counted out (it stopped or died).
EXPIRES_AFTER_SECONDS = 10.0
KEY_PREFIX = "lt:delivery"


@dataclass(frozen=True)
class FleetState:
    workers: int
    """Live workers, this one included (at least 1)."""
    paused_for: float
    """Seconds until a pause some worker was told (a 429) ends; 0 when none."""


ALONE = FleetState(workers=1, paused_for=0.0)


class Fleet(Protocol):
    async def check_in(self) -> FleetState:
        """Say this worker is alive; learn how many are, and whether sending is paused."""
        ...

    async def pause(self, seconds: float) -> None:
        """Tell every worker to hold its sends for ``seconds`` (a longer pause is kept)."""
        ...

    async def leave(self) -> None:
        """This worker stops: the others may take its share at once."""
        ...


class Alone:
    """A worker with no others to share with (no Redis): the whole rate is its own."""

    async def check_in(self) -> FleetState:
        return ALONE

    async def pause(self, seconds: float) -> None:
        return None

    async def leave(self) -> None:
        return None


_CHECK_IN = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {redis.call('ZCARD', KEYS[1]), redis.call('PTTL', KEYS[2])}
"""
# Keep the longer of the pause running and this one.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class RedisFleet:
    """The workers sharing ``url``'s Redis (and ``prefix``) share the bot's rate and pauses."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = KEY_PREFIX,
        expires_after: float = EXPIRES_AFTER_SECONDS,
    ) -> None:
        self.redis: Redis = Redis.from_url(url)
        self.member = uuid.uuid4().hex
        self.workers_key = f"{prefix}:workers"
        self.pause_key = f"{prefix}:paused"
        self.expires_ms = max(1, round(expires_after * 1000))
        self.last = ALONE
        self._failing = False

    async def check_in(self) -> FleetState:
        """The fleet as Redis sees it; if Redis is away, the last state seen (logged once)."""
        try:
            workers, pause_ms = await self.redis.eval(
                _CHECK_IN, 2, self.workers_key, self.pause_key, self.member, self.expires_ms
            )
        except RedisError as error:
            if not self._failing:
                log.warning("delivery workers cannot check in with Redis: %s", error)
            self._failing = True
            return self.last
        if self._failing:
            log.info("delivery workers check in with Redis again")
        self._failing = False
        self.last = FleetState(workers=max(1, int(workers)), paused_for=max(0, pause_ms) / 1000)
        return self.last

    async def pause(self, seconds: float) -> None:
        try:
            await self.redis.eval(_PAUSE, 1, self.pause_key, max(1, round(seconds * 1000)))
        except RedisError as error:
            log.warning("cannot share a pause through Redis: %s", error)

    async def leave(self) -> None:
        try:
            await self.redis.zrem(self.workers_key, self.member)
        except RedisError as error:
            log.warning("cannot leave the delivery workers in Redis: %s", error)
        finally:
            await self.redis.aclose()


def fleet_for(redis_url: str | None) -> Fleet:
    """Share through Redis when there is one (several workers), else work alone."""
    return RedisFleet(redis_url) if redis_url else Alone()
