"""The send limiter: an even pace across all chats, one message a second per chat, and pauses.

Telegram counts sends in a sliding second and refuses the 31st (``retry_after``); a burst that a
token bucket would allow can therefore cross the limit even when the average is below it. So
sends are *spaced*: each takes the next free slot ``1 / rate`` seconds after the previous one,
and a slot missed (the loop was busy, nothing was due) is not made up later. Any second then
holds at most ``rate`` sends, whatever the timing of the callers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Telegram: "avoid sending more than one message per second" to one chat.
PER_CHAT_INTERVAL = 1.0
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
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the send rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        self.per_chat_interval = per_chat_interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot = float("-inf")
        self._chat_next: dict[int, float] = {}
        self._paused_until = float("-inf")
        self._acquired = 0

    @property
    def paused_for(self) -> float:
        """Seconds until a pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` from now (a longer pause already running is kept)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def wait_unpaused(self) -> None:
        while (remaining := self.paused_for) > 0:
            await self._sleep(remaining)

    async def acquire(self, chat_id: int) -> None:
        """Wait for this send's slot: the chat is free, nobody is paused, and its turn has come."""
        while True:
            now = self._clock()
            ready = max(self._chat_next.get(chat_id, now), self._paused_until)
            if ready > now:
                # Wait without holding a global slot, so one busy chat does not hold up the rest.
                await self._sleep(ready - now)
                continue
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
            self._chat_next[chat_id] = slot + self.per_chat_interval
            self._acquired += 1
            if self._acquired % _PRUNE_EVERY == 0:
                self._forget_old_chats(now)
            if slot > now:
                await self._sleep(slot - now)
            if self._paused_until <= self._clock():
                return
            # A 429 arrived while this send waited for its slot: queue again after the pause.

    def _forget_old_chats(self, now: float) -> None:
        horizon = now - _FORGET_AFTER
        self._chat_next = {chat: at for chat, at in self._chat_next.items() if at > horizon}
