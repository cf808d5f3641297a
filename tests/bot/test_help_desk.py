"""A human to ask, end to end: a learner's question reaches their mediators in the bot, and a
mediator's answer (a reply to the question, or its Reply button) comes back to the learner."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.models import HelpCopy, HelpMessage, TokenRole, User, UserStatus
from learntogether.runtime import BotParts, build_bot_parts, run_polling
from learntogether.services import cohorts
from learntogether.services import help as help_desk
from learntogether.services.actors import Actor
from learntogether.services.errors import NotAllowed
from tests.factories import create_cohort, create_learner, eventually
from tests.standin import BotAPIStandIn, button_texts


@pytest.fixture
async def cohort_with_mediator(session_maker: async_sessionmaker[AsyncSession]) -> User:
    """SLV1 with Rosa (7801) as its mediator and Ana (7802) as a member; returns Ana."""
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    rosa = await create_learner(session_maker, 7801, first_name="Rosa")
    ana = await create_learner(session_maker, 7802, cohort="SLV1", first_name="Ana")
    async with session_maker() as session:
        await cohorts.add_mediator(session, code="SLV1", user_id=rosa.id, actor=Actor.system("t"))
        await session.commit()
    return ana


async def _kept(session_maker: async_sessionmaker[AsyncSession], learner: User) -> list[str]:
    async with session_maker() as session:
        return list(
            await session.scalars(
                select(HelpMessage.text)
                .where(HelpMessage.learner_id == learner.id)
                .order_by(HelpMessage.id)
            )
        )


async def test_a_question_goes_to_the_mediator_and_the_answer_comes_back(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    cohort_with_mediator: User,
) -> None:
    rosa = standin.add_user(7801, first_name="Rosa", language_code="en")
    ana = standin.add_user(7802, first_name="Ana", language_code="en")

    # Free text the bot does not understand: the way to a human.
    await ana.send("When is the next <workshop>?")
    offer = await ana.next_message()
    assert offer["text"].startswith("I did not understand that.")
    assert button_texts(offer) == ["Ask my mediator"]
    await ana.press("Ask my mediator")
    await ana.wait_for(lambda m: m.get("text", "").startswith("I passed your message on"))
    question = await rosa.wait_for(lambda m: m.get("text", "").startswith("Ana asks"))
    assert question["text"] == (
        "Ana asks (group Sliven teachers):\n\nWhen is the next <workshop>?\n\n"
        "Reply to this message, or press Reply, and I will pass your answer on."
    )
    assert button_texts(question) == ["Reply"]

    # A reply to the question, as Telegram sends it, answers the learner.
    await rosa.send("On Friday at 17:00, in the school.", reply_to=question)
    answer = await ana.wait_for(
        lambda m: m.get("text", "").startswith("Your mediator Rosa answers")
    )
    assert answer["text"] == "Your mediator Rosa answers:\n\nOn Friday at 17:00, in the school."
    await rosa.wait_for(lambda m: m.get("text", "") == "Sent to Ana.")

    # So does the Reply button, then a message.
    await rosa.press("Reply", message=question)
    await rosa.wait_for(lambda m: m.get("text", "").startswith("Write your answer"))
    await rosa.send("Bring your child's notebook.")
    await ana.wait_for(lambda m: "Bring your child's notebook." in m.get("text", ""))

    async def three_kept() -> list[str] | None:
        kept = await _kept(session_maker, cohort_with_mediator)
        return kept if len(kept) == 3 else None

    assert await eventually(three_kept) == [
        "When is the next <workshop>?",
        "On Friday at 17:00, in the school.",
        "Bring your child's notebook.",
    ]
    assert standin.unanswered_callback_queries() == []

    # /mydata holds the conversation; /delete erases it, with the copies a reply could find.
    await ana.send("/mydata")
    await ana.wait_for(lambda m: "document" in m)
    exported = json.loads(standin.documents[-1].content)["questions_to_mediators"]
    assert [(row["from"], row["text"]) for row in exported] == [
        ("you", "When is the next <workshop>?"),
        ("mediator", "On Friday at 17:00, in the school."),
        ("mediator", "Bring your child's notebook."),
    ]
    await ana.send("/delete")
    await ana.wait_for(lambda m: "Yes, erase my data" in button_texts(m))
    await ana.press("Yes, erase my data")
    await ana.wait_for(lambda m: m.get("text", "").startswith("Your data has been erased."))

    async def none_kept() -> bool:
        return await _kept(session_maker, cohort_with_mediator) == []

    assert await eventually(none_kept)
    async with session_maker() as session:
        assert await session.scalar(select(func.count()).select_from(HelpCopy)) == 0
    # A reply to the erased learner's question is answered politely, and reaches nobody.
    await rosa.send("Are you there?", reply_to=question)
    await rosa.wait_for(lambda m: m.get("text", "").startswith("I did not understand that."))


async def test_a_help_word_asks_what_to_pass_on(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    cohort_with_mediator: User,
) -> None:
    rosa = standin.add_user(7801, first_name="Rosa", language_code="en")
    ana = standin.add_user(7802, first_name="Ana", language_code="en")
    await ana.send("¡Ayuda!")
    asked = await ana.next_message()
    assert asked["text"].startswith("What would you like to ask your mediator?")
    await ana.send("My son is not allowed in the class")
    await rosa.wait_for(lambda m: "My son is not allowed in the class" in m.get("text", ""))
    await ana.wait_for(lambda m: m.get("text", "").startswith("I passed your message on"))


async def test_a_mediator_who_blocked_the_bot_unseen_costs_the_learner_nothing(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    cohort_with_mediator: User,
) -> None:
    rosa = standin.add_user(7801, first_name="Rosa", language_code="en")
    ana = standin.add_user(7802, first_name="Ana", language_code="en")
    rosa.blocked = True  # blocked long ago: the bot never saw the my_chat_member update
    await ana.send("help")
    await ana.wait_for(lambda m: m.get("text", "").startswith("What would you like to ask"))
    await ana.send("Is there a workshop on Friday?")
    told = await ana.wait_for(lambda m: m.get("text", "").startswith("I could not reach"))
    assert told["text"] == (
        "I could not reach your mediator in the bot just now. Your message is kept; please ask "
        "again later."
    )
    assert await _kept(session_maker, cohort_with_mediator) == ["Is there a workshop on Friday?"]

    async def rosa_blocked() -> bool:
        async with session_maker() as session:
            status = await session.scalar(select(User.status).where(User.telegram_id == 7801))
        return status is UserStatus.BLOCKED

    assert await eventually(rosa_blocked)
    # Nobody left to ask in the bot: no "Ask my mediator" offered for nothing.
    await ana.send("help")
    told = await ana.wait_for(lambda m: m.get("text", "").startswith("There is no mediator"))
    assert not button_texts(told)


async def test_an_answer_to_a_learner_who_blocked_the_bot_is_kept_and_the_mediator_told(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    cohort_with_mediator: User,
) -> None:
    rosa = standin.add_user(7801, first_name="Rosa", language_code="en")
    ana = standin.add_user(7802, first_name="Ana", language_code="en")
    await ana.send("help")
    await ana.wait_for(lambda m: m.get("text", "").startswith("What would you like to ask"))
    await ana.send("Can my daughter come too?")
    # Told once the question and its copies are kept: a reply can find it from then on.
    await ana.wait_for(lambda m: m.get("text", "").startswith("I passed your message on"))
    question = await rosa.wait_for(lambda m: m.get("text", "").startswith("Ana asks"))
    ana.blocked = True
    await rosa.send("Yes, she is welcome.", reply_to=question)
    told = await rosa.wait_for(lambda m: m.get("text", "").startswith("Ana cannot get"))
    assert told["text"] == (
        "Ana cannot get messages from the bot now (they may have blocked it). Your answer is kept."
    )
    assert await _kept(session_maker, cohort_with_mediator) == [
        "Can my daughter come too?",
        "Yes, she is welcome.",
    ]
    assert not [m for m in ana.messages if "she is welcome" in m.get("text", "")]

    # Once the bot knows (Telegram's my_chat_member), nothing is even tried; still kept.
    ana.blocked = False
    ana.block()

    async def ana_blocked() -> bool:
        async with session_maker() as session:
            status = await session.scalar(select(User.status).where(User.telegram_id == 7802))
        return status is UserStatus.BLOCKED

    assert await eventually(ana_blocked)
    sends_before = len(standin.calls_of("sendMessage"))
    await rosa.send("And bring a pencil.", reply_to=question)
    await rosa.wait_for(lambda m: m.get("text", "").startswith("Ana cannot get") and m is not told)
    assert len(standin.calls_of("sendMessage")) == sends_before + 1  # only Rosa's
    assert (await _kept(session_maker, cohort_with_mediator))[-1] == "And bring a pencil."


async def test_a_question_too_long_is_refused_in_the_learners_words(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    session_maker: async_sessionmaker[AsyncSession],
    cohort_with_mediator: User,
) -> None:
    standin.add_user(7801, first_name="Rosa", language_code="en")
    ana = standin.add_user(7802, first_name="Ana", language_code="en")
    await ana.send("help")
    await ana.wait_for(lambda m: m.get("text", "").startswith("What would you like to ask"))
    await ana.send("word " * 700)
    told = await ana.wait_for(lambda m: m.get("text", "").startswith("Please write it"))
    assert told["text"] == "Please write it in one message of at most 3000 characters."
    assert await _kept(session_maker, cohort_with_mediator) == []


async def test_a_learner_without_a_mediator_gets_help_and_the_programmes_contact(
    standin: BotAPIStandIn,
    bot_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await create_learner(session_maker, 7803, locale="bg", first_name="Ivo")
    ivo = standin.add_user(7803, first_name="Ivo", language_code="bg")
    settings = bot_settings.model_copy(update={"programme_contact": "info@2l2g.example"})
    parts = build_bot_parts(settings, session_maker)
    assert parts is not None
    polling = asyncio.create_task(run_polling(parts, polling_timeout=1))
    try:
        await ivo.send("помощ")
        told = await ivo.next_message()
        assert "/help" in told["text"] and "info@2l2g.example" in told["text"]
        assert not button_texts(told)  # nobody to ask in the bot: no "Ask my mediator"
        await ivo.send("какво да правя")
        told = await ivo.next_message()
        assert "info@2l2g.example" in told["text"] and not button_texts(told)
    finally:
        await parts.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)


async def test_the_conversation_is_kept_for_mediators_not_viewers(
    session_maker: async_sessionmaker[AsyncSession], cohort_with_mediator: User
) -> None:
    async with session_maker() as session:
        learner = await session.get(User, cohort_with_mediator.id)
        assert learner is not None
        question = await help_desk.ask_mediators(session, learner=learner, text="A question")
        assert [mediator.telegram_id for mediator in question.mediators] == [7801]
        cohort_id = (await cohorts.find_in_scope(session, "SLV1", Actor.system("t"))).id
        conversation = await help_desk.conversation(
            session,
            actor=Actor.mediator(999, frozenset({cohort_id})),
            cohort_code="SLV1",
            learner_id=learner.id,
        )
        assert [(entry.from_learner, entry.text) for entry in conversation] == [
            (True, "A question")
        ]
        with pytest.raises(NotAllowed):
            await help_desk.conversation(
                session,
                actor=Actor(name="funder", role=TokenRole.VIEWER),
                cohort_code="SLV1",
                learner_id=learner.id,
            )


def test_help_words_of_every_language_are_recognised() -> None:
    for word in ("help", "Ayuda", "¡ayuda!", "ПОМОЩ", "aide", "hulp", "ajutor", "Help?"):
        assert help_desk.is_help_word(word), word
    assert not help_desk.is_help_word("help me with lesson 3 please")
