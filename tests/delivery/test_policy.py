"""Telegram's answers sorted into what the outbox does with the row."""

from __future__ import annotations

from collections.abc import Callable
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
from aiohttp import ClientConnectorError, ServerDisconnectedError
from aiohttp.client_reqrep import ConnectionKey

from learntogether.db.models import BroadcastKind
from learntogether.delivery.policy import AT_MOST_ONCE, Decision, RetryPolicy, judge

METHOD = SendMessage(chat_id=1, text="hello")
POLICY = RetryPolicy(max_attempts=3, base=timedelta(seconds=2), cap=timedelta(seconds=5))


def _network_error(cause: BaseException, message: str) -> TelegramNetworkError:
    """As aiogram raises it: the client's error as the cause."""
    try:
        raise TelegramNetworkError(METHOD, message) from cause
    except TelegramNetworkError as error:
        return error


def _timed_out() -> TelegramNetworkError:
    return _network_error(TimeoutError(), "Request timeout error")


def _dropped() -> TelegramNetworkError:
    return _network_error(ServerDisconnectedError(), "ServerDisconnectedError: Server disconnected")


def _not_connected() -> TelegramNetworkError:
    cause = ClientConnectorError(
        ConnectionKey("h", 1, False, False, None, None, None), OSError(111, "refused")
    )
    return _network_error(cause, "ClientConnectorError: refused")


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
        (_not_connected(), Decision.RETRY),
        (TelegramUnauthorizedError(METHOD, "Unauthorized"), Decision.PAUSE),
    ],
)
def test_each_answer_gets_its_decision(error: Exception, decision: Decision) -> None:
    assert judge(error, attempts=1, policy=POLICY).decision is decision


def test_flood_limit_pauses_for_retry_after() -> None:
    verdict = judge(TelegramRetryAfter(METHOD, "Too Many Requests", 7), attempts=1, policy=POLICY)

    assert verdict.pause_seconds == 7


@pytest.mark.parametrize("unsure", [_timed_out, _dropped], ids=["timeout", "dropped"])
def test_a_send_that_may_have_arrived_is_resent_at_least_once(
    unsure: Callable[[], TelegramNetworkError],
) -> None:
    verdict = judge(unsure(), attempts=1, policy=POLICY)

    assert verdict.decision is Decision.RETRY
    assert verdict.reason.startswith("ambiguous: no answer from Telegram")
    assert verdict.reason.endswith("; sent again")
    last = judge(unsure(), attempts=3, policy=POLICY)
    assert (last.decision, last.reason[:21]) == (Decision.FAILED, "gave up after 3 attem")


@pytest.mark.parametrize("unsure", [_timed_out, _dropped], ids=["timeout", "dropped"])
def test_a_send_that_may_have_arrived_fails_when_at_most_once(
    unsure: Callable[[], TelegramNetworkError],
) -> None:
    verdict = judge(unsure(), attempts=1, policy=POLICY, at_most_once=True)

    assert verdict.decision is Decision.FAILED
    assert verdict.reason.startswith("ambiguous: no answer from Telegram")
    assert verdict.reason.endswith("not resent because it may have arrived")


def test_a_connection_never_opened_is_retried_even_at_most_once() -> None:
    verdict = judge(_not_connected(), attempts=1, policy=POLICY, at_most_once=True)

    assert verdict.decision is Decision.RETRY


def test_reminders_nudges_and_reviews_are_at_most_once_the_rest_at_least_once() -> None:
    assert {BroadcastKind.REMINDER, BroadcastKind.NUDGE, BroadcastKind.REVIEW} == AT_MOST_ONCE


def test_retries_back_off_exponentially_up_to_the_cap() -> None:
    error = TelegramServerError(METHOD, "Bad Gateway")

    delays = [judge(error, attempts=n, policy=POLICY).backoff for n in (1, 2)]

    assert delays == [timedelta(seconds=2), timedelta(seconds=4)]
    assert POLICY.backoff(10) == timedelta(seconds=5)


def test_last_attempt_fails_the_row() -> None:
    verdict = judge(TelegramServerError(METHOD, "Bad Gateway"), attempts=3, policy=POLICY)

    assert verdict.decision is Decision.FAILED
    assert verdict.reason == "gave up after 3 attempts: Bad Gateway"
