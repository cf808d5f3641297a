"""What ends a conversation that waits: a command, or a button of another screen.

A conversation (the help desk waiting for a question, /broadcast for its text, /record for a voice
note, a workshop's title, the name for a certificate, …) keeps its FSM state until its last
answer. A learner who goes elsewhere in the meantime (sends /progress, presses a lesson's button)
has left it: were the state kept, their next text or voice note would be taken as the answer
(a reflection sent to the mediator as a question). ``LeaveConversation`` clears the state then,
before any router sees the update; the command or button then does what it does anywhere else.

Onboarding is exempt: a learner finishes it before anything else (its handlers answer commands).
A flow's own buttons keep its conversation going (the consent of /record, "Send now" of
/broadcast); every conversation and its buttons are listed in ``CONVERSATIONS``, and a test checks
that every state group of the handlers is listed there or exempt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.callbacks import (
    AssistAnswer,
    AssistLesson,
    AssistSkip,
    AssistSubmit,
    AssistToggle,
    BroadcastWhen,
    CertificateName,
    CertificatePdf,
    HelpCancel,
    RecordConsent,
    RecordLanguage,
    RecordLesson,
    RecordStep,
    RecordTrack,
    RecordWithdraw,
    SettingsMenu,
    WorkshopNoPlace,
    WorkshopNow,
)
from bot.handlers.assisted import Assisting, Workshop
from bot.handlers.certificates import NamingCertificate
from bot.handlers.help_desk import Asking
from bot.handlers.mediator import Mediating
from bot.handlers.onboarding import Onboarding
from bot.handlers.recording import Recording
from bot.handlers.settings import EditingSettings


@dataclass(frozen=True)
class Conversation:
    """A flow's waiting states and the buttons that belong to it."""

    states: type[StatesGroup]
    buttons: tuple[type[CallbackData], ...]


# The buttons pressed while a conversation waits that carry it on. A button that starts a flow
# (Reply, Ask my mediator, a cohort's Broadcast) needs no place here: its handler sets the state
# again after the old one is cleared.
CONVERSATIONS = (
    Conversation(Asking, (HelpCancel,)),
    Conversation(Mediating, (BroadcastWhen,)),
    Conversation(
        Recording,
        (RecordTrack, RecordLesson, RecordStep, RecordLanguage, RecordConsent, RecordWithdraw),
    ),
    Conversation(Workshop, (WorkshopNow, WorkshopNoPlace)),
    Conversation(Assisting, (AssistLesson, AssistAnswer, AssistToggle, AssistSubmit, AssistSkip)),
    Conversation(NamingCertificate, (CertificateName, CertificatePdf)),
    Conversation(EditingSettings, (SettingsMenu,)),
)
# Finished before anything else: its handlers take commands and buttons themselves.
EXEMPT: tuple[type[StatesGroup], ...] = (Onboarding,)


class LeaveConversation(BaseMiddleware):
    """Clears a waiting conversation's state when a command, or a button not of its flow, comes.

    Registered on the dispatcher's messages and presses, so it sees them before any router
    handles them; it reads the state the FSM middleware already loaded (no extra round trip).
    """

    def __init__(self, conversations: Iterable[Conversation] = CONVERSATIONS) -> None:
        self.own_buttons: dict[str, frozenset[str]] = {
            state.state: frozenset(button.__prefix__ for button in conversation.buttons)
            for conversation in conversations
            for state in conversation.states.__all_states__
            if state.state is not None
        }

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        raw_state = data.get("raw_state")
        state = data.get("state")
        if (
            isinstance(raw_state, str)
            and raw_state in self.own_buttons
            and isinstance(state, FSMContext)
            and self._elsewhere(event, self.own_buttons[raw_state])
        ):
            await state.clear()
            data["raw_state"] = None
        return await handler(event, data)

    @staticmethod
    def _elsewhere(event: TelegramObject, own_buttons: frozenset[str]) -> bool:
        if isinstance(event, Message):
            return (event.text or "").startswith("/")
        if isinstance(event, CallbackQuery):
            # Callback data is "prefix:value:…", or the prefix alone for a button without values.
            return (event.data or "").split(":", 1)[0] not in own_buttons
        return False
