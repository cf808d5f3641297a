"""The send limiter: an even pace across all chats, one message a second per chat, and pauses.

Telegram counts sends in a sliding second and refuses the one over its limit (``retry_after``);
a burst that a token bucket would allow can cross the limit while the average stays below it.
So sends are *spaced*: each takes the next free slot ``1 / rate`` seconds after the previous one,
and a slot nobody used (nothing was due) is not made up later. A send that the event loop lets
through late (it was busy) still goes, unless it is more than ``max_lateness`` late: then it queues
again, so a stall does not end in a long burst. Above all, a sliding window makes sure that no
second ever lets through more than ``rate`` sends. Only the network can still bunch them on the
way: keep the rate a little below Telegram's limit (25 of its 30 a second, 950 of the 1000 of
paid broadcasts).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

# Telegram: "avoid sending more than one message per second" to one chat.
PER_CHAT_INTERVAL = 1.0
# A send let through later than this after its slot queues again: bursts stay short.
MAX_LATENESS = 0.25
WINDOW = 1.0
# Forget a chat once its slot is this far in the past; keeps the table small on big broadcasts.
_FORGET_AFTER = 2.0
_PRUNE_EVERY = 1000


class SendLimiter:
    """Spaces sends at ``rate`` a second overall and ``per_chat_interval`` apart in one chat.

    ``pause(seconds)`` (after a 429) holds every caller until the pause ends. ``clock`` and
    ``sleep`` are injectable so tests need not wait.
    """

    def __init__(
        self,
        rate: float,
        *,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        max_lateness: float = MAX_LATENESS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the send rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        self.per_chat_interval = per_chat_interval
        self.max_lateness = max_lateness
        self._clock = clock
        self._sleep = sleep
        self._next_slot = float("-inf")
        self._chat_next: dict[int, float] = {}
        self._paused_until = float("-inf")
        # When the last ``rate`` sends went: the next may go once the oldest is a second old.
        self._recent: deque[float] = deque(maxlen=max(1, math.floor(rate)))
        self._acquired = 0

    def set_rate(self, rate: float) -> None:
        """Pace at ``rate`` from now on (this worker's share when several send for one bot)."""
        if rate <= 0:
            raise ValueError("the send rate must be positive")
        if rate != self.rate:
            self.rate = rate
            self.interval = 1.0 / rate
            # The newest sends stay remembered: the window cannot let a burst through.
            self._recent = deque(self._recent, maxlen=max(1, math.floor(rate)))

    @property
    def paused_for(self) -> float:
        """Seconds until a pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` from now (a longer pause already running is kept)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _window_opens(self) -> float:
        recent = self._recent
        return recent[0] + WINDOW if len(recent) == recent.maxlen else float("-inf")

    async def acquire(self, chat_id: int) -> None:
        """Wait for this send's turn: its chat is free, nobody is paused, its slot has come."""
        while True:
            now = self._clock()
            ready = max(self._chat_next.get(chat_id, now), self._paused_until, self._window_opens())
            if ready > now:
                # Wait without holding a slot, so one busy chat does not hold up the rest.
                await self._sleep(ready - now)
                continue
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
            chat_was_free_at = self._chat_next.get(chat_id)
            self._chat_next[chat_id] = slot + self.per_chat_interval
            if slot > now:
                await self._sleep(slot - now)
            # The send a second before may itself have gone a little late: wait, not queue anew.
            opens = self._window_opens()
            while opens > self._clock() and opens - slot <= self.max_lateness:
                await self._sleep(opens - self._clock())
                opens = self._window_opens()
            woke = self._clock()
            if (
                woke - slot <= self.max_lateness
                and self._paused_until <= woke
                and self._window_opens() <= woke
            ):
                self._recent.append(woke)
                self._acquired += 1
                if self._acquired % _PRUNE_EVERY == 0:
                    self._forget_old_chats(woke)
                return
            # Late, paused by a 429 meanwhile, or the second is full: queue again.
            if chat_was_free_at is None:
                del self._chat_next[chat_id]
            else:
                self._chat_next[chat_id] = chat_was_free_at

    def _forget_old_chats(self, now: float) -> None:
        horizon = now - _FORGET_AFTER
        self._chat_next = {chat: at for chat, at in self._chat_next.items() if at > horizon}
