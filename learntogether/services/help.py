"""A human to ask: a learner's question goes to the mediators of their cohort, and a mediator's
answer comes back to them. The conversation is kept for the cohort's mediators (and admins), never
for viewers; it is part of the learner's /mydata and goes with /delete.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import (
    Cohort,
    HelpCopy,
    HelpMessage,
    Membership,
    User,
    UserStatus,
    cohort_mediators,
)
from learntogether.services.actors import Actor
from learntogether.services.cohorts import find_in_scope
from learntogether.services.errors import FieldProblem, InvalidInput, NotAllowed, NotFound

MAX_TEXT = 3000
"""Characters of one question or answer: room for the heading in one Telegram message."""
# A message that is only one of these words asks for help, in each of the bot's languages.
HELP_WORDS = frozenset(
    {
        "help",
        "ayuda",
        "помощ",
        "помогнете",
        "aide",
        "aidez-moi",
        "hulp",
        "help me",
        "ajutor",
        "ajutați-mă",
        "ažutipe",
        "azutipe",
        "pomoc",
        "socorro",
    }
)


class NoMediator(NotFound):
    """The learner is in no cohort with a mediator: there is nobody in the bot to ask."""


@dataclass(frozen=True)
class Mediator:
    user_id: int
    telegram_id: int
    locale: str | None
    reads_locale: str | None

    @property
    def id(self) -> int:
        return self.user_id


@dataclass(frozen=True)
class Question:
    """A question on its way: to whom, and how to name the learner and the cohort."""

    help_id: int
    learner_name: str
    cohort_name: str
    text: str
    mediators: list[Mediator]


@dataclass(frozen=True)
class Answer:
    """A mediator's answer on its way back to the learner."""

    learner_telegram_id: int | None
    """None when the learner blocked the bot: the answer is kept, and nothing is sent."""
    learner: User
    mediator_name: str
    text: str


@dataclass(frozen=True)
class ConversationEntry:
    at: datetime
    from_learner: bool
    author: str | None
    """The answering mediator's first name; None for the learner's own messages."""
    text: str


def is_help_word(text: str) -> bool:
    """Whether a message is just a call for help ("help", "ayuda", "помощ", …)."""
    word = unicodedata.normalize("NFC", text).strip().strip("!?.¡¿ ").casefold()
    return word in HELP_WORDS


def _clean(text: str | None) -> str:
    value = (text or "").strip()
    if not value:
        raise InvalidInput("The message is empty.", [FieldProblem("$.text", "must not be empty")])
    if len(value) > MAX_TEXT:
        problem = f"is {len(value)} characters long; at most {MAX_TEXT}"
        raise InvalidInput(f"The message {problem}.", [FieldProblem("$.text", problem)])
    return value


async def _cohort_with_mediators(session: AsyncSession, learner: User) -> Cohort | None:
    """The cohort the learner joined last among those with a mediator who can be reached."""
    found = await session.scalar(
        select(Cohort)
        .join(Membership, Membership.cohort_id == Cohort.id)
        .join(cohort_mediators, cohort_mediators.c.cohort_id == Cohort.id)
        .join(User, User.id == cohort_mediators.c.user_id)
        .where(
            Membership.user_id == learner.id,
            Cohort.archived_at.is_(None),
            User.telegram_id.is_not(None),
            User.status == UserStatus.ACTIVE,
            User.id != learner.id,
        )
        .order_by(Membership.joined_at.desc(), Membership.id.desc())
        .limit(1)
    )
    return found


async def has_mediator(session: AsyncSession, *, learner: User) -> bool:
    """Whether "Ask my mediator" can be offered to the learner."""
    return await _cohort_with_mediators(session, learner) is not None


async def ask_mediators(session: AsyncSession, *, learner: User, text: str | None) -> Question:
    """Keep the learner's question and say to whom the bot passes it: the mediators of the
    cohort they joined last (that has any). ``NoMediator`` when there is nobody to ask."""
    value = _clean(text)
    cohort = await _cohort_with_mediators(session, learner)
    if cohort is None:
        raise NoMediator("You are in no group with a mediator.")
    message = HelpMessage(cohort_id=cohort.id, learner_id=learner.id, text=value)
    session.add(message)
    await session.flush()
    mediators = await session.execute(
        select(User.id, User.telegram_id, User.locale, User.reads_locale)
        .join(cohort_mediators, cohort_mediators.c.user_id == User.id)
        .where(
            cohort_mediators.c.cohort_id == cohort.id,
            User.telegram_id.is_not(None),
            User.status == UserStatus.ACTIVE,
            User.id != learner.id,
        )
        .order_by(User.id)
    )
    return Question(
        help_id=message.id,
        learner_name=learner.first_name or "—",
        cohort_name=cohort.name,
        text=value,
        mediators=[
            Mediator(user_id, telegram_id, locale, reads)
            for user_id, telegram_id, locale, reads in mediators
            if telegram_id is not None
        ],
    )


async def record_copies(
    session: AsyncSession, *, help_id: int, copies: Sequence[tuple[int, int]]
) -> None:
    """The question as each mediator received it (chat id, message id), so a reply finds it."""
    session.add_all(
        HelpCopy(help_message_id=help_id, chat_id=chat_id, message_id=message_id)
        for chat_id, message_id in copies
    )
    await session.flush()


async def question_replied_to(
    session: AsyncSession, *, chat_id: int, message_id: int
) -> int | None:
    """The question a mediator's message replies to, if it replies to one the bot passed on."""
    return await session.scalar(
        select(HelpCopy.help_message_id).where(
            HelpCopy.chat_id == chat_id, HelpCopy.message_id == message_id
        )
    )


async def answer(
    session: AsyncSession, *, mediator: User, help_id: int, text: str | None
) -> Answer:
    """A mediator answers a learner's question: kept, and handed back for the bot to deliver.

    Only a mediator of the question's cohort may answer; a learner who erased their data cannot
    be answered, and the answer to one who blocked the bot is kept all the same.
    """
    value = _clean(text)
    question = await session.get(HelpMessage, help_id)
    if question is None:
        raise NotFound("This question is no longer kept (the learner may have erased their data).")
    mediates = await session.scalar(
        select(cohort_mediators.c.user_id).where(
            cohort_mediators.c.cohort_id == question.cohort_id,
            cohort_mediators.c.user_id == mediator.id,
        )
    )
    if mediates is None:
        raise NotAllowed("Only a mediator of the learner's group can answer.")
    learner = await session.get(User, question.learner_id)
    if learner is None or learner.telegram_id is None or learner.status is UserStatus.ERASED:
        raise NotFound("This learner can no longer be reached.")
    session.add(
        HelpMessage(
            cohort_id=question.cohort_id,
            learner_id=learner.id,
            author_id=mediator.id,
            text=value,
        )
    )
    await session.flush()
    return Answer(
        learner_telegram_id=learner.telegram_id if learner.status is UserStatus.ACTIVE else None,
        learner=learner,
        mediator_name=mediator.first_name or "—",
        text=value,
    )


async def conversation(
    session: AsyncSession, *, actor: Actor, cohort_code: str, learner_id: int
) -> list[ConversationEntry]:
    """A learner's conversation with a cohort's mediators, oldest first: for the cohort's
    mediators and admins; viewers read reports only."""
    actor.check_manages()
    cohort = await find_in_scope(session, cohort_code, actor)
    rows = await session.execute(
        select(HelpMessage, User.first_name)
        .outerjoin(User, User.id == HelpMessage.author_id)
        .where(HelpMessage.cohort_id == cohort.id, HelpMessage.learner_id == learner_id)
        .order_by(HelpMessage.created_at, HelpMessage.id)
    )
    return [
        ConversationEntry(
            at=message.created_at,
            from_learner=message.author_id is None,
            author=name if message.author_id is not None else None,
            text=message.text,
        )
        for message, name in rows
    ]


async def export_of(session: AsyncSession, *, learner: User) -> list[dict[str, object]]:
    """The learner's conversations with mediators, for /mydata."""
    rows = await session.execute(
        select(HelpMessage, Cohort.code)
        .join(Cohort, Cohort.id == HelpMessage.cohort_id)
        .where(HelpMessage.learner_id == learner.id)
        .order_by(HelpMessage.created_at, HelpMessage.id)
    )
    return [
        {
            "cohort": code,
            "from": "you" if message.author_id is None else "mediator",
            "text": message.text,
            "at": message.created_at.isoformat(),
        }
        for message, code in rows
    ]


async def erase_of(session: AsyncSession, *, learner: User) -> None:
    """/delete: the learner's conversations go, with the copies mediators could reply to."""
    mine = select(HelpMessage.id).where(HelpMessage.learner_id == learner.id).scalar_subquery()
    await session.execute(delete(HelpCopy).where(HelpCopy.help_message_id.in_(mine)))
    await session.execute(delete(HelpMessage).where(HelpMessage.learner_id == learner.id))
