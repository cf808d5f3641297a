"""Redis as shared state that may go away: waits bounded in seconds, and one warning an outage.

With ``LT_REDIS_URL`` the bot's processes share conversation state and update de-duplication
through Redis. While Redis cannot be reached each carries on in its own process (``bot.storage``,
``bot.middlewares.UpdateOnce``); a ``RedisOutage`` decides when to try Redis again, and says once
that it is gone and once that it is back, instead of a line for every update.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import ClassVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# What a Redis client raises when Redis is away (a refused or cut connection, a timeout).
REDIS_ERRORS = (RedisError, OSError)
TIMEOUT_SECONDS = 2.0


def connect(url: str) -> Redis:
    """A client that gives up within ``TIMEOUT_SECONDS`` when Redis is away.

    redis-py's default retries a failed command ten times with backoff (seconds for a refused
    connection, most of a minute for a silent host). One retry on a cut connection is enough to
    take a fresh one after Redis restarted; a timeout is not retried.
    """
    return Redis.from_url(
        url,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


class RedisOutage:
    """Whether Redis is usable for ``what``, and when to try it again after a failure."""

    # After a failure Redis is tried again at most this often, not on every update.
    retry_seconds: ClassVar[float] = 5.0

    def __init__(
        self, what: str, meanwhile: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.what = what
        self.meanwhile = meanwhile
        self.clock = clock
        self.down = False
        self._retry_at = 0.0

    def worth_trying(self) -> bool:
        """True while Redis answers, and now and then while it does not."""
        return not self.down or self.clock() >= self._retry_at

    def failed(self, error: BaseException) -> None:
        self._retry_at = self.clock() + self.retry_seconds
        if not self.down:
            self.down = True
            log.warning(
                "Redis unreachable (%s): %s %s until it is back",
                error or type(error).__name__,
                self.what,
                self.meanwhile,
            )

    def back(self) -> None:
        if self.down:
            self.down = False
            log.info("Redis is back: %s shared through it again", self.what)
