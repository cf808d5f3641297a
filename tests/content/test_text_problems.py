"""The one check of a Telegram text, shared by the lesson validator and broadcasts."""

from __future__ import annotations

from learntogether.telegram_html import text_problems


def test_text_telegram_accepts_has_no_problems() -> None:
    assert text_problems("Workshop on <b>Friday</b>", limit=4096, what="text") == []


def test_markup_telegram_refuses_is_the_only_problem() -> None:
    problems = text_problems("<b>unclosed" + "x" * 50, limit=10, what="step text")

    assert problems == [
        'Telegram would refuse this step text: Can\'t find end tag corresponding to start tag "b"'
    ]


def test_length_is_counted_after_parsing_in_utf16_units() -> None:
    # Tags do not count; each emoji is two UTF-16 units; surrounding spaces are trimmed.
    assert text_problems("  <b>😀😀</b>  ", limit=4, what="poll option") == []
    assert text_problems("<b>😀😀</b>a", limit=4, what="poll option") == [
        "poll option is 5 characters; Telegram's limit is 4"
    ]


def test_markup_in_a_plain_text_field_is_a_problem() -> None:
    assert text_problems("<i>Title</i>", limit=120, what="title", markup=False) == [
        "title is shown as plain text: remove the markup"
    ]


def test_markup_and_length_problems_are_both_reported() -> None:
    assert text_problems("<i>Title</i>", limit=3, what="title", markup=False) == [
        "title is shown as plain text: remove the markup",
        "title is 5 characters; Telegram's limit is 3",
    ]


def test_text_of_only_markup_and_spaces_is_empty_where_empty_is_not_allowed() -> None:
    assert text_problems("<b> </b>", limit=4096, what="text") == []
    assert text_problems("<b> </b>", limit=4096, what="text", allow_empty=False) == [
        "text is empty"
    ]
