"""The Telegram HTML parser against TDLib's behaviour."""

from __future__ import annotations

import pytest

from learntogether.telegram_html import TelegramHTMLError, parse_html, shorten, utf16_length


def test_plain_text_has_no_entities() -> None:
    assert parse_html("Hello, world") == ("Hello, world", [])


def test_bold_gives_a_bold_entity() -> None:
    assert parse_html("Say <b>hi</b>!") == (
        "Say hi!",
        [{"type": "bold", "offset": 4, "length": 2}],
    )


def test_offsets_are_counted_in_utf16_code_units() -> None:
    text, entities = parse_html("😀😀 <i>é😀x</i>")

    assert text == "😀😀 é😀x"
    assert entities == [{"type": "italic", "offset": 5, "length": 4}]


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert utf16_length("a😀é") == 4


def test_nested_tags_give_an_entity_each() -> None:
    _, entities = parse_html("<b>bold <i>both</i></b>")

    assert entities == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "italic", "offset": 5, "length": 4},
    ]


def test_entities_with_the_same_span_are_ordered_as_telegram_orders_them() -> None:
    _, entities = parse_html("<i><b>x</b></i>")

    assert [entity["type"] for entity in entities] == ["bold", "italic"]


def test_tag_names_are_case_insensitive() -> None:
    assert parse_html("<B>x</b><STRONG>y</STRONG>")[1] == [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "bold", "offset": 1, "length": 1},
    ]


def test_synonyms_map_to_the_same_entity_types() -> None:
    _, entities = parse_html("<em>a</em><ins>b</ins><strike>c</strike><del>d</del><s>e</s>")

    assert [e["type"] for e in entities] == [
        "italic",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
    ]


def test_pre_with_code_language_is_one_pre_entity() -> None:
    markup = '<pre><code class="language-python">print(1)</code></pre>'

    assert parse_html(markup) == (
        "print(1)",
        [{"type": "pre", "offset": 0, "length": 8, "language": "python"}],
    )


def test_code_language_outside_pre_is_dropped() -> None:
    assert parse_html('<code class="language-python">x</code>')[1] == [
        {"type": "code", "offset": 0, "length": 1}
    ]


def test_blockquote_and_expandable_blockquote() -> None:
    _, entities = parse_html("<blockquote>a</blockquote><blockquote expandable>b</blockquote>")

    assert entities == [
        {"type": "blockquote", "offset": 0, "length": 1},
        {"type": "expandable_blockquote", "offset": 1, "length": 1},
    ]


def test_spoilers_links_and_custom_emoji() -> None:
    markup = (
        '<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>'
        '<a href="https://example.org/?x=1&amp;y=2">c</a>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )

    assert parse_html(markup)[1] == [
        {"type": "spoiler", "offset": 0, "length": 1},
        {"type": "spoiler", "offset": 1, "length": 1},
        {"type": "text_link", "offset": 2, "length": 1, "url": "https://example.org/?x=1&y=2"},
        {
            "type": "custom_emoji",
            "offset": 3,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
    ]


def test_character_references_are_decoded() -> None:
    assert parse_html("&lt;a&gt; &amp; &quot;b&quot; &#65;&#x42;") == ('<a> & "b" AB', [])


def test_bare_ampersand_stays_literal() -> None:
    assert parse_html("Tom & Jerry") == ("Tom & Jerry", [])


def test_empty_tags_make_no_entity() -> None:
    assert parse_html("a<b></b>b") == ("ab", [])


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        pytest.param("é <div>x</div>", 'Unsupported start tag "div" at byte offset 3', id="div"),
        pytest.param("1 < 2", 'Unsupported start tag "" at byte offset 2', id="raw-less-than"),
        pytest.param("<b>x", 'Can\'t find end tag corresponding to start tag "b"', id="unclosed"),
        pytest.param(
            "<b><i>x</b></i>",
            'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
            id="unmatched",
        ),
        pytest.param("x</b>", "Unexpected end tag at byte offset 1", id="unexpected-end"),
        pytest.param("<b", "Unclosed start tag at byte offset 0", id="unclosed-start"),
        pytest.param("<b>x</b", "Unclosed end tag at byte offset 4", id="unclosed-end"),
        pytest.param("a &nbsp; b", 'Unsupported HTML entity "&nbsp;" at byte offset 2', id="nbsp"),
        pytest.param(
            "<span>x</span>",
            'Tag "span" must have class "tg-spoiler" at byte offset 0',
            id="plain-span",
        ),
        pytest.param(
            "<a>x</a>", 'Tag "a" must have attribute "href" at byte offset 0', id="a-no-href"
        ),
        pytest.param(
            "<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified", id="emoji-id"
        ),
        pytest.param(
            "<b class>x</b>",
            'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0',
            id="attribute-without-value",
        ),
        pytest.param(
            "&#xD800;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
            id="surrogate",
        ),
    ],
)
def test_invalid_markup_is_refused_with_tdlib_message(markup: str, message: str) -> None:
    with pytest.raises(TelegramHTMLError) as error:
        parse_html(markup)

    assert str(error.value) == message


def test_shorten_cuts_a_label_at_a_word_with_an_ellipsis() -> None:
    assert shorten("▶️ The mixed classroom and its neighbours", 28) == "▶️ The mixed classroom and…"
    assert shorten("The mixed classroom", 40) == "The mixed classroom"
    assert shorten("Supercalifragilisticexpialidocious", 10) == "Supercali…"
