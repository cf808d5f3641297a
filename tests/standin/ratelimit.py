"""Telegram's send limits: a global sliding window and a token bucket per chat."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Admit sends the way Telegram throttles bots.

    At most ``global_rate`` sends in any sliding window of ``window`` seconds across all chats,
    and per chat a token bucket refilled at ``per_chat_rate`` tokens a second holding at most
    ``per_chat_burst``. A paid broadcast (``allow_paid_broadcast``) may use up to
    ``paid_global_rate`` sends in the window instead. ``None`` disables a limit. ``clock``
    (seconds, monotonic) is injectable so tests can move time without sleeping. Only admitted
    sends consume capacity.
    """

    def __init__(
        self,
        global_rate: int | None = 30,
        per_chat_rate: float | None = 1.0,
        per_chat_burst: int = 3,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        paid_global_rate: int | None = 1000,
    ) -> None:
        self.global_rate = global_rate
        self.paid_global_rate = paid_global_rate
        self.per_chat_rate = per_chat_rate
        self.per_chat_burst = per_chat_burst
        self.window = window
        self.clock = clock
        self._recent: deque[float] = deque()
        self._buckets: dict[int, _Bucket] = {}

    def try_acquire(self, chat_id: int, *, paid: bool = False) -> tuple[float, int]:
        """Admit one send to ``chat_id``: return ``(now, 0)``, or ``(now, retry_after)`` when refused.

        ``retry_after`` is the whole number of seconds, at least 1, until the send would fit.
        ``paid``: the send is a paid broadcast, held to ``paid_global_rate``.
        """
        now = self.clock()
        rate = self.paid_global_rate if paid else self.global_rate
        wait = max(self._global_wait(now, rate), self._chat_wait(chat_id, now))
        if wait > 0:
            return now, max(1, math.ceil(wait))
        if self.global_rate is not None or self.paid_global_rate is not None:
            self._recent.append(now)
        if self.per_chat_rate is not None:
            self._buckets[chat_id].tokens -= 1
        return now, 0

    def _global_wait(self, now: float, rate: int | None) -> float:
        recent = self._recent
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if rate is None or len(recent) < rate:
            return 0.0
        return recent[len(recent) - rate] + self.window - now

    def _chat_wait(self, chat_id: int, now: float) -> float:
        if self.per_chat_rate is None:
            return 0.0
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            bucket = self._buckets[chat_id] = _Bucket(float(self.per_chat_burst), now)
        bucket.tokens = min(
            float(self.per_chat_burst), bucket.tokens + (now - bucket.updated) * self.per_chat_rate
        )
        bucket.updated = now
        if bucket.tokens >= 1:
            return 0.0
        return (1 - bucket.tokens) / self.per_chat_rate
