"""Telegram's answers sorted into what the outbox does with the row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage

from learntogether.delivery.policy import Decision, RetryPolicy, judge

METHOD = SendMessage(chat_id=1, text="hello")
POLICY = RetryPolicy(max_attempts=3, base=timedelta(seconds=2), cap=timedelta(seconds=5))


def _timed_out() -> TelegramNetworkError:
    try:
        raise TelegramNetworkError(METHOD, "Request timeout error") from TimeoutError()
    except TelegramNetworkError as error:
        return error


@pytest.mark.parametrize(
    ("error", "decision"),
    [
        (TelegramRetryAfter(METHOD, "Too Many Requests: retry after 7", 7), Decision.PAUSE),
        (
            TelegramForbiddenError(METHOD, "Forbidden: bot was blocked by the user"),
            Decision.BLOCKED,
        ),
        (TelegramForbiddenError(METHOD, "Forbidden: user is deactivated"), Decision.BLOCKED),
        (TelegramBadRequest(METHOD, "Bad Request: chat not found"), Decision.FAILED),
        (TelegramServerError(METHOD, "Internal Server Error"), Decision.RETRY),
        (TelegramNetworkError(METHOD, "ClientConnectorError: refused"), Decision.RETRY),
        (_timed_out(), Decision.FAILED),
        (TelegramUnauthorizedError(METHOD, "Unauthorized"), Decision.PAUSE),
    ],
)
def test_each_answer_gets_its_decision(error: Exception, decision: Decision) -> None:
    assert judge(error, attempts=1, policy=POLICY).decision is decision


def test_flood_limit_pauses_for_retry_after() -> None:
    verdict = judge(TelegramRetryAfter(METHOD, "Too Many Requests", 7), attempts=1, policy=POLICY)

    assert verdict.pause_seconds == 7


def test_timeout_is_recorded_as_ambiguous() -> None:
    verdict = judge(_timed_out(), attempts=1, policy=POLICY)

    assert verdict.reason.startswith("ambiguous: no answer from Telegram")


def test_retries_back_off_exponentially_up_to_the_cap() -> None:
    error = TelegramServerError(METHOD, "Bad Gateway")

    delays = [judge(error, attempts=n, policy=POLICY).backoff for n in (1, 2)]

    assert delays == [timedelta(seconds=2), timedelta(seconds=4)]
    assert POLICY.backoff(10) == timedelta(seconds=5)


def test_last_attempt_fails_the_row() -> None:
    verdict = judge(TelegramServerError(METHOD, "Bad Gateway"), attempts=3, policy=POLICY)

    assert verdict.decision is Decision.FAILED
    assert verdict.reason == "gave up after 3 attempts: Bad Gateway"
