"""Broadcasts: messages to cohorts or to everyone, now or later, and reminders and nudges.

Creating one writes the outbox rows for its recipients at once (``services.outbox``), so its
counts are known from the start; the delivery worker sends them from ``send_at`` on. A mediator
reaches only its own cohorts. Counts are computed live from the delivery rows:

* ``pending`` includes rows being sent right now (``sending``): not yet known to have arrived;
* ``cancelled`` (rows of a cancelled broadcast, learners who erased their data or turned
  reminders off since) is counted apart, so ``total`` is the sum of all five.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_locale
from learntogether.content.validate import MESSAGE_LIMIT, json_path
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    Cohort,
    Delivery,
    DeliveryStatus,
    Membership,
    User,
    WaitReason,
    broadcast_cohorts,
)
from learntogether.i18n import (
    SOURCE_LOCALE,
    SUPPORTED_LOCALES,
    learner_locales,
    negotiate_locale,
)
from learntogether.services import outbox
from learntogether.services.actors import Actor
from learntogether.services.audit import record_change
from learntogether.services.errors import N_, Conflict, FieldProblem, InvalidInput, NotAllowed
from learntogether.telegram_html import text_problems

PERSONAL_KINDS = (BroadcastKind.REMINDER, BroadcastKind.NUDGE, BroadcastKind.REVIEW)
# Sent to a list of learners: their reminders, nudges and reviews, and notices about themselves.
LEARNER_KINDS = (*PERSONAL_KINDS, BroadcastKind.MEDIATOR_ROLE, BroadcastKind.RECORDING_REVIEW)


@dataclass(frozen=True)
class DeliveryCounts:
    total: int = 0
    pending: int = 0
    """Not yet sent, including those being sent at this moment."""
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    cancelled: int = 0


@dataclass(frozen=True)
class BroadcastInfo:
    id: int
    kind: BroadcastKind
    status: BroadcastStatus
    cohorts: list[str]
    all: bool
    send_at: datetime
    created_at: datetime
    created_by: str | None
    finished_at: datetime | None
    cancelled_at: datetime | None
    counts: DeliveryCounts


# Reading -----------------------------------------------------------------------------------


async def delivery_counts(
    session: AsyncSession, broadcast_ids: Collection[int]
) -> dict[int, DeliveryCounts]:
    """Live counts of each broadcast's rows, from one GROUP BY."""
    tallies: dict[int, dict[str, int]] = {broadcast_id: {} for broadcast_id in broadcast_ids}
    rows = await session.execute(
        select(Delivery.broadcast_id, Delivery.status, func.count())
        .where(Delivery.broadcast_id.in_(broadcast_ids))
        .group_by(Delivery.broadcast_id, Delivery.status)
    )
    for broadcast_id, status, count in rows:
        key = DeliveryStatus.PENDING.value if status is DeliveryStatus.SENDING else status.value
        tally = tallies[broadcast_id]
        tally[key] = tally.get(key, 0) + count
    return {
        broadcast_id: DeliveryCounts(total=sum(tally.values()), **tally)
        for broadcast_id, tally in tallies.items()
    }


async def _infos(session: AsyncSession, broadcasts: Sequence[Broadcast]) -> list[BroadcastInfo]:
    ids = [broadcast.id for broadcast in broadcasts]
    counts = await delivery_counts(session, ids)
    codes: dict[int, list[str]] = {broadcast_id: [] for broadcast_id in ids}
    rows = await session.execute(
        select(broadcast_cohorts.c.broadcast_id, Cohort.code)
        .join(Cohort, Cohort.id == broadcast_cohorts.c.cohort_id)
        .where(broadcast_cohorts.c.broadcast_id.in_(ids))
        .order_by(Cohort.code)
    )
    for broadcast_id, code in rows:
        codes[broadcast_id].append(code)
    return [
        BroadcastInfo(
            id=broadcast.id,
            kind=broadcast.kind,
            status=broadcast.status,
            cohorts=codes[broadcast.id],
            all=broadcast.all_learners,
            send_at=broadcast.send_at,
            created_at=broadcast.created_at,
            created_by=broadcast.created_by,
            finished_at=broadcast.finished_at,
            cancelled_at=broadcast.cancelled_at,
            counts=counts[broadcast.id],
        )
        for broadcast in broadcasts
    ]


def _visible_to(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions for broadcasts a scoped actor may see: only to their cohorts, or their own."""
    scope = actor.cohort_ids
    if scope is None:
        return []
    within = (
        Broadcast.all_learners.is_(False)
        & Broadcast.cohorts.any()
        & ~Broadcast.cohorts.any(Cohort.id.not_in(scope))
    )
    if actor.user_id is not None:
        within = within | (Broadcast.created_by_user_id == actor.user_id)
    return [within]


async def _find(session: AsyncSession, broadcast_id: int, actor: Actor) -> Broadcast:
    broadcast = await session.scalar(
        select(Broadcast).where(Broadcast.id == broadcast_id, *_visible_to(actor))
    )
    if broadcast is None:
        raise actor.out_of_reach(
            missing=f"No broadcast {broadcast_id}.",
            not_yours=f"Broadcast {broadcast_id} goes beyond the cohorts you work with.",
        )
    return broadcast


async def get_broadcast(session: AsyncSession, *, broadcast_id: int, actor: Actor) -> BroadcastInfo:
    """One broadcast with its live counts."""
    broadcast = await _find(session, broadcast_id, actor)
    return (await _infos(session, [broadcast]))[0]


async def list_broadcasts(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int,
    offset: int,
    kind: BroadcastKind | None = None,
) -> tuple[list[BroadcastInfo], int]:
    """Broadcasts the actor may see, newest first, with live counts and the total."""
    query = select(Broadcast).where(*_visible_to(actor))
    if kind is not None:
        query = query.where(Broadcast.kind == kind)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    broadcasts = list(
        await session.scalars(
            query.order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return await _infos(session, broadcasts), total


@dataclass(frozen=True)
class RecipientStatus:
    """Where one recipient's message is: sent, waiting and until when, failed and why."""

    user_id: int
    name: str | None
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    """Telegram's reason for a failure, or what the last try met."""
    waiting_until: datetime | None
    """A waiting message's next try: after the learner's quiet hours, a pause or a retry."""
    sent_at: datetime | None
    wait_reason: WaitReason | None = None
    """Why it waits until ``waiting_until`` (None while it does not)."""


def _named_for(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions for the recipients a scoped actor may see by name: members of their cohorts.

    A mediator's own nudge or a broadcast to a cohort they no longer keep names nobody else.
    """
    if actor.cohort_ids is None:
        return []
    return [
        exists().where(
            Membership.user_id == Delivery.user_id, Membership.cohort_id.in_(actor.cohort_ids)
        )
    ]


async def recipient_statuses(
    session: AsyncSession, *, broadcast_id: int, actor: Actor, limit: int, offset: int = 0
) -> tuple[list[RecipientStatus], int]:
    """A page of a broadcast's recipients in the order they were queued, with how many there are.

    A mediator sees only the recipients who are members of the cohorts they keep.
    """
    broadcast = await _find(session, broadcast_id, actor)
    return await _recipients(session, broadcast, actor, limit=limit, offset=offset)


async def _recipients(
    session: AsyncSession, broadcast: Broadcast, actor: Actor, *, limit: int, offset: int = 0
) -> tuple[list[RecipientStatus], int]:
    conditions = [Delivery.broadcast_id == broadcast.id, *_named_for(actor)]
    query = select(Delivery, User.first_name).join(User, User.id == Delivery.user_id)
    query = query.where(*conditions)
    total = await session.scalar(select(func.count()).select_from(Delivery).where(*conditions))
    now = utcnow()
    rows = await session.execute(query.order_by(Delivery.id).limit(limit).offset(offset))
    statuses = []
    for delivery, name in rows:
        waits = (
            delivery.status is DeliveryStatus.PENDING
            and delivery.next_attempt_at is not None
            and delivery.next_attempt_at > now
        )
        statuses.append(
            RecipientStatus(
                user_id=delivery.user_id,
                name=name,
                status=delivery.status,
                attempts=delivery.attempts,
                last_error=delivery.last_error,
                waiting_until=delivery.next_attempt_at if waits else None,
                sent_at=delivery.sent_at,
                wait_reason=delivery.wait_reason if waits else None,
            )
        )
    return statuses, total or 0


@dataclass(frozen=True)
class Waiting:
    """Messages that wait for one reason, and until when the last of them waits."""

    reason: WaitReason
    count: int
    until: datetime


@dataclass(frozen=True)
class BroadcastStatusView:
    """A broadcast as its author follows it: counts, why messages wait, who got it."""

    info: BroadcastInfo
    cohort_names: list[str]
    waiting: list[Waiting]
    """Waiting messages by reason (quiet hours, a pause, a retry), in that order."""
    recipients: list[RecipientStatus]
    """The first recipients the actor may see by name, in the order they were queued."""
    unlisted: int
    """Recipients the actor may see that are not in ``recipients`` (past the limit)."""

    @property
    def cancellable(self) -> bool:
        """Whether some of it has not gone yet (and it is not cancelled)."""
        return self.info.status in (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)


async def broadcast_status(
    session: AsyncSession, *, broadcast_id: int, actor: Actor, listed: int = 30
) -> BroadcastStatusView:
    """A broadcast's status as it is in the database now, from any process: its live counts,
    the reasons messages wait (and until when), and the first ``listed`` recipients by name."""
    broadcast = await _find(session, broadcast_id, actor)
    info = (await _infos(session, [broadcast]))[0]
    names = list(
        await session.scalars(
            select(Cohort.name)
            .join(broadcast_cohorts, broadcast_cohorts.c.cohort_id == Cohort.id)
            .where(broadcast_cohorts.c.broadcast_id == broadcast.id)
            .order_by(Cohort.name)
        )
    )
    rows = await session.execute(
        select(Delivery.wait_reason, func.count(), func.max(Delivery.next_attempt_at))
        .where(
            Delivery.broadcast_id == broadcast.id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.wait_reason.is_not(None),
            Delivery.next_attempt_at > utcnow(),
        )
        .group_by(Delivery.wait_reason)
    )
    order = list(WaitReason)
    waiting = sorted(
        (
            Waiting(reason, count, until)
            for reason, count, until in rows
            if reason is not None and until is not None
        ),
        key=lambda group: order.index(group.reason),
    )
    recipients, total = await _recipients(session, broadcast, actor, limit=listed)
    return BroadcastStatusView(
        info=info,
        cohort_names=names,
        waiting=waiting,
        recipients=recipients,
        unlisted=total - len(recipients),
    )


@dataclass(frozen=True)
class FollowedStatus:
    """A status message an author follows in the bot (see ``follow_status``)."""

    broadcast_id: int
    author_id: int
    chat_id: int
    message_id: int
    digest: str | None
    """What it shows, as ``status_shown`` was last told."""


async def follow_status(
    session: AsyncSession,
    *,
    broadcast_id: int,
    actor: Actor,
    chat_id: int,
    message_id: int,
    digest: str,
) -> None:
    """The actor's status message of their broadcast, showing ``digest``: the delivery worker keeps
    it up to date as its messages go out (one message a broadcast; a newer one takes over)."""
    broadcast = await _find(session, broadcast_id, actor)
    if broadcast.created_by_user_id is None or broadcast.created_by_user_id != actor.user_id:
        raise NotAllowed("Only its author follows a broadcast's status in the bot.")
    broadcast.status_chat_id = chat_id
    broadcast.status_message_id = message_id
    broadcast.status_digest = digest
    await session.flush()


async def followed_statuses(
    session: AsyncSession, *, broadcast_ids: Collection[int]
) -> list[FollowedStatus]:
    """The status messages followed of these broadcasts (for the delivery worker)."""
    rows = await session.execute(
        select(
            Broadcast.id,
            Broadcast.created_by_user_id,
            Broadcast.status_chat_id,
            Broadcast.status_message_id,
            Broadcast.status_digest,
        )
        .where(
            Broadcast.id.in_(broadcast_ids),
            Broadcast.status_message_id.is_not(None),
            Broadcast.created_by_user_id.is_not(None),
        )
        .order_by(Broadcast.id)
    )
    return [
        FollowedStatus(broadcast_id, author_id, chat_id, message_id, digest)
        for broadcast_id, author_id, chat_id, message_id, digest in rows
        if author_id is not None and chat_id is not None and message_id is not None
    ]


async def status_shown(
    session: AsyncSession, *, broadcast_id: int, digest: str | None, message_id: int
) -> None:
    """The followed status message ``message_id`` now shows ``digest``; None stops following it
    (the message is gone, or its author may no longer see the broadcast).

    A message no longer followed (a newer one took over) is left alone."""
    values: dict[str, Any] = {"status_digest": digest}
    if digest is None:
        values.update(status_chat_id=None, status_message_id=None)
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status_message_id == message_id)
        .values(**values),
        execution_options={"synchronize_session": False},
    )


# Writing -----------------------------------------------------------------------------------


def clean_text(text: str | Mapping[str, str], *, default_locale: str) -> dict[str, str]:
    """The text as locale → Telegram HTML, checked as lesson text is: markup and 4096 characters.

    One string is the text for everyone (stored under ``default_locale``). Every problem is
    reported, each at its JSON path (``$.text.bg``).
    """
    if isinstance(text, str):
        texts, nested = {default_locale: text}, False
    else:
        texts, nested = dict(text), True
    problems: list[FieldProblem] = []
    if not texts:
        problems.append(FieldProblem("$.text", N_("give the text, as one string or per language")))
    for code, value in texts.items():
        path = json_path(("text", code) if nested else ("text",))
        if nested and code not in SUPPORTED_LOCALES:
            known = ", ".join(SUPPORTED_LOCALES)
            problems.append(
                FieldProblem(
                    path, N_("unknown locale '{code}' (known: {known})", code=code, known=known)
                )
            )
            continue
        problems += [
            FieldProblem(path, message)
            for message in text_problems(
                value, limit=MESSAGE_LIMIT, what=N_("text"), allow_empty=False, N_=N_
            )
        ]
    if problems:
        raise InvalidInput(N_("The message text cannot be sent."), problems)
    return texts


def _send_time(send_at: datetime | None, now: datetime) -> datetime:
    if send_at is None:
        return now
    if send_at.tzinfo is None or send_at.utcoffset() is None:
        raise InvalidInput(
            N_("The send time needs a time zone."),
            [FieldProblem("$.send_at", N_("give a time zone, e.g. 2026-12-01T09:00:00+02:00"))],
        )
    # A time already past means now.
    return max(send_at, now)


async def _audience(
    session: AsyncSession,
    actor: Actor,
    *,
    cohort: str | None,
    cohorts: Sequence[str] | None,
    all_learners: bool,
) -> list[Cohort]:
    """The cohorts named (none for everyone), after checking they exist and the actor's reach."""
    given = [
        name
        for name, value in (("cohort", cohort), ("cohorts", cohorts), ("all", all_learners or None))
        if value is not None
    ]
    if not given:
        raise InvalidInput(
            N_("Say who gets the broadcast."),
            [FieldProblem("$.cohort", N_("give a cohort code, a list of cohorts, or all: true"))],
        )
    if len(given) > 1:
        raise InvalidInput(
            N_("Give only one of cohort, cohorts and all."),
            [
                FieldProblem(f"$.{name}", N_("give only one of cohort, cohorts and all"))
                for name in given
            ],
        )
    if all_learners:
        if actor.cohort_ids is not None:
            raise NotAllowed(N_("You can broadcast to your own cohorts only, not to everyone."))
        return []
    named: list[tuple[tuple[str | int, ...], str]] = []
    if cohort is not None:
        named.append((("cohort",), cohort))
    named += [(("cohorts", index), code) for index, code in enumerate(cohorts or [])]
    if not named:
        raise InvalidInput(
            N_("Name at least one cohort."),
            [FieldProblem("$.cohorts", N_("name at least one cohort"))],
        )
    codes = {code for _, code in named}
    found = {
        row.code: row for row in await session.scalars(select(Cohort).where(Cohort.code.in_(codes)))
    }
    problems = []
    for path, code in named:
        row = found.get(code)
        if row is None:
            problems.append(
                FieldProblem(json_path(path), N_("no cohort with code '{code}'", code=code))
            )
        elif row.archived_at is not None:
            problems.append(
                FieldProblem(json_path(path), N_("cohort '{code}' is archived", code=code))
            )
    if problems:
        raise InvalidInput(N_("The broadcast names cohorts that cannot get it."), problems)
    if actor.cohort_ids is not None:
        outside = sorted(code for code, row in found.items() if row.id not in actor.cohort_ids)
        if outside:
            raise NotAllowed(N_("You do not work with cohort {codes}.", codes=", ".join(outside)))
    return sorted(found.values(), key=lambda row: row.code)


async def _checked(
    session: AsyncSession,
    actor: Actor,
    *,
    text: str | Mapping[str, str],
    cohort: str | None,
    cohorts: Sequence[str] | None,
    all_learners: bool,
    send_at: datetime | None,
    now: datetime,
    default_locale: str,
) -> tuple[dict[str, str], datetime, list[Cohort]]:
    """A broadcast's text, send time and cohorts, checked: what sending and its preview refuse
    alike."""
    texts = clean_text(text, default_locale=default_locale)
    when = _send_time(send_at, now)
    targets = await _audience(
        session, actor, cohort=cohort, cohorts=cohorts, all_learners=all_learners
    )
    return texts, when, targets


@dataclass(frozen=True)
class OtherLanguage:
    """Recipients who would read a broadcast in a language they did not choose."""

    reads: str
    """Their own language."""
    given: str
    """The language of the text they would be given."""
    count: int


@dataclass(frozen=True)
class BroadcastPreview:
    texts: dict[str, str]
    """The text as it would be stored: locale → Telegram HTML."""
    other_languages: list[OtherLanguage]
    """Who would read it in a language that is neither theirs nor the one they read best, most
    first: told before sending, so that the writer can add their language."""


async def preview_broadcast(
    session: AsyncSession,
    *,
    actor: Actor,
    text: str | Mapping[str, str],
    cohort: str | None = None,
    cohorts: Sequence[str] | None = None,
    all_learners: bool = False,
    send_at: datetime | None = None,
    default_locale: str = SOURCE_LOCALE,
    programme_locale: str = SOURCE_LOCALE,
) -> BroadcastPreview:
    """What ``create_broadcast`` with the same arguments would send, checked as it checks them,
    and which of its recipients would read it in another language than theirs.

    A recipient is given the first written text along their languages (the locale policy's
    chain, as the delivery worker picks it), which may end in their group's language, the
    programme's (``programme_locale``, ``LT_DEFAULT_LOCALE``) or English.
    """
    texts, _when, targets = await _checked(
        session,
        actor,
        text=text,
        cohort=cohort,
        cohorts=cohorts,
        all_learners=all_learners,
        send_at=send_at,
        now=utcnow(),
        default_locale=default_locale,
    )
    newest_cohort_locale = (
        select(Cohort.locale)
        .join(Membership, Membership.cohort_id == Cohort.id)
        .where(Membership.user_id == User.id)
        .order_by(Membership.joined_at.desc(), Membership.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    recipients = (
        select(
            User.locale.label("own"),
            User.reads_locale.label("reads"),
            newest_cohort_locale.label("cohort"),
        )
        .where(
            outbox.recipients(
                BroadcastKind.BROADCAST,
                all_learners=all_learners,
                cohort_ids=[row.id for row in targets],
            )
        )
        .subquery()
    )
    kinds = await session.execute(
        select(recipients.c.own, recipients.c.reads, recipients.c.cohort, func.count()).group_by(
            recipients.c.own, recipients.c.reads, recipients.c.cohort
        )
    )
    counts: dict[tuple[str, str], int] = {}
    for own_saved, reads_saved, cohort_locale, count in kinds:
        own, reads = negotiate_locale(own_saved), negotiate_locale(reads_saved)
        chain = learner_locales(own, cohort_locale, default=programme_locale, reads=reads).content
        given = pick_locale(texts, chain)
        if given is None or given in (own, reads):
            continue
        key = (own or chain[0], given)
        counts[key] = counts.get(key, 0) + count
    others = [OtherLanguage(reads, given, count) for (reads, given), count in counts.items()]
    others.sort(key=lambda other: (-other.count, other.reads, other.given))
    return BroadcastPreview(texts=texts, other_languages=others)


async def create_broadcast(
    session: AsyncSession,
    *,
    actor: Actor,
    text: str | Mapping[str, str],
    cohort: str | None = None,
    cohorts: Sequence[str] | None = None,
    all_learners: bool = False,
    send_at: datetime | None = None,
    default_locale: str = SOURCE_LOCALE,
) -> BroadcastInfo:
    """A broadcast to one cohort, several, or everyone (exactly one of the three), now or at
    ``send_at`` (timezone-aware; a past time means now).

    Recipients are the cohorts' learners who agreed to the notice and have not blocked the bot or
    erased their data; their rows are written at once. The caller commits.
    """
    now = utcnow()
    texts, when, targets = await _checked(
        session,
        actor,
        text=text,
        cohort=cohort,
        cohorts=cohorts,
        all_learners=all_learners,
        send_at=send_at,
        now=now,
        default_locale=default_locale,
    )
    broadcast = await _store(
        session,
        actor,
        kind=BroadcastKind.BROADCAST,
        texts=texts,
        send_at=when,
        now=now,
        all_learners=all_learners,
        cohorts=targets,
    )
    await outbox.enqueue(session, broadcast, now=now, cohort_ids=[row.id for row in targets])
    return await _created(session, broadcast, actor, now=now)


async def create_for_learners(
    session: AsyncSession,
    *,
    kind: BroadcastKind,
    user_ids: Collection[int],
    text: Mapping[str, str] | None = None,
    send_at: datetime | None = None,
    actor: Actor,
) -> BroadcastInfo:
    """A reminder, nudge or notice for the learners ``user_ids`` (the scheduler's, ``/nudge``'s
    and a mediator role's way in).

    With no ``text``, each learner gets their personal reminder ("Your next lesson: …") in their
    language, with a ``Continue: <title>`` button to their next lesson (a nudge gets the button
    with a text of its own too). Learners who turned reminders off, blocked
    the bot, erased their data or never agreed to the notice are left out. The caller commits.
    """
    if kind not in LEARNER_KINDS:
        raise InvalidInput(f"A {kind.value} cannot be sent to a list of learners.")
    now = utcnow()
    texts = clean_text(text, default_locale=SOURCE_LOCALE) if text else {}
    broadcast = await _store(
        session,
        actor,
        kind=kind,
        texts=texts,
        send_at=_send_time(send_at, now),
        now=now,
        all_learners=False,
        cohorts=[],
    )
    await outbox.enqueue(session, broadcast, now=now, user_ids=set(user_ids))
    return await _created(session, broadcast, actor, now=now)


async def _store(
    session: AsyncSession,
    actor: Actor,
    *,
    kind: BroadcastKind,
    texts: dict[str, str],
    send_at: datetime,
    now: datetime,
    all_learners: bool,
    cohorts: list[Cohort],
) -> Broadcast:
    broadcast = Broadcast(
        kind=kind,
        text=texts,
        all_learners=all_learners,
        status=BroadcastStatus.SCHEDULED,
        send_at=send_at,
        created_at=now,
        created_by=actor.name,
        created_by_token_id=actor.token_id,
        created_by_user_id=actor.user_id,
        cohorts=cohorts,
    )
    session.add(broadcast)
    await session.flush()
    return broadcast


async def _created(
    session: AsyncSession, broadcast: Broadcast, actor: Actor, *, now: datetime
) -> BroadcastInfo:
    # Nobody to send to: done at once rather than at the worker's next sweep.
    await outbox.finish_broadcasts(session, now=now, ids=[broadcast.id])
    await session.refresh(broadcast, ["status", "finished_at"])
    info = (await _infos(session, [broadcast]))[0]
    await record_change(
        session,
        actor=actor,
        action="create",
        entity="broadcast",
        entity_id=str(broadcast.id),
        after={
            "kind": broadcast.kind.value,
            "cohorts": info.cohorts,
            "all": broadcast.all_learners,
            "send_at": broadcast.send_at.isoformat(),
            "text": broadcast.text,
            "recipients": info.counts.total,
        },
    )
    return info


async def cancel_broadcast(
    session: AsyncSession, *, broadcast_id: int, actor: Actor
) -> BroadcastInfo:
    """Cancel what has not been sent yet; messages under way still arrive.

    A finished broadcast cannot be cancelled (Conflict); cancelling twice is harmless.
    """
    broadcast = await _find(session, broadcast_id, actor)
    if broadcast.status is BroadcastStatus.DONE:
        raise Conflict(
            N_("Broadcast {id} has been sent to everyone; nothing to cancel.", id=broadcast_id)
        )
    if broadcast.status is not BroadcastStatus.CANCELLED:
        now = utcnow()
        before = broadcast.status
        result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
            update(Delivery)
            .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.CANCELLED, last_error="cancelled", updated_at=now),
            execution_options={"synchronize_session": False},
        )
        broadcast.status = BroadcastStatus.CANCELLED
        broadcast.cancelled_at = now
        await session.flush()
        await record_change(
            session,
            actor=actor,
            action="cancel",
            entity="broadcast",
            entity_id=str(broadcast_id),
            before={"status": before.value},
            after={"status": broadcast.status.value, "cancelled": result.rowcount},
        )
    return (await _infos(session, [broadcast]))[0]
