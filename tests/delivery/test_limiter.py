"""The send limiter on a clock the test moves: spacing, per-chat intervals, pauses."""

from __future__ import annotations

import asyncio

from learntogether.delivery import SendLimiter


class ManualClock:
    """Time that moves only when the test says; sleepers wake when their time has come."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        await future

    async def advance(self, seconds: float) -> None:
        await self._wake(self.now + seconds)

    async def _wake(self, until: float) -> None:
        self.now = until
        for deadline, future in list(self._sleepers):
            if deadline <= self.now + 1e-9:
                self._sleepers.remove((deadline, future))
                future.set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)

    async def run(self, task: asyncio.Task[float]) -> float:
        """Jump from wake-up to wake-up until ``task`` is done; its result."""
        await asyncio.sleep(0)
        while not task.done():
            await self._wake(min(deadline for deadline, _ in self._sleepers))
        return task.result()


async def _times(limiter: SendLimiter, clock: ManualClock, chats: list[int]) -> list[float]:
    """Acquire for each chat in turn; the time each was let through."""

    async def acquire(chat: int) -> float:
        await limiter.acquire(chat)
        return clock.now

    return [round(await clock.run(asyncio.create_task(acquire(chat))), 6) for chat in chats]


async def test_sends_are_spaced_evenly_at_the_rate() -> None:
    clock = ManualClock()
    limiter = SendLimiter(10, clock=clock, sleep=clock.sleep)

    assert await _times(limiter, clock, [1, 2, 3, 4, 5]) == [0.0, 0.1, 0.2, 0.3, 0.4]


async def test_a_slot_missed_while_idle_is_not_made_up_in_a_burst() -> None:
    clock = ManualClock()
    limiter = SendLimiter(10, clock=clock, sleep=clock.sleep)
    await _times(limiter, clock, [1])
    await clock.advance(5.0)

    assert await _times(limiter, clock, [2, 3]) == [5.0, 5.1]


async def test_one_chat_waits_a_second_without_holding_up_the_others() -> None:
    clock = ManualClock()
    limiter = SendLimiter(10, clock=clock, sleep=clock.sleep)
    await limiter.acquire(1)
    second_to_chat_one = asyncio.create_task(limiter.acquire(1))
    await clock.advance(0)

    others = await _times(limiter, clock, [2, 3])

    assert others == [0.1, 0.2]
    assert not second_to_chat_one.done()
    await clock.advance(0.8)
    assert second_to_chat_one.done()
    assert clock.now >= 1.0


async def test_pause_holds_every_send_until_it_ends() -> None:
    clock = ManualClock()
    limiter = SendLimiter(10, clock=clock, sleep=clock.sleep)
    await limiter.acquire(1)
    limiter.pause(2.0)

    assert limiter.paused_for == 2.0
    assert await _times(limiter, clock, [2]) == [2.0]
    assert limiter.paused_for == 0


async def test_a_send_waiting_for_its_slot_when_a_pause_begins_waits_for_the_pause() -> None:
    clock = ManualClock()
    limiter = SendLimiter(1, clock=clock, sleep=clock.sleep)
    await limiter.acquire(1)
    waiting = asyncio.create_task(limiter.acquire(2))  # its slot is at 1.0
    await clock.advance(0.5)
    limiter.pause(3.0)  # until 3.5

    await clock.advance(0.5)
    assert not waiting.done()
    while not waiting.done():
        await clock.advance(0.1)
    assert clock.now >= 3.5


async def test_sends_let_through_late_are_spaced_again_not_sent_in_a_burst() -> None:
    clock = ManualClock()
    limiter = SendLimiter(10, max_lateness=0.05, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def send(chat: int) -> None:
        await limiter.acquire(chat)
        times.append(round(clock.now, 6))

    await send(1)
    late = [asyncio.create_task(send(chat)) for chat in (2, 3, 4)]  # slots 0.1, 0.2, 0.3
    await clock.advance(0)
    await clock.advance(0.5)  # the loop was busy: all three wake after their slots
    while not all(task.done() for task in late):
        await clock.advance(0.05)

    assert times == [0.0, 0.5, 0.6, 0.7]


async def test_no_second_ever_lets_through_more_than_the_rate() -> None:
    clock = ManualClock()
    # Lateness allowed freely, so only the window stops the late sends from bunching.
    limiter = SendLimiter(2, max_lateness=100, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def send(chat: int) -> None:
        await limiter.acquire(chat)
        times.append(round(clock.now, 6))

    await send(1)
    late = [asyncio.create_task(send(chat)) for chat in (2, 3, 4)]  # slots 0.5, 1.0, 1.5
    await clock.advance(0)
    await clock.advance(1.6)  # the loop was busy until 1.6
    while not all(task.done() for task in late):
        await clock.advance(0.1)

    assert times == [0.0, 1.6, 1.6, 2.6]
