"""The send limiter, on a clock the tests move."""

from __future__ import annotations

from tests.standin.ratelimit import RateLimiter


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_chat_burst_is_admitted_then_refused_with_retry_after() -> None:
    limiter = RateLimiter(global_rate=None, per_chat_rate=1.0, per_chat_burst=3, clock=FakeClock())

    results = [limiter.try_acquire(1)[1] for _ in range(4)]

    assert results == [0, 0, 0, 1]


def test_retry_after_is_rounded_up_to_whole_seconds() -> None:
    limiter = RateLimiter(global_rate=None, per_chat_rate=0.4, per_chat_burst=1, clock=FakeClock())
    limiter.try_acquire(1)

    assert limiter.try_acquire(1)[1] == 3


def test_chat_bucket_refills_at_its_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(global_rate=None, per_chat_rate=1.0, per_chat_burst=3, clock=clock)
    for _ in range(3):
        limiter.try_acquire(1)

    clock.now += 1.0

    assert limiter.try_acquire(1)[1] == 0
    assert limiter.try_acquire(1)[1] == 1


def test_chats_have_separate_buckets() -> None:
    limiter = RateLimiter(global_rate=None, per_chat_rate=1.0, per_chat_burst=1, clock=FakeClock())
    limiter.try_acquire(1)

    assert limiter.try_acquire(2)[1] == 0


def test_global_rate_limits_sends_across_chats() -> None:
    limiter = RateLimiter(global_rate=30, per_chat_rate=1.0, per_chat_burst=3, clock=FakeClock())

    results = [limiter.try_acquire(chat)[1] for chat in range(31)]

    assert results == [0] * 30 + [1]


def test_global_window_slides() -> None:
    clock = FakeClock()
    limiter = RateLimiter(global_rate=2, per_chat_rate=None, clock=clock)
    limiter.try_acquire(1)
    clock.now += 0.5
    limiter.try_acquire(2)

    clock.now += 0.6

    assert limiter.try_acquire(3)[1] == 0
    assert limiter.try_acquire(4)[1] == 1


def test_refused_sends_do_not_use_capacity() -> None:
    clock = FakeClock()
    limiter = RateLimiter(global_rate=None, per_chat_rate=1.0, per_chat_burst=1, clock=clock)
    limiter.try_acquire(1)
    for _ in range(5):
        limiter.try_acquire(1)

    clock.now += 1.0

    assert limiter.try_acquire(1)[1] == 0


def test_none_disables_the_limits() -> None:
    limiter = RateLimiter(global_rate=None, per_chat_rate=None, clock=FakeClock())

    assert all(limiter.try_acquire(1)[1] == 0 for _ in range(1000))


def test_paid_broadcast_sends_go_up_to_the_paid_limit() -> None:
    limiter = RateLimiter(
        global_rate=30, per_chat_rate=None, paid_global_rate=1000, clock=FakeClock()
    )

    free = [limiter.try_acquire(chat)[1] for chat in range(31)]
    paid = [limiter.try_acquire(chat, paid=True)[1] for chat in range(31, 1001)]

    assert free == [0] * 30 + [1]
    assert paid == [0] * 970
    assert limiter.try_acquire(1001, paid=True)[1] == 1
