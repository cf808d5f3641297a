"""Requests per client address on public routes (the certificate check), through ``limits``.

With ``LT_REDIS_URL`` the API workers share one count; while Redis cannot be reached each worker
counts alone (with a warning), so a Redis outage neither opens the door nor closes it.
"""

from __future__ import annotations

import logging
import math
import time

from fastapi import HTTPException, Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


class ClientRateLimit:
    """At most ``per_minute`` requests a minute from one address to the routes it guards."""

    def __init__(self, name: str, per_minute: int, *, redis_url: str | None = None) -> None:
        self.name = name
        self.item: RateLimitItem = RateLimitItemPerMinute(per_minute)
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if redis_url:
            storage: Storage = RedisStorage(
                f"async+{redis_url}", implementation="redispy", key_prefix="lt-limits"
            )
            self.shared = MovingWindowRateLimiter(storage)

    async def _limiter(self, key: str) -> tuple[MovingWindowRateLimiter, bool]:
        if self.shared is not None:
            try:
                return self.shared, await self.shared.hit(self.item, self.name, key)
            except Exception as error:
                log.warning("rate limit %s counted in this process: %s", self.name, error)
        return self.local, await self.local.hit(self.item, self.name, key)

    async def check(self, request: Request) -> None:
        """Count the request; 429 with ``Retry-After`` once its address used up the minute."""
        key = request.client.host if request.client else "unknown"
        limiter, allowed = await self._limiter(key)
        if allowed:
            return
        try:
            stats = await limiter.get_window_stats(self.item, self.name, key)
            wait = max(1, math.ceil(stats.reset_time - time.time()))
        except Exception:
            wait = 60
        raise HTTPException(
            429,
            f"Too many requests from your address; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
