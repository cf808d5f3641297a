"""The Bot API stand-in over real HTTP, driven by aiogram's own Bot."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
)
from aiohttp import web

from tests.oggopus import ogg_opus
from tests.standin import BotAPIStandIn, SimUser
from tests.standin.fixtures import bot_for
from tests.standin.records import UploadedFile

USER_ID = 1001
Received = list[tuple[dict[str, Any], str | None]]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def user(standin: BotAPIStandIn) -> SimUser:
    return standin.add_user(USER_ID, first_name="Ana", language_code="bg")


@pytest.fixture
def bot(standin_bot: Bot) -> Bot:
    return standin_bot


@pytest_asyncio.fixture
async def clocked() -> AsyncIterator[tuple[BotAPIStandIn, Bot, FakeClock]]:
    """A stand-in whose rate limiter runs on a fake clock, with its bot."""
    clock = FakeClock()
    async with BotAPIStandIn(clock=clock) as server:
        client = bot_for(server)
        yield server, client, clock
        await client.session.close()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", len(header)) + b"IHDR" + header
    ihdr += struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00\x00\x00\x00IEND\xaeB`\x82"


# Bot identity, authentication, HTTP shapes ---------------------------------------------------


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456789, True, "lt_test_bot")


async def test_wrong_token_is_unauthorized(standin: BotAPIStandIn) -> None:
    other = bot_for(standin, token="987654321:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await other.get_me()
    finally:
        await other.session.close()


async def test_unknown_method_is_not_found(standin: BotAPIStandIn) -> None:
    url = f"{standin.base_url}/bot{standin.token}/sendSticker"
    async with aiohttp.ClientSession() as session, session.post(url) as response:
        body = await response.json()

    assert response.status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_method_names_are_case_insensitive(standin: BotAPIStandIn) -> None:
    url = f"{standin.base_url}/bot{standin.token}/GETME"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        body = await response.json()

    assert body["ok"] is True
    assert standin.calls[-1].method == "getMe"


async def test_json_bodies_are_accepted(standin: BotAPIStandIn, user: SimUser) -> None:
    url = f"{standin.base_url}/bot{standin.token}/sendMessage"
    payload = {"chat_id": USER_ID, "text": "<b>x</b>", "parse_mode": "HTML"}
    async with aiohttp.ClientSession() as session, session.post(url, json=payload) as response:
        body = await response.json()

    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 1}]


async def test_query_string_parameters_are_accepted(
    standin: BotAPIStandIn,
    user: SimUser,
) -> None:
    url = f"{standin.base_url}/bot{standin.token}/sendMessage?chat_id={USER_ID}&text=hi"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        body = await response.json()

    assert body["result"]["text"] == "hi"


# sendMessage ----------------------------------------------------------------------------------


async def test_send_message_returns_entities_for_html(bot: Bot, user: SimUser) -> None:
    message = await bot.send_message(USER_ID, "<b>Здравей</b>, Ана", parse_mode="HTML")

    assert message.text == "Здравей, Ана"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [("bold", 0, 7)]
    assert user.messages[-1]["text"] == "Здравей, Ана"


async def test_send_message_trims_surrounding_whitespace(bot: Bot, user: SimUser) -> None:
    message = await bot.send_message(USER_ID, "\n  <b>x</b> \n", parse_mode="HTML")

    assert message.text == "x"
    assert [(e.offset, e.length) for e in message.entities or []] == [(0, 1)]


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        pytest.param(
            "<div>x</div>",
            'Bad Request: can\'t parse entities: Unsupported start tag "div" at byte offset 0',
            id="unsupported-tag",
        ),
        pytest.param(
            "<b>x",
            "Bad Request: can't parse entities: "
            'Can\'t find end tag corresponding to start tag "b"',
            id="unbalanced",
        ),
        pytest.param(
            "a&nbsp;b",
            'Bad Request: can\'t parse entities: Unsupported HTML entity "&nbsp;" at byte offset 1',
            id="unknown-entity",
        ),
    ],
)
async def test_send_message_refuses_invalid_html(
    bot: Bot, user: SimUser, markup: str, description: str
) -> None:
    with pytest.raises(TelegramBadRequest) as error:
        await bot.send_message(USER_ID, markup, parse_mode="HTML")

    assert error.value.message == description
    assert user.messages == []


async def test_send_message_accepts_4096_characters(bot: Bot, user: SimUser) -> None:
    message = await bot.send_message(USER_ID, "я" * 4096)

    assert len(message.text or "") == 4096


async def test_send_message_refuses_4097_characters(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(USER_ID, "я" * 4097)


async def test_message_length_counts_utf16_units(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(USER_ID, "😀" * 2049)


async def test_send_message_refuses_empty_text(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(USER_ID, "")


async def test_send_message_refuses_text_empty_after_parsing(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message must be non-empty"):
        await bot.send_message(USER_ID, "<b> </b>", parse_mode="HTML")


async def test_send_message_to_unknown_chat_is_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(555, "hi")


async def test_message_ids_increase_per_chat(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    standin.add_user(2002)
    first = await bot.send_message(USER_ID, "a")
    await user.send("hello")
    second = await bot.send_message(USER_ID, "b")
    other = await bot.send_message(2002, "c")

    assert (first.message_id, second.message_id, other.message_id) == (1, 3, 1)


async def test_reply_to_missing_message_is_refused(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to be replied not found"):
        await bot.send_message(USER_ID, "x", reply_to_message_id=99)


# Reply markup ---------------------------------------------------------------------------------


async def test_callback_data_of_64_bytes_is_accepted(bot: Bot, user: SimUser) -> None:
    data = "ж" * 32  # 64 bytes in UTF-8
    message = await bot.send_message(
        USER_ID, "pick", reply_markup=keyboard(InlineKeyboardButton(text="A", callback_data=data))
    )

    assert message.reply_markup is not None


async def test_callback_data_of_65_bytes_is_refused(bot: Bot, user: SimUser) -> None:
    data = "ж" * 32 + "a"
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(
            USER_ID,
            "pick",
            reply_markup=keyboard(InlineKeyboardButton(text="A", callback_data=data)),
        )


async def test_button_url_must_be_http_https_or_tg(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_URL_INVALID"):
        await bot.send_message(
            USER_ID,
            "open",
            reply_markup=keyboard(InlineKeyboardButton(text="A", url="javascript:alert(1)")),
        )


async def test_button_without_action_is_refused(
    standin: BotAPIStandIn,
    user: SimUser,
) -> None:
    url = f"{standin.base_url}/bot{standin.token}/sendMessage"
    payload = {
        "chat_id": USER_ID,
        "text": "x",
        "reply_markup": {"inline_keyboard": [[{"text": "A"}]]},
    }
    async with aiohttp.ClientSession() as session, session.post(url, json=payload) as response:
        body = await response.json()

    assert body["description"] == (
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard"
    )


async def test_more_than_100_buttons_are_refused(bot: Bot, user: SimUser) -> None:
    buttons = [InlineKeyboardButton(text=str(i), callback_data=str(i)) for i in range(101)]
    with pytest.raises(TelegramBadRequest, match="Bad Request: reply markup is too long"):
        await bot.send_message(USER_ID, "x", reply_markup=keyboard(*buttons))


# Edits and deletion ---------------------------------------------------------------------------


async def test_edit_that_changes_nothing_is_refused(bot: Bot, user: SimUser) -> None:
    markup = keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    sent = await bot.send_message(USER_ID, "<b>x</b>", parse_mode="HTML", reply_markup=markup)

    with pytest.raises(TelegramBadRequest, match="Bad Request: message is not modified: "):
        await bot.edit_message_text(
            text="<b>x</b>",
            chat_id=USER_ID,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=markup,
        )


async def test_edit_changes_the_stored_message(bot: Bot, user: SimUser) -> None:
    sent = await bot.send_message(USER_ID, "before")

    edited = await bot.edit_message_text(text="after", chat_id=USER_ID, message_id=sent.message_id)

    assert not isinstance(edited, bool)
    assert edited.text == "after"
    assert user.message(sent.message_id)["text"] == "after"
    assert "edit_date" in user.messages[0]


async def test_edit_without_reply_markup_removes_the_keyboard(bot: Bot, user: SimUser) -> None:
    markup = keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    sent = await bot.send_message(USER_ID, "x", reply_markup=markup)

    await bot.edit_message_text(text="y", chat_id=USER_ID, message_id=sent.message_id)

    assert "reply_markup" not in user.message(sent.message_id)


async def test_edit_of_missing_message_is_refused(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=USER_ID, message_id=42)


async def test_edit_text_of_poll_is_refused(bot: Bot, user: SimUser) -> None:
    poll = await bot.send_poll(USER_ID, "Q?", ["a", "b"])

    with pytest.raises(
        TelegramBadRequest, match="Bad Request: there is no text in the message to edit"
    ):
        await bot.edit_message_text(text="x", chat_id=USER_ID, message_id=poll.message_id)


async def test_edit_reply_markup_replaces_the_keyboard(bot: Bot, user: SimUser) -> None:
    sent = await bot.send_message(
        USER_ID, "x", reply_markup=keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    )

    await bot.edit_message_reply_markup(
        chat_id=USER_ID,
        message_id=sent.message_id,
        reply_markup=keyboard(InlineKeyboardButton(text="B", callback_data="b")),
    )

    stored = user.message(sent.message_id)["reply_markup"]["inline_keyboard"]
    assert stored == [[{"text": "B", "callback_data": "b"}]]


async def test_delete_message_removes_it(bot: Bot, user: SimUser) -> None:
    sent = await bot.send_message(USER_ID, "x")

    assert await bot.delete_message(USER_ID, sent.message_id) is True
    assert user.messages == []
    assert [m["text"] for m in user.deleted_messages] == ["x"]


async def test_delete_of_missing_message_is_refused(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(USER_ID, 7)


# Simulated users and callback queries ---------------------------------------------------------


async def test_user_command_has_a_bot_command_entity(user: SimUser) -> None:
    message = await user.send("/start c-abc")

    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


async def test_press_sends_the_current_message_and_data(bot: Bot, user: SimUser) -> None:
    sent = await bot.send_message(
        USER_ID, "x", reply_markup=keyboard(InlineKeyboardButton(text="Yes", callback_data="y:1"))
    )
    await bot.edit_message_text(
        text="edited",
        chat_id=USER_ID,
        message_id=sent.message_id,
        reply_markup=keyboard(InlineKeyboardButton(text="Yes", callback_data="y:1")),
    )

    query_id = await user.press("Yes")
    [update] = await bot.get_updates()

    assert update.callback_query is not None
    assert update.callback_query.id == query_id
    assert update.callback_query.data == "y:1"
    assert isinstance(update.callback_query.message, Message)
    assert update.callback_query.message.text == "edited"


async def test_press_finds_a_button_by_callback_data(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    await bot.send_message(
        USER_ID, "x", reply_markup=keyboard(InlineKeyboardButton(text="Yes", callback_data="y:1"))
    )

    query_id = await user.press("y:1")

    assert standin.callback_queries[query_id].data == "y:1"


async def test_press_of_unknown_button_lists_the_buttons(bot: Bot, user: SimUser) -> None:
    await bot.send_message(
        USER_ID, "x", reply_markup=keyboard(InlineKeyboardButton(text="Yes", callback_data="y"))
    )

    with pytest.raises(AssertionError, match=r"available \(text, data\): \[\('Yes', 'y'\)\]"):
        await user.press("No")


async def test_answering_a_callback_query_twice_is_refused(bot: Bot, user: SimUser) -> None:
    await bot.send_message(
        USER_ID, "x", reply_markup=keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    )
    query_id = await user.press("A")
    await bot.answer_callback_query(query_id, text="Done")

    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)


async def test_unanswered_callback_queries_are_listed(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    await bot.send_message(
        USER_ID, "x", reply_markup=keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    )
    answered = await user.press("A")
    unanswered = await user.press("A")
    await bot.answer_callback_query(answered, text="Saved")

    assert [query.id for query in standin.unanswered_callback_queries()] == [unanswered]
    assert standin.callback_queries[answered].text == "Saved"


async def test_callback_answer_over_200_characters_is_refused(bot: Bot, user: SimUser) -> None:
    await bot.send_message(
        USER_ID, "x", reply_markup=keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    )
    query_id = await user.press("A")

    with pytest.raises(TelegramBadRequest, match="Bad Request: MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="x" * 201)


async def test_next_message_returns_messages_in_order(bot: Bot, user: SimUser) -> None:
    await bot.send_message(USER_ID, "one")
    await bot.send_message(USER_ID, "two")

    assert (await user.next_message())["text"] == "one"
    assert (await user.next_message())["text"] == "two"


async def test_next_message_waits_for_a_message(bot: Bot, user: SimUser) -> None:
    waiting = asyncio.create_task(user.next_message(timeout=2))
    await asyncio.sleep(0)
    await bot.send_message(USER_ID, "late")

    assert (await waiting)["text"] == "late"


async def test_next_message_timeout_reports_what_arrived(bot: Bot, user: SimUser) -> None:
    await bot.send_message(USER_ID, "only")
    await user.next_message()

    with pytest.raises(AssertionError, match=r"No new message to user 1001 .*'only'"):
        await user.next_message(timeout=0.05)


async def test_wait_for_sees_edits(bot: Bot, user: SimUser) -> None:
    sent = await bot.send_message(USER_ID, "draft")
    await bot.edit_message_text(text="final", chat_id=USER_ID, message_id=sent.message_id)

    found = await user.wait_for(lambda message: message.get("text") == "final", timeout=0.1)

    assert found["message_id"] == sent.message_id


async def test_calls_are_recorded_with_decoded_parameters(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    markup = keyboard(InlineKeyboardButton(text="A", callback_data="a"))
    await bot.send_message(USER_ID, "x", reply_markup=markup)
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(999, "y")

    sent, refused = standin.calls_of("SENDMESSAGE")

    assert sent.ok
    assert sent.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}]]
    }
    assert (refused.ok, refused.status, refused.description) == (
        False,
        400,
        "Bad Request: chat not found",
    )


async def test_wait_for_call_finds_a_matching_call(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    await bot.send_message(USER_ID, "a")
    await bot.send_message(USER_ID, "b")

    call = await standin.wait_for_call("sendmessage", lambda c: c.params["text"] == "b")

    assert call.method == "sendMessage"
    assert call.result["message_id"] == 2


# Commands -------------------------------------------------------------------------------------


async def test_set_my_commands_stores_per_scope_and_language(
    bot: Bot,
    standin: BotAPIStandIn,
) -> None:
    commands = [BotCommand(command="start", description="Начало")]

    await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code="bg")

    assert standin.commands == {
        ("all_private_chats", "bg"): [{"command": "start", "description": "Начало"}]
    }
    stored = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="bg")
    assert [command.command for command in stored] == ["start"]


@pytest.mark.parametrize("language", ["rom", "BG", "b1"])
async def test_set_my_commands_refuses_invalid_language_code(bot: Bot, language: str) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid language code specified"):
        await bot.set_my_commands(
            [BotCommand(command="start", description="Start")], language_code=language
        )


async def test_set_my_commands_refuses_invalid_command_name(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start-Now", description="Start")])


async def test_delete_my_commands_removes_them(bot: Bot, standin: BotAPIStandIn) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])

    await bot.delete_my_commands()

    assert standin.commands == {}


async def test_one_chat_gets_commands_of_its_own_and_loses_them_again(
    bot: Bot, standin: BotAPIStandIn
) -> None:
    standin.add_user(42, first_name="Rosa")
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    own = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="cohort", description="Your groups"),
    ]

    await bot.set_my_commands(own, scope=BotCommandScopeChat(chat_id=42))

    assert [
        c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=42))
    ] == [
        "start",
        "cohort",
    ]
    assert standin.commands[("default", "")] == [{"command": "start", "description": "Start"}]
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=42))
    assert set(standin.commands) == {("default", "")}


async def test_commands_for_a_chat_the_bot_does_not_know_are_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.set_my_commands(
            [BotCommand(command="start", description="Start")],
            scope=BotCommandScopeChat(chat_id=404),
        )


# Polls ----------------------------------------------------------------------------------------


async def test_send_poll_returns_the_poll(bot: Bot, user: SimUser) -> None:
    message = await bot.send_poll(
        USER_ID, "Кой?", [InputPollOption(text="А"), "Б"], is_anonymous=False
    )

    assert message.poll is not None
    assert [option.text for option in message.poll.options] == ["А", "Б"]
    assert (message.poll.is_anonymous, message.poll.type) == (False, "regular")


async def test_send_poll_refuses_301_character_question(bot: Bot, user: SimUser) -> None:
    with pytest.raises(
        TelegramBadRequest, match="Bad Request: poll question length must not exceed 300"
    ):
        await bot.send_poll(USER_ID, "?" * 301, ["a", "b"])


async def test_send_poll_refuses_a_single_option(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: poll must have at least 2 option"):
        await bot.send_poll(USER_ID, "Q?", ["a"])


async def test_send_poll_refuses_13_options(bot: Bot, user: SimUser) -> None:
    with pytest.raises(
        TelegramBadRequest, match="Bad Request: poll can't have more than 12 options"
    ):
        await bot.send_poll(USER_ID, "Q?", [str(i) for i in range(13)])


async def test_send_poll_refuses_101_character_option(bot: Bot, user: SimUser) -> None:
    with pytest.raises(
        TelegramBadRequest, match="Bad Request: poll options length must not exceed 100"
    ):
        await bot.send_poll(USER_ID, "Q?", ["a", "b" * 101])


async def test_quiz_without_correct_option_is_refused(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: wrong correct option ID specified"):
        await bot.send_poll(USER_ID, "Q?", ["a", "b"], type="quiz")


async def test_quiz_keeps_its_correct_option_and_explanation(bot: Bot, user: SimUser) -> None:
    message = await bot.send_poll(
        USER_ID,
        "Q?",
        ["a", "b"],
        type="quiz",
        correct_option_ids=[1],
        explanation="<i>b</i> is right",
        explanation_parse_mode="HTML",
    )

    assert message.poll is not None
    assert message.poll.correct_option_ids == [1]
    assert message.poll.explanation == "b is right"


async def test_answer_poll_sends_poll_answer_and_counts_the_vote(bot: Bot, user: SimUser) -> None:
    message = await bot.send_poll(USER_ID, "Q?", ["a", "b"], is_anonymous=False)
    assert message.poll is not None

    await user.answer_poll(message.poll.id, [1])
    answer, poll = await bot.get_updates()

    assert answer.poll_answer is not None
    assert answer.poll_answer.option_ids == [1]
    assert answer.poll_answer.user is not None
    assert answer.poll_answer.user.id == USER_ID
    assert poll.poll is not None
    assert [option.voter_count for option in poll.poll.options] == [0, 1]
    assert user.message(message.message_id)["poll"]["total_voter_count"] == 1


async def test_answer_to_anonymous_poll_is_refused(bot: Bot, user: SimUser) -> None:
    message = await bot.send_poll(USER_ID, "Q?", ["a", "b"])

    with pytest.raises(AssertionError, match="anonymous"):
        await user.answer_poll(message.model_dump(), [0])


# Files ----------------------------------------------------------------------------------------


async def test_send_document_stores_the_uploaded_bytes(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    content = b"%PDF-1.7\n" + bytes(range(256)) * 10

    message = await bot.send_document(
        USER_ID, BufferedInputFile(content, filename="certificate.pdf"), caption="Сертификат"
    )

    [stored] = standin.documents
    assert (stored.filename, stored.content, stored.mime_type) == (
        "certificate.pdf",
        content,
        "application/pdf",
    )
    assert message.document is not None
    assert message.document.file_id == stored.file_id
    assert message.caption == "Сертификат"


async def test_send_document_by_file_id_reuses_the_file(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    first = await bot.send_document(USER_ID, BufferedInputFile(b"data", filename="a.txt"))
    assert first.document is not None

    second = await bot.send_document(USER_ID, first.document.file_id)

    assert second.document is not None
    assert second.document.file_name == "a.txt"
    assert len(standin.documents) == 1


async def test_send_document_caption_over_1024_is_refused(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_document(
            USER_ID, BufferedInputFile(b"x", filename="a.txt"), caption="c" * 1025
        )


async def test_send_photo_reports_the_png_size(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    message = await bot.send_photo(USER_ID, BufferedInputFile(png(640, 480), filename="chart.png"))

    assert message.photo is not None
    assert (message.photo[-1].width, message.photo[-1].height) == (640, 480)
    assert standin.photos[0].filename == "chart.png"


async def test_send_photo_refuses_what_is_not_an_image(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER_ID, BufferedInputFile(b"not an image", filename="x.png"))


async def test_a_users_voice_note_arrives_with_telegrams_fields_and_downloads(
    bot: Bot, user: SimUser, standin: BotAPIStandIn
) -> None:
    content = b"OggS" + bytes(range(256)) * 4

    await user.send_voice(content, duration=7)
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.voice is not None
    voice = update.message.voice

    assert (voice.duration, voice.mime_type, voice.file_size) == (7, "audio/ogg", len(content))
    downloaded = await bot.download(voice)
    assert downloaded is not None
    assert downloaded.read() == content
    [path] = standin.downloads
    assert path.startswith("voice/") and path.endswith(".oga")
    assert standin.documents == []


async def test_a_users_document_and_music_file_arrive_as_such(
    bot: Bot, user: SimUser, standin: BotAPIStandIn
) -> None:
    await user.send_document(b"%PDF-1.7", "notes.pdf", "application/pdf")
    await user.send_audio(b"ID3....", 30, "song.mp3", "audio/mpeg")

    document, audio = await bot.get_updates()

    assert document.message is not None and document.message.document is not None
    assert document.message.document.file_name == "notes.pdf"
    assert audio.message is not None and audio.message.audio is not None
    assert (audio.message.audio.mime_type, audio.message.audio.duration) == ("audio/mpeg", 30)
    file = await bot.get_file(document.message.document.file_id)
    assert file.file_path is not None and file.file_path.startswith("documents/")
    assert file.file_size == len(b"%PDF-1.7")


async def test_get_file_refuses_a_file_over_20_mb(bot: Bot, user: SimUser) -> None:
    message = await user.send_voice(b"\0" * (20 * 1024 * 1024 + 1), duration=60)

    with pytest.raises(TelegramBadRequest, match="Bad Request: file is too big"):
        await bot.get_file(message["voice"]["file_id"])


async def test_get_file_refuses_an_unknown_file_id(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid file_id"):
        await bot.get_file("AwACAgIAAxkBAAI-nothing")


async def test_a_file_path_is_served_only_after_get_file_and_with_the_token(
    bot: Bot, user: SimUser, standin: BotAPIStandIn
) -> None:
    message = await user.send_voice(b"OggS voice", duration=2)
    file_id = message["voice"]["file_id"]
    guessed = f"voice/file_{message['voice']['file_unique_id'][4:]}.oga"

    async with aiohttp.ClientSession() as client:
        before = await client.get(f"{standin.base_url}/file/bot{standin.token}/{guessed}")
        assert before.status == 404
        file = await bot.get_file(file_id)
        assert file.file_path == guessed
        wrong = await client.get(f"{standin.base_url}/file/bot1:wrong/{guessed}")
        right = await client.get(f"{standin.base_url}/file/bot{standin.token}/{guessed}")
        assert wrong.status == 404
        assert (right.status, await right.read()) == (200, b"OggS voice")
    assert standin.downloads == [guessed]


async def test_send_voice_uploads_once_and_answers_with_the_voice(
    bot: Bot, user: SimUser, standin: BotAPIStandIn
) -> None:
    recording = ogg_opus(2.5)
    first = await bot.send_voice(
        USER_ID,
        BufferedInputFile(recording, filename="step.ogg"),
        caption="<b>Step 1</b>",
        parse_mode="HTML",
    )
    assert first.voice is not None

    second = await bot.send_voice(USER_ID, first.voice.file_id, caption="Again")

    assert second.voice is not None
    assert second.voice.file_id == first.voice.file_id
    assert (first.voice.duration, first.voice.mime_type) == (3, "audio/ogg")
    assert first.voice.file_size == len(recording)
    assert first.caption == "Step 1"
    [stored] = standin.voices
    assert stored.content == recording
    assert [type(call.params["voice"]) for call in standin.calls_of("sendVoice")] == [
        UploadedFile,
        str,
    ]


async def test_send_voice_takes_the_duration_given(bot: Bot, user: SimUser) -> None:
    sent = await bot.send_voice(
        USER_ID, BufferedInputFile(ogg_opus(1), filename="a.ogg"), duration=7
    )
    assert sent.voice is not None
    assert sent.voice.duration == 7


async def test_send_voice_refuses_a_file_id_it_did_not_issue_or_of_another_kind(
    bot: Bot, user: SimUser
) -> None:
    document = await bot.send_document(USER_ID, BufferedInputFile(b"data", filename="a.txt"))
    assert document.document is not None
    for file_id in ("AwACAgIAAxkDAAI-made-up", document.document.file_id):
        with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
            await bot.send_voice(USER_ID, file_id)


async def test_send_voice_caption_over_1024_is_refused(bot: Bot, user: SimUser) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_voice(
            USER_ID, BufferedInputFile(ogg_opus(1), filename="a.ogg"), caption="c" * 1025
        )


async def test_send_voice_sends_what_is_not_ogg_opus_as_a_document(
    bot: Bot, user: SimUser, standin: BotAPIStandIn
) -> None:
    sent = await bot.send_voice(USER_ID, BufferedInputFile(b"ID3 mp3", filename="a.mp3"))

    assert sent.voice is None
    assert sent.document is not None
    assert standin.voices == []


# Blocking -------------------------------------------------------------------------------------


async def test_sending_to_a_user_who_blocked_the_bot_is_forbidden(bot: Bot, user: SimUser) -> None:
    user.block()

    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(USER_ID, "hi")


async def test_blocking_sends_my_chat_member_update(bot: Bot, user: SimUser) -> None:
    user.block()
    user.unblock()

    kicked, member = await bot.get_updates()

    assert kicked.my_chat_member is not None
    assert kicked.my_chat_member.old_chat_member.status == "member"
    assert kicked.my_chat_member.new_chat_member.status == "kicked"
    assert member.my_chat_member is not None
    assert member.my_chat_member.new_chat_member.status == "member"


# Rate limits ----------------------------------------------------------------------------------


async def test_chat_burst_then_retry_after(
    clocked: tuple[BotAPIStandIn, Bot, FakeClock],
) -> None:
    server, client, _ = clocked
    server.add_user(USER_ID)
    for text in "abc":
        await client.send_message(USER_ID, text)

    with pytest.raises(TelegramRetryAfter) as error:
        await client.send_message(USER_ID, "d")

    assert error.value.retry_after == 1
    assert server.rate_limit_violations == 1
    assert len(server.sent_times[USER_ID]) == 3


async def test_chat_limit_allows_sends_again_after_waiting(
    clocked: tuple[BotAPIStandIn, Bot, FakeClock],
) -> None:
    server, client, clock = clocked
    server.add_user(USER_ID)
    for text in "abc":
        await client.send_message(USER_ID, text)

    clock.now += 1.0

    assert (await client.send_message(USER_ID, "d")).text == "d"


async def test_global_limit_of_30_per_second_across_chats(
    clocked: tuple[BotAPIStandIn, Bot, FakeClock],
) -> None:
    server, client, _ = clocked
    for chat_id in range(1, 32):
        server.add_user(chat_id)
    for chat_id in range(1, 31):
        await client.send_message(chat_id, "hi")

    with pytest.raises(TelegramRetryAfter) as error:
        await client.send_message(31, "hi")

    assert error.value.retry_after >= 1


async def test_edits_and_answers_are_not_rate_limited(
    clocked: tuple[BotAPIStandIn, Bot, FakeClock],
) -> None:
    server, client, _ = clocked
    server.add_user(USER_ID)
    sent = await client.send_message(USER_ID, "0")
    for number in range(1, 6):
        await client.edit_message_text(
            text=str(number), chat_id=USER_ID, message_id=sent.message_id
        )

    assert server.rate_limit_violations == 0


# Updates: long polling ------------------------------------------------------------------------


async def test_get_updates_returns_an_update_sent_during_the_wait(bot: Bot, user: SimUser) -> None:
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await user.send("hello")

    updates = await asyncio.wait_for(polling, 2)

    assert [update.message.text for update in updates if update.message] == ["hello"]


async def test_get_updates_without_timeout_answers_at_once(bot: Bot) -> None:
    assert await asyncio.wait_for(bot.get_updates(), 1) == []


async def test_offset_confirms_earlier_updates(bot: Bot, user: SimUser) -> None:
    await user.send("one")
    await user.send("two")
    first, second = await bot.get_updates()

    remaining = await bot.get_updates(offset=second.update_id)

    assert [update.update_id for update in remaining] == [second.update_id]
    assert first.update_id < second.update_id


async def test_allowed_updates_filter_later_updates(bot: Bot, user: SimUser) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])

    await user.send("ignored")

    assert await bot.get_updates() == []


async def test_second_get_updates_terminates_the_first(bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)

    await bot.get_updates()

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)


async def test_stop_wakes_a_long_poll() -> None:
    server = BotAPIStandIn()
    await server.start()
    client = bot_for(server)
    try:
        polling = asyncio.create_task(client.get_updates(timeout=30))
        await asyncio.sleep(0.05)

        await asyncio.wait_for(server.stop(), 2)

        assert await asyncio.wait_for(polling, 2) == []
    finally:
        await client.session.close()


async def test_dispatcher_polling_round_trip(bot: Bot, user: SimUser) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        name = message.from_user.first_name if message.from_user else "?"
        await message.answer(f"<b>Hi</b> {name}", parse_mode="HTML")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        await user.send("/start")
        reply = await user.next_message(timeout=3)
    finally:
        await dispatcher.stop_polling()
        await polling

    assert reply["text"] == "Hi Ana"


# Fault injection ------------------------------------------------------------------------------


async def test_fail_next_answers_the_injected_error_once(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    standin.fail_next("sendMessage", status=502, description="Bad Gateway")

    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(USER_ID, "x")
    assert (await bot.send_message(USER_ID, "y")).text == "y"


async def test_fail_next_with_retry_after_raises_retry_after(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    standin.fail_next(
        "sendmessage", status=429, description="Too Many Requests: retry after 7", retry_after=7
    )

    with pytest.raises(TelegramRetryAfter) as error:
        await bot.send_message(USER_ID, "x")

    assert error.value.retry_after == 7


async def test_delay_next_runs_the_call_but_answers_late(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    standin.delay_next("sendMessage", 5.0)

    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER_ID, "x", request_timeout=1)

    assert [message["text"] for message in user.messages] == ["x"]


async def test_paid_broadcast_flag_lifts_the_global_limit(user: SimUser) -> None:
    async with BotAPIStandIn(global_rate=1, per_chat_rate=None) as limited:
        limited.add_user(USER_ID)
        paid_bot = bot_for(limited)
        try:
            await paid_bot.send_message(USER_ID, "free")
            with pytest.raises(TelegramRetryAfter):
                await paid_bot.send_message(USER_ID, "free again")
            await paid_bot.send_message(USER_ID, "paid", allow_paid_broadcast=True)
        finally:
            await paid_bot.session.close()

    assert limited.rate_limit_violations == 1


# Webhooks -------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[str, Received]]:
    """A tiny webhook endpoint recording each update and its secret-token header."""
    received: Received = []

    async def handle(request: web.Request) -> web.Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received
    await runner.cleanup()


async def test_webhook_receives_updates_with_the_secret(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
    receiver: tuple[str, Received],
) -> None:
    url, received = receiver
    await bot.set_webhook(url, secret_token="s3cr3t")

    await user.send("hello")
    await standin._wait_until(lambda: received or None, 2, lambda: "no webhook delivery")

    [(update, secret)] = received
    assert update["message"]["text"] == "hello"
    assert secret == "s3cr3t"
    assert [d.status for d in standin.webhook_deliveries] == [200]
    assert standin.pending_updates == []


async def test_get_updates_conflicts_with_a_webhook(
    bot: Bot,
    receiver: tuple[str, Received],
) -> None:
    await bot.set_webhook(receiver[0])

    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()


async def test_failed_webhook_delivery_keeps_the_update(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    standin.webhook_attempts = 1
    await bot.set_webhook("http://127.0.0.1:9/unreachable")

    await user.send("hello")
    await standin._wait_until(
        lambda: standin.webhook_deliveries or None, 2, lambda: "no delivery attempt"
    )

    assert standin.webhook_deliveries[0].status is None
    assert [u["message"]["text"] for u in standin.pending_updates] == ["hello"]
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message


async def test_webhook_answer_with_a_method_is_executed(
    bot: Bot,
    user: SimUser,
    standin: BotAPIStandIn,
) -> None:
    async def handle(request: web.Request) -> web.Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "pong"})

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        await user.send("ping")

        reply = await user.next_message(timeout=2)
    finally:
        await bot.delete_webhook()
        await runner.cleanup()

    assert reply["text"] == "pong"


async def test_delete_webhook_allows_polling_again(
    bot: Bot,
    receiver: tuple[str, Received],
) -> None:
    await bot.set_webhook(receiver[0])

    await bot.delete_webhook(drop_pending_updates=True)

    assert await bot.get_updates() == []


async def test_webhook_over_several_connections_keeps_each_chats_order(
    bot: Bot, standin: BotAPIStandIn
) -> None:
    """Two chats' updates travel side by side; one chat's next waits for its previous one."""
    standin.webhook_connections = 3
    log: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        text = (await request.json())["message"]["text"]
        log.append(f"in {text}")
        await asyncio.sleep(0.1)
        log.append(f"out {text}")
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        ana, ben = standin.add_user(31, first_name="Ana"), standin.add_user(32, first_name="Ben")
        await ana.send("a1")
        await ana.send("a2")
        await ben.send("b1")
        await standin._wait_until(lambda: len(log) == 6 or None, 3, lambda: f"got {log}")
    finally:
        await runner.cleanup()
    assert log[:2] == ["in a1", "in b1"]
    assert log.index("out a1") < log.index("in a2")
    assert standin.pending_updates == []
