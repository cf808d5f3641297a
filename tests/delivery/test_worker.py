"""The delivery worker end to end: the outbox, the stand-in over HTTP, and Telegram's answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import (
    Activity,
    BroadcastKind,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    LessonProgress,
    User,
    UserStatus,
    Verb,
    WaitReason,
)
from learntogether.delivery.policy import RetryPolicy
from learntogether.i18n import create_i18n
from learntogether.services import broadcasts, learners, outbox
from learntogether.services.broadcasts import BroadcastInfo
from learntogether.services.outbox import RESUME_CALLBACK, Claimed
from tests.delivery.conftest import (
    ADMIN,
    add_learners,
    broadcast_row,
    committed_broadcast,
    committed_cohort,
    counts_of,
    delivery_of,
    recipient,
    texts_to,
)
from tests.delivery.workers import WorkerFactory
from tests.factories import eventually, find_user, import_sample_curriculum
from tests.standin import BotAPIStandIn, parse_html

WAIT = 20.0


async def _for_learners(
    session_maker: async_sessionmaker[AsyncSession],
    kind: BroadcastKind,
    users: list[User],
    text: dict[str, str] | None = None,
) -> BroadcastInfo:
    async with session_maker() as session:
        info = await broadcasts.create_for_learners(
            session, kind=kind, user_ids=[user.id for user in users], text=text, actor=ADMIN
        )
        await session.commit()
    return info


async def _done(
    session_maker: async_sessionmaker[AsyncSession], info: BroadcastInfo, within: float = WAIT
) -> None:
    async def finished() -> bool:
        return (await broadcast_row(session_maker, info)).status is BroadcastStatus.DONE

    await eventually(finished, within=within)


async def test_broadcast_reaches_the_cohort_in_each_language_and_counts_blocked_learners(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker, "SLV1")
    await committed_cohort(session_maker, "OTHER")
    await add_learners(session_maker, standin, [101, 102], cohort="SLV1", locale="en")
    await add_learners(session_maker, standin, [103], cohort="SLV1", locale="bg")
    *_reachable, erased = await add_learners(session_maker, standin, [104, 105, 106], cohort="SLV1")
    await add_learners(session_maker, standin, [107], cohort="OTHER")
    async with session_maker() as session:
        await outbox.mark_blocked(session, telegram_id=104)
        erased_user = await session.get(User, erased.id)
        assert erased_user is not None
        await learners.erase(session, learner=erased_user)
        await session.commit()
    standin.users[105].block()

    info = await committed_broadcast(session_maker, {"en": "Hello <b>all</b>", "bg": "Здравейте"})
    assert info.counts.total == 4  # 101, 102, 103 and 105; 104 and 106 are left out
    start_worker()
    await _done(session_maker, info)

    counts = await counts_of(session_maker, info)
    assert (counts.total, counts.sent, counts.blocked, counts.failed, counts.pending) == (
        4,
        3,
        1,
        0,
        0,
    )
    assert texts_to(standin, 101) == ["Hello all"]
    assert texts_to(standin, 103) == ["Здравейте"]
    assert texts_to(standin, 104) == texts_to(standin, 106) == texts_to(standin, 107) == []
    blocked = await find_user(session_maker, 105)
    assert blocked is not None and blocked.status is UserStatus.BLOCKED
    row = await delivery_of(session_maker, info, 105)
    assert row.status is DeliveryStatus.BLOCKED
    assert row.last_error is not None and "blocked" in row.last_error
    sent = await delivery_of(session_maker, info, 101)
    assert sent.message_id == standin.users[101].messages[0]["message_id"]
    assert sent.sent_at is not None
    finished = await broadcast_row(session_maker, info)
    assert finished.finished_at is not None
    assert standin.rate_limit_violations == 0


async def test_scheduled_broadcast_is_sent_only_once_its_time_has_come(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [201, 202], cohort="SLV1")
    send_at = utcnow() + timedelta(seconds=1)

    info = await committed_broadcast(session_maker, send_at=send_at)
    assert info.status is BroadcastStatus.SCHEDULED and info.counts.pending == 2
    start_worker()
    await _done(session_maker, info)

    for telegram_id in (201, 202):
        row = await delivery_of(session_maker, info, telegram_id)
        assert row.sent_at is not None and row.sent_at >= send_at
        assert texts_to(standin, telegram_id) == ["Workshop on Friday"]


async def test_cancelled_broadcast_sends_nothing(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    make_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [301, 302, 303], cohort="SLV1")
    info = await committed_broadcast(session_maker, send_at=utcnow() + timedelta(milliseconds=300))
    async with session_maker() as session:
        cancelled = await broadcasts.cancel_broadcast(session, broadcast_id=info.id, actor=ADMIN)
        await session.commit()
    assert cancelled.status is BroadcastStatus.CANCELLED
    assert (cancelled.counts.total, cancelled.counts.cancelled) == (3, 3)

    async def past_send_time() -> bool:
        return utcnow() > info.send_at

    await eventually(past_send_time)
    await make_worker().run(until_idle=True)

    assert standin.calls_of("sendMessage") == []
    assert (await broadcast_row(session_maker, info)).status is BroadcastStatus.CANCELLED


async def test_flood_limit_pauses_the_sender_and_loses_nothing(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    ids = [401, 402, 403, 404, 405]
    await add_learners(session_maker, standin, ids, cohort="SLV1")
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    info = await committed_broadcast(session_maker)
    worker = start_worker()
    await _done(session_maker, info)

    counts = await counts_of(session_maker, info)
    assert (counts.sent, counts.failed) == (5, 0)
    assert all(texts_to(standin, telegram_id) == ["Workshop on Friday"] for telegram_id in ids)
    calls = standin.calls_of("sendMessage")
    refused = next(call for call in calls if call.status == 429)
    after = [call for call in calls if call.time > refused.time]
    # Nothing went out before retry_after was over.
    assert min(call.time for call in after) - refused.time >= 0.95
    refused_user = int(refused.params["chat_id"])
    row = await delivery_of(session_maker, info, refused_user)
    assert row.attempts == 1, "a 429 is not an attempt"
    assert worker.counts[DeliveryStatus.PENDING] >= 1


async def test_server_errors_are_retried_until_everything_arrives_once(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    ids = [501, 502, 503, 504]
    await add_learners(session_maker, standin, ids, cohort="SLV1")
    standin.fail_next("sendMessage", 500, "Internal Server Error", count=3)
    standin.fail_next("sendMessage", 502, "Bad Gateway", count=1)

    info = await committed_broadcast(session_maker)
    start_worker()
    await _done(session_maker, info)

    assert (await counts_of(session_maker, info)).sent == 4
    assert all(texts_to(standin, telegram_id) == ["Workshop on Friday"] for telegram_id in ids)
    assert len([c for c in standin.calls_of("sendMessage") if c.status >= 500]) == 4


async def test_server_errors_fail_the_row_after_the_last_attempt(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [601], cohort="SLV1")
    standin.fail_next("sendMessage", 500, "Internal Server Error", count=10)

    info = await committed_broadcast(session_maker)
    start_worker()
    await _done(session_maker, info)

    row = await delivery_of(session_maker, info, 601)
    assert row.status is DeliveryStatus.FAILED
    assert row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: Internal Server Error"
    assert len(standin.calls_of("sendMessage")) == 3


async def test_bad_request_fails_at_once_with_telegrams_reason(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [701], cohort="SLV1")
    del standin.users[701]  # Telegram no longer knows the chat

    info = await committed_broadcast(session_maker)
    start_worker()
    await _done(session_maker, info)

    row = await delivery_of(session_maker, info, 701)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert row.last_error == "Bad Request: chat not found"


async def test_a_reminder_that_timed_out_fails_as_ambiguous_and_is_not_resent(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    users = await add_learners(session_maker, standin, [801], cohort="SLV1")
    standin.delay_next("sendMessage", 3.0)

    info = await _for_learners(session_maker, BroadcastKind.REMINDER, users, {"en": "Time!"})
    start_worker(send_timeout=1)
    await _done(session_maker, info)

    row = await delivery_of(session_maker, info, 801)
    assert row.status is DeliveryStatus.FAILED
    assert row.last_error is not None and row.last_error.startswith("ambiguous: ")
    assert texts_to(standin, 801) == ["Time!"]
    assert len(standin.calls_of("sendMessage")) == 1


@pytest.mark.parametrize("fault", ["timeout", "dropped connection"])
async def test_a_broadcast_that_may_have_arrived_is_sent_again(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
    fault: str,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [802], cohort="SLV1")
    if fault == "timeout":
        standin.delay_next("sendMessage", 3.0)
    else:
        standin.drop_next("sendMessage")

    info = await committed_broadcast(session_maker)
    start_worker(send_timeout=1)
    await _done(session_maker, info)

    row = await delivery_of(session_maker, info, 802)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    # At least once: the first one did arrive, so the learner has it twice.
    assert texts_to(standin, 802) == ["Workshop on Friday"] * 2


async def test_quiet_hours_postpone_the_message_until_they_end(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    make_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    (learner,) = await add_learners(session_maker, standin, [901], cohort="SLV1")
    zone = ZoneInfo("Europe/Sofia")
    local = utcnow().astimezone(zone).replace(second=0, microsecond=0)
    start, end = local - timedelta(hours=1), local + timedelta(hours=1)
    async with session_maker() as session:
        user = await session.get(User, learner.id)
        assert user is not None
        await learners.set_reminders(
            session, learner=user, timezone="Europe/Sofia", quiet_hours=(start.time(), end.time())
        )
        await session.commit()

    info = await committed_broadcast(session_maker)
    await make_worker().run(until_idle=True)

    row = await delivery_of(session_maker, info, 901)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)
    assert row.next_attempt_at == end.astimezone(UTC)
    assert row.wait_reason is WaitReason.QUIET_HOURS
    assert standin.calls_of("sendMessage") == []

    later = end.astimezone(UTC) + timedelta(minutes=1)
    await make_worker(clock=lambda: later).run(until_idle=True)

    row = await delivery_of(session_maker, info, 901)
    assert (row.status, row.wait_reason) == (DeliveryStatus.SENT, None)
    assert texts_to(standin, 901) == ["Workshop on Friday"]


async def test_reminders_skip_learners_who_turned_them_off_but_broadcasts_do_not(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    quiet, keen = await add_learners(session_maker, standin, [1001, 1002], cohort="SLV1")
    async with session_maker() as session:
        user = await session.get(User, quiet.id)
        assert user is not None
        await learners.set_reminders(session, learner=user, enabled=False)
        await session.commit()

    reminder = await _for_learners(
        session_maker, BroadcastKind.REMINDER, [quiet, keen], {"en": "Time to learn"}
    )
    broadcast = await committed_broadcast(session_maker)
    assert (reminder.counts.total, broadcast.counts.total) == (1, 2)
    start_worker()
    await _done(session_maker, reminder)
    await _done(session_maker, broadcast)

    assert texts_to(standin, 1001) == ["Workshop on Friday"]
    assert sorted(texts_to(standin, 1002)) == ["Time to learn", "Workshop on Friday"]


async def test_learners_who_erase_or_turn_reminders_off_after_enqueueing_are_skipped(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    make_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    leaving, resting, staying = await add_learners(
        session_maker, standin, [1101, 1102, 1103], cohort="SLV1"
    )
    reminder = await _for_learners(
        session_maker, BroadcastKind.REMINDER, [leaving, resting, staying], {"en": "Learn!"}
    )
    async with session_maker() as session:
        for learner, change in ((leaving, "erase"), (resting, "off")):
            user = await session.get(User, learner.id)
            assert user is not None
            if change == "erase":
                await learners.erase(session, learner=user)
            else:
                await learners.set_reminders(session, learner=user, enabled=False)
        await session.commit()

    await make_worker().run(until_idle=True)

    counts = await counts_of(session_maker, reminder)
    assert (counts.total, counts.sent, counts.cancelled) == (3, 1, 2)
    assert texts_to(standin, 1101) == texts_to(standin, 1102) == []
    async with session_maker() as session:
        reasons = set(
            await session.scalars(
                select(Delivery.last_error).where(
                    Delivery.broadcast_id == reminder.id,
                    Delivery.status == DeliveryStatus.CANCELLED,
                )
            )
        )
    assert reasons == {"the learner erased their data", "the learner turned reminders off"}


async def test_personal_reminder_is_the_next_lessons_first_screen_and_is_recorded_as_activity(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path)
    await committed_cohort(session_maker)
    (learner,) = await add_learners(session_maker, standin, [1201], cohort="SLV1", locale="bg")

    reminder = await _for_learners(session_maker, BroadcastKind.REMINDER, [learner])
    start_worker()
    await _done(session_maker, reminder)

    (message,) = standin.users[1201].messages
    i18n = create_i18n()
    header = i18n.gettext("<b>{title}</b> · step {number} of {count}", locale="bg")
    text, entities = parse_html(
        header.format(title="Какво е сегрегация", number=1, count=2)
        + "\n\n<b>Сегрегацията</b> разделя децата."
    )
    assert (message["text"], message["entities"]) == (text, entities)
    start_label = i18n.gettext("Start ▶", locale="bg")
    assert start_label != "Start ▶"
    assert message["reply_markup"]["inline_keyboard"] == [
        [{"text": start_label, "callback_data": RESUME_CALLBACK}]
    ]
    async with session_maker() as session:
        # Reading the reminder starts nothing: the lesson starts when the button is pressed.
        assert await session.scalar(select(func.count()).select_from(LessonProgress)) == 0
    async with session_maker() as session:
        activity = await session.scalar(
            select(Activity).where(Activity.user_id == learner.id, Activity.verb == Verb.REMINDED)
        )
    assert activity is not None
    assert activity.data == {"broadcast_id": reminder.id}
    assert activity.cohort_id is not None and activity.locale == "bg"


async def test_nudge_carries_a_continue_button_and_is_recorded_as_activity(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path)
    await committed_cohort(session_maker)
    (learner,) = await add_learners(session_maker, standin, [1301], cohort="SLV1")

    nudge = await _for_learners(session_maker, BroadcastKind.NUDGE, [learner])
    start_worker()
    await _done(session_maker, nudge)

    (message,) = standin.users[1301].messages
    assert message["text"] == "Your next lesson: What segregation is"
    assert message["reply_markup"]["inline_keyboard"] == [
        [{"text": "Continue: What segregation is", "callback_data": RESUME_CALLBACK}]
    ]
    async with session_maker() as session:
        verbs = list(
            await session.scalars(select(Activity.verb).where(Activity.user_id == learner.id))
        )
    assert Verb.NUDGED in verbs


async def test_personal_reminder_with_nothing_left_to_learn_is_cancelled(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    make_worker: WorkerFactory,
) -> None:
    (learner,) = await add_learners(session_maker, standin, [1401])

    reminder = await _for_learners(session_maker, BroadcastKind.REMINDER, [learner])
    await make_worker().run(until_idle=True)

    row = await delivery_of(session_maker, reminder, 1401)
    assert row.status is DeliveryStatus.CANCELLED
    assert row.last_error is not None and "no lesson left" in row.last_error
    assert standin.calls_of("sendMessage") == []


async def test_paid_broadcast_mode_asks_telegram_for_paid_sending(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [1501], cohort="SLV1")

    info = await committed_broadcast(session_maker)
    start_worker(paid_broadcast=True, send_rate=1000)
    await _done(session_maker, info)

    (call,) = standin.calls_of("sendMessage")
    assert call.params["allow_paid_broadcast"] in (True, "true")


async def test_stopping_puts_unsent_rows_back_and_a_new_worker_finishes_without_duplicates(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    make_worker: WorkerFactory,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    ids = list(range(1601, 1611))
    await add_learners(session_maker, standin, ids, cohort="SLV1")
    info = await committed_broadcast(session_maker)

    first = make_worker(send_rate=5)
    running = asyncio.create_task(first.run())
    await standin.wait_for_call("sendMessage", timeout=WAIT)
    first.stop()
    await asyncio.wait_for(running, timeout=WAIT)

    counts = await counts_of(session_maker, info)
    assert 1 <= counts.sent < 10 and counts.sent + counts.pending == 10
    async with session_maker() as session:
        leased = await session.scalar(
            select(func.count()).where(
                Delivery.broadcast_id == info.id, Delivery.status == DeliveryStatus.SENDING
            )
        )
    assert leased == 0

    start_worker()
    await _done(session_maker, info)
    assert all(texts_to(standin, telegram_id) == ["Workshop on Friday"] for telegram_id in ids)


async def test_a_message_that_waited_past_its_lease_is_given_back_not_sent(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    make_worker: WorkerFactory,
) -> None:
    """A sender held up for its slot (a long 429) past what its lease covers would race the
    worker that claims the row next: it gives the row back untried instead."""
    await committed_cohort(session_maker, "SLV1")
    await add_learners(session_maker, standin, [151], cohort="SLV1")
    info = await committed_broadcast(session_maker, "Workshop on Friday")
    moment = [utcnow()]
    worker = make_worker(lease=timedelta(seconds=40), send_timeout=30, clock=lambda: moment[0])
    assert await worker._claim() == 1
    job = worker._queue.get_nowait()
    assert job is not None
    moment[0] += timedelta(seconds=11)  # the send would end after the lease: 40 − 30 < 11
    settled = await worker._deliver(job)
    assert (settled.status, settled.counts_as_attempt) == (DeliveryStatus.PENDING, False)
    assert standin.calls_of("sendMessage") == []
    assert info.counts.total == 1


def test_a_lease_that_does_not_outlast_a_send_is_refused(make_worker: WorkerFactory) -> None:
    with pytest.raises(ValueError, match="must outlast a send"):
        make_worker(lease=timedelta(seconds=30), send_timeout=30)


async def test_slow_answers_do_not_slow_the_pace(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    start_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    crowd = list(range(3001, 3101))
    await add_learners(session_maker, standin, crowd, cohort="SLV1")
    for _ in range(10):  # one answer in ten takes six seconds
        standin.delay_next("sendMessage", 6.0)
        standin.delay_next("sendMessage", 0.0, count=9)

    info = await committed_broadcast(session_maker)
    start_worker(batch_size=25)
    await _done(session_maker, info)

    sent = sorted(moment for chat in crowd for moment in standin.sent_times[chat])
    # 100 messages at 25 a second take 4 s; with every sender waiting on slow answers, over 10
    # (slow answers twice as slow as the 4 s, so a loaded machine's slower pace is not mistaken
    # for senders waiting).
    assert len(sent) == 100
    assert sent[-1] - sent[0] < 8.5
    assert standin.rate_limit_violations == 0


async def test_a_stop_waits_for_hanging_sends_only_its_grace_and_settles_them_by_kind(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    make_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await committed_cohort(session_maker, "OTHER")
    users = await add_learners(session_maker, standin, [4001], cohort="SLV1")
    await add_learners(session_maker, standin, [4002], cohort="OTHER")
    standin.delay_next("sendMessage", 30.0, count=2)
    reminder = await _for_learners(session_maker, BroadcastKind.REMINDER, users, {"en": "Hi"})
    broadcast = await committed_broadcast(session_maker, cohort="OTHER")
    worker = make_worker(send_timeout=40, lease=timedelta(seconds=60), stop_grace=1.0)
    running = asyncio.create_task(worker.run())
    await eventually(_calls(standin, 2), within=WAIT)

    stopped_at = asyncio.get_running_loop().time()
    worker.stop()
    await asyncio.wait_for(running, timeout=10)

    assert asyncio.get_running_loop().time() - stopped_at < 3
    unsure = await delivery_of(session_maker, reminder, 4001)
    assert unsure.status is DeliveryStatus.FAILED
    assert unsure.last_error is not None and unsure.last_error.startswith("ambiguous: the worker")
    again = await delivery_of(session_maker, broadcast, 4002)
    assert (again.status, again.attempts) == (DeliveryStatus.PENDING, 1)
    assert again.last_error is not None and again.last_error.endswith("sent again")


def _calls(standin: BotAPIStandIn, count: int) -> Callable[[], Awaitable[bool]]:
    async def made() -> bool:
        return len(standin.calls_of("sendMessage")) >= count

    return made


async def test_a_message_tried_again_later_says_so_in_the_status(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    make_worker: WorkerFactory,
) -> None:
    await committed_cohort(session_maker)
    await add_learners(session_maker, standin, [951, 952], cohort="SLV1")
    standin.fail_next("sendMessage", 500, "Internal Server Error", count=1)

    info = await committed_broadcast(session_maker)
    retry = RetryPolicy(base=timedelta(minutes=5))
    await make_worker(retry=retry, concurrency=1).run(until_idle=True)

    async with session_maker() as session:
        view = await broadcasts.broadcast_status(session, broadcast_id=info.id, actor=ADMIN)
    (waiting,) = view.waiting
    assert (waiting.reason, waiting.count) == (WaitReason.RETRY, 1)
    assert waiting.until > utcnow() + timedelta(minutes=4)
    retried = next(r for r in view.recipients if r.status is DeliveryStatus.PENDING)
    assert (retried.wait_reason, retried.last_error) == (WaitReason.RETRY, "Internal Server Error")
    assert view.cancellable


def test_a_row_put_back_for_a_pause_says_it_waits_for_the_pause(
    make_worker: WorkerFactory,
) -> None:
    until = utcnow() + timedelta(seconds=30)
    claimed = Claimed(
        id=1, broadcast_id=1, kind=BroadcastKind.BROADCAST, text={}, attempts=1, learner=recipient()
    )
    settled = make_worker()._put_back(claimed, until, error="Too Many Requests: retry after 30")
    assert (settled.wait_reason, settled.next_attempt_at) == (WaitReason.PAUSE, until)
