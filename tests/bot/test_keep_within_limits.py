"""Replies keep Telegram's pace in a chat, take a slot of the bot's budget, and wait out short 429s."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendChatAction, SendMessage
from aiogram.methods.base import TelegramMethod

from bot.retry import ChatPace, KeepWithinLimits, sends_a_message
from learntogether.sendbudget import LocalBudget, Priority


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Requests:
    """``make_request`` for the middleware: records when each call went, refuses as told."""

    def __init__(self, clock: Clock, refusals: list[int] | None = None) -> None:
        self.clock = clock
        self.refusals = list(refusals or [])
        self.sent: list[tuple[str, float]] = []

    async def __call__(self, bot: Any, method: TelegramMethod[Any]) -> Any:
        self.sent.append((method.__api_method__, self.clock.now))
        if self.refusals:
            raise TelegramRetryAfter(method, "Too Many Requests", self.refusals.pop(0))
        return True


def test_new_messages_count_and_edits_answers_and_typing_do_not() -> None:
    assert sends_a_message(SendMessage(chat_id=1, text="x"))
    assert not sends_a_message(EditMessageText(chat_id=1, message_id=1, text="x"))
    assert not sends_a_message(AnswerCallbackQuery(callback_query_id="q"))
    assert not sends_a_message(SendChatAction(chat_id=1, action="typing"))


def test_a_chat_gets_a_burst_of_three_then_one_a_second() -> None:
    clock = Clock()
    pace = ChatPace(clock=clock)

    assert [pace.take(1) for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(1.0)]
    assert pace.take(2) == 0.0  # another chat is not held up
    clock.now += 1.0
    assert pace.take(1) == 0.0


async def test_five_messages_to_one_chat_wait_for_their_pace_instead_of_a_429() -> None:
    clock = Clock()
    middleware = KeepWithinLimits(pace=ChatPace(clock=clock), sleep=clock.sleep)
    requests = Requests(clock)

    for _ in range(5):
        await middleware(requests, None, SendMessage(chat_id=7, text="step"))  # type: ignore[arg-type]

    assert [at for _, at in requests.sent] == pytest.approx([0.0, 0.0, 0.0, 1.0, 2.0])


async def test_each_message_takes_a_reply_slot_of_the_budget() -> None:
    clock = Clock()
    budget = LocalBudget(2, clock=clock)
    middleware = KeepWithinLimits(budget, pace=ChatPace(clock=clock), sleep=clock.sleep)
    requests = Requests(clock)

    for chat in (1, 2, 3):
        await middleware(requests, None, SendMessage(chat_id=chat, text="hi"))  # type: ignore[arg-type]
    await middleware(requests, None, EditMessageText(chat_id=1, message_id=1, text="x"))  # type: ignore[arg-type]

    # Two a second: the third waits for the window; the edit takes no slot.
    assert [at for _, at in requests.sent] == pytest.approx([0.0, 0.0, 1.0, 1.0])
    assert budget.take_now(Priority.BULK, "t") > 0  # the replies used the window


async def test_a_short_flood_limit_is_waited_out_exactly_and_a_long_one_is_raised() -> None:
    clock = Clock()
    middleware = KeepWithinLimits(pace=ChatPace(clock=clock), sleep=clock.sleep)

    short = Requests(clock, refusals=[2])
    await middleware(short, None, SendMessage(chat_id=1, text="x"))  # type: ignore[arg-type]
    assert [at for _, at in short.sent] == [0.0, 2.0]  # never before retry_after

    long = Requests(clock, refusals=[30])
    with pytest.raises(TelegramRetryAfter):
        await middleware(long, None, SendMessage(chat_id=2, text="x"))  # type: ignore[arg-type]
    assert len(long.sent) == 1
