"""What a failed send means for its delivery row: Telegram's errors sorted into a few decisions.

| answer | decision |
| --- | --- |
| 429 ``retry_after`` | the whole sender pauses; the row waits, not counted as an attempt |
| 403 (blocked, deactivated) | ``blocked``, and the learner is marked blocked; never retried |
| 400 and other refusals | ``failed`` with Telegram's reason: sending it again gives the same answer |
| 5xx, a connection that could not be opened | retried with exponential backoff, ``failed`` after the last attempt |
| no answer after the request went out (a timeout, a dropped connection) | *unsure*: by kind, below |
| 401, 404 (the token or the API URL is wrong) | the sender pauses; the row waits |

An unsure send may have arrived: sends are not idempotent, so sending it again may deliver it
twice, and not sending it may lose it. Each kind of message decides:

* **at least once** (broadcasts, certificates): what a person chose to tell a cohort, or what a
  learner earned, must arrive. It is retried like a 5xx; the learner may get it twice.
* **at most once** (reminders, nudges): a learner who gets every reminder twice stops reading
  them, and a missed one comes again tomorrow. It is ``failed`` with ``last_error`` saying it may
  have arrived, never resent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiohttp import ClientConnectorError, ClientError

from learntogether.db.models import BroadcastKind

AMBIGUOUS_PREFIX = "ambiguous"
AT_MOST_ONCE = frozenset({BroadcastKind.REMINDER, BroadcastKind.NUDGE, BroadcastKind.REVIEW})
"""Kinds never sent again when a send may have arrived; every other kind is sent at least once."""
# A wrong token or API URL is an operator's mistake; check again now and then.
MISCONFIGURED_PAUSE_SECONDS = 60.0


class Decision(StrEnum):
    PAUSE = "pause"
    """Hold every send ``pause_seconds``; the row waits as pending, its attempt not counted."""
    BLOCKED = "blocked"
    FAILED = "failed"
    RETRY = "retry"
    """Pending again after ``backoff``."""


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str
    pause_seconds: float = 0.0
    backoff: timedelta = timedelta(0)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base``, ``2 × base``, … up to ``cap``, for ``max_attempts`` tries."""

    max_attempts: int = 5
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=10)

    def backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self.base * 2 ** max(attempts - 1, 0)
        return min(self.cap, delay)


def _reason(error: BaseException) -> str:
    if isinstance(error, TelegramAPIError):
        return error.message
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _unsure(error: BaseException) -> bool:
    """Whether the request may have reached Telegram though no answer came back."""
    cause = error.__cause__ if isinstance(error, TelegramNetworkError) else error
    if isinstance(cause, asyncio.TimeoutError | TimeoutError):
        return True
    # A connection that could not be opened carried nothing; one that broke may have.
    return isinstance(cause, ClientError) and not isinstance(cause, ClientConnectorError)


def judge(
    error: BaseException, *, attempts: int, policy: RetryPolicy, at_most_once: bool = False
) -> Verdict:
    """The decision for a send that raised ``error`` on its ``attempts``-th try.

    ``at_most_once``: the message is never sent again when it may have arrived.
    """
    reason = _reason(error)
    if isinstance(error, TelegramRetryAfter):
        return Verdict(Decision.PAUSE, reason, pause_seconds=float(error.retry_after))
    if isinstance(error, TelegramForbiddenError):
        return Verdict(Decision.BLOCKED, reason)
    if isinstance(error, TelegramUnauthorizedError | TelegramNotFound):
        return Verdict(
            Decision.PAUSE,
            f"the Bot API refused the bot ({reason}); check LT_BOT_TOKEN and LT_TELEGRAM_API_URL",
            pause_seconds=MISCONFIGURED_PAUSE_SECONDS,
        )
    if isinstance(error, TelegramEntityTooLarge):
        return Verdict(Decision.FAILED, reason)
    if _unsure(error):
        if at_most_once:
            return unsure_verdict(f"no answer from Telegram ({reason})")
        reason = f"{AMBIGUOUS_PREFIX}: no answer from Telegram ({reason}); sent again"
    transient = isinstance(
        error, TelegramServerError | TelegramNetworkError | ClientDecodeError | OSError
    )
    if not transient and isinstance(error, TelegramAPIError):
        return Verdict(Decision.FAILED, reason)
    if attempts >= policy.max_attempts:
        return Verdict(Decision.FAILED, f"gave up after {attempts} attempts: {reason}")
    return Verdict(Decision.RETRY, reason, backoff=policy.backoff(attempts))


def unsure_verdict(what: str) -> Verdict:
    """``failed``, saying the message may have arrived (an at-most-once kind, never resent)."""
    return Verdict(
        Decision.FAILED, f"{AMBIGUOUS_PREFIX}: {what}; not resent because it may have arrived"
    )
