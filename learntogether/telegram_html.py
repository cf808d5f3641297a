"""Telegram's HTML formatting subset, parsed as the Bot API server (TDLib's ``parse_html``) does.

The content validator and broadcasts refuse text Telegram would refuse through ``text_problems``,
and the test suite's Bot API stand-in uses the parser to answer as Telegram does.

``parse_html`` turns markup into the plain text and the ``MessageEntity`` dicts Telegram stores,
with offsets and lengths in UTF-16 code units. Errors carry TDLib's messages, the part after
``"Bad Request: can't parse entities: "``. The parser is stricter than Telegram in two documented
ways: named character references other than ``&lt; &gt; &amp; &quot;`` are refused (Telegram
would show them literally), and ``<a>`` needs an ``href`` (Telegram would use its text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Entity = dict[str, Any]

_MARKUP_START = re.compile("[<&]")
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\v\0")
_NAME_END = _SPACES | {">"}
_ATTRIBUTE_NAME_END = _NAME_END | {"="}
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_TAGS = frozenset({*_SIMPLE_TAGS, "a", "code", "pre", "blockquote", "tg-emoji"})
# TDLib's sort order for entities that start at the same offset and have the same length.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 10,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


class TelegramHTMLError(ValueError):
    """Markup Telegram refuses; ``str(error)`` is the text after "can't parse entities: "."""


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut at a word (a very long word is cut) with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-—") + "…"


def utf16_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units, the unit of Telegram's lengths and offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int


class _Parser:
    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.pos = 0
        self.text: list[str] = []
        self.utf16_offset = 0
        self.entities: list[Entity] = []
        self.open_tags: list[_OpenTag] = []

    def byte_offset(self, position: int) -> int:
        return len(self.markup[:position].encode())

    def char(self, position: int) -> str:
        return self.markup[position] if position < len(self.markup) else ""

    def append(self, chars: str) -> None:
        self.text.append(chars)
        self.utf16_offset += utf16_length(chars)

    def skip_spaces(self) -> None:
        while self.char(self.pos) in _SPACES:
            self.pos += 1

    def decode_reference(self, start: int) -> tuple[str, int] | None:
        """Decode the character reference at ``start`` (an ``&``), as TDLib does, or None."""
        markup = self.markup
        end = start + 1
        if self.char(end) == "#":
            end += 1
            if self.char(end) == "x":
                end += 1
                digits_start = end
                while self.char(end) and self.char(end) in "0123456789abcdefABCDEF":
                    end += 1
                value = int(markup[digits_start:end], 16) if end > digits_start else 0
            else:
                digits_start = end
                while self.char(end).isdigit() and self.char(end).isascii():
                    end += 1
                value = int(markup[digits_start:end]) if end > digits_start else 0
            if value == 0 or value >= 0x10FFFF or end - start >= 10:
                return None
            if 0xD800 <= value <= 0xDFFF:
                raise TelegramHTMLError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            decoded = chr(value)
        else:
            while self.char(end).isascii() and self.char(end).isalpha():
                end += 1
            name = markup[start + 1 : end]
            if name not in _NAMED_REFERENCES:
                if name and self.char(end) == ";":
                    offset = self.byte_offset(start)
                    raise TelegramHTMLError(
                        f'Unsupported HTML entity "&{name};" at byte offset {offset}'
                    )
                return None
            decoded = _NAMED_REFERENCES[name]
        if self.char(end) == ";":
            end += 1
        return decoded, end

    def parse(self) -> tuple[str, list[Entity]]:
        markup = self.markup
        while self.pos < len(markup):
            char = markup[self.pos]
            if char == "&":
                reference = self.decode_reference(self.pos)
                if reference is not None:
                    self.append(reference[0])
                    self.pos = reference[1]
                    continue
            if char != "<":
                special = _MARKUP_START.search(markup, self.pos + 1)
                end = special.start() if special else len(markup)
                self.append(markup[self.pos : end])
                self.pos = end
                continue
            if self.char(self.pos + 1) == "/":
                self.end_tag()
            else:
                self.start_tag()
        if self.open_tags:
            tag = self.open_tags[-1].name
            raise TelegramHTMLError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY[e["type"]]))
        return "".join(self.text), self.entities

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        while self.pos < len(self.markup) and self.char(self.pos) not in _NAME_END:
            self.pos += 1
        if self.pos >= len(self.markup):
            raise TelegramHTMLError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = self.markup[begin + 1 : self.pos].lower()
        if name not in _TAGS:
            raise TelegramHTMLError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        argument = self.attributes(name, begin)
        self.pos += 1  # the ">"
        if name == "span" and argument != "spoiler":
            raise TelegramHTMLError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        if name == "a" and not argument:
            raise TelegramHTMLError(
                f'Tag "a" must have attribute "href" at byte offset {self.byte_offset(begin)}'
            )
        self.open_tags.append(_OpenTag(name, argument, self.utf16_offset))

    def attributes(self, tag: str, begin: int) -> str:
        """Read the attributes of the tag up to its ``>`` and return the one the tag uses."""
        argument = ""
        while True:
            self.skip_spaces()
            if self.pos >= len(self.markup):
                raise TelegramHTMLError(
                    f"Unclosed start tag at byte offset {self.byte_offset(begin)}"
                )
            if self.char(self.pos) == ">":
                return argument
            name_start = self.pos
            while self.pos < len(self.markup) and self.char(self.pos) not in _ATTRIBUTE_NAME_END:
                self.pos += 1
            name = self.markup[name_start : self.pos].lower()
            self.skip_spaces()
            if self.char(self.pos) != "=":
                if tag == "blockquote" and name == "expandable":
                    argument = "expandable"
                    continue
                raise TelegramHTMLError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {self.byte_offset(begin)}'
                )
            self.pos += 1
            self.skip_spaces()
            if self.pos >= len(self.markup):
                raise TelegramHTMLError(
                    f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}'
                )
            value = self.attribute_value()
            if tag == "a" and name == "href":
                argument = value.strip()
            elif tag == "code" and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value

    def attribute_value(self) -> str:
        quote = self.char(self.pos)
        if quote not in ("'", '"'):
            token_start = self.pos
            while self.char(self.pos).isascii() and (
                self.char(self.pos).isalnum() or self.char(self.pos) in ".-"
            ):
                self.pos += 1
            if self.pos >= len(self.markup) or self.char(self.pos) not in _NAME_END:
                raise TelegramHTMLError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token_start)}"
                )
            return self.markup[token_start : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.pos < len(self.markup) and self.char(self.pos) != quote:
            if self.char(self.pos) == "&":
                reference = self.decode_reference(self.pos)
                if reference is not None:
                    value.append(reference[0])
                    self.pos = reference[1]
                    continue
            value.append(self.char(self.pos))
            self.pos += 1
        self.pos += 1  # the closing quote
        return "".join(value)

    def end_tag(self) -> None:
        begin = self.pos
        if not self.open_tags:
            raise TelegramHTMLError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 2
        while self.pos < len(self.markup) and self.char(self.pos) not in _NAME_END:
            self.pos += 1
        end_name = self.markup[begin + 2 : self.pos].lower()
        self.skip_spaces()
        if self.char(self.pos) != ">":
            raise TelegramHTMLError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1
        open_tag = self.open_tags.pop()
        if end_name and end_name != open_tag.name:
            raise TelegramHTMLError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{open_tag.name}>", found "</{end_name}>"'
            )
        if self.utf16_offset > open_tag.utf16_offset:
            self.add_entity(open_tag)

    def add_entity(self, tag: _OpenTag) -> None:
        offset, length = tag.utf16_offset, self.utf16_offset - tag.utf16_offset
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
        extra: Entity = {}
        if tag.name in _SIMPLE_TAGS:
            kind = _SIMPLE_TAGS[tag.name]
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument else "blockquote"
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise TelegramHTMLError("Invalid custom emoji identifier specified")
            kind, extra = "custom_emoji", {"custom_emoji_id": tag.argument}
        elif tag.name == "a":
            url = tag.argument if "://" in tag.argument else f"http://{tag.argument}"
            kind, extra = "text_link", {"url": url}
        elif tag.name == "code":
            if same_span and last is not None and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
                return
            kind, extra = "code", {"language": tag.argument}
        else:  # pre
            if same_span and last is not None and last["type"] == "code" and last["language"]:
                last["type"] = "pre"
                return
            kind = "pre"
        self.entities.append({"type": kind, "offset": offset, "length": length, **extra})


def parse_html(markup: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into ``(plain_text, entities)``; raise ``TelegramHTMLError``."""
    text, entities = _Parser(markup).parse()
    for entity in entities:
        if entity["type"] == "code":
            del entity["language"]
    return text, entities


def english(template: str, /, **values: object) -> str:
    return template.format(**values)


def text_problems(
    value: str,
    *,
    limit: int,
    what: str,
    markup: bool = True,
    allow_empty: bool = True,
    # Named as gettext's mark so that the catalogs' extraction finds the templates below.
    N_: Callable[..., str] = english,
) -> list[str]:
    """What Telegram would object to in ``value``, one message each, naming the text ``what``.

    The markup must parse; with ``markup=False`` (a poll, a button: shown as plain text) there must
    be none. The length is counted as Telegram counts it: after parsing and trimming, in UTF-16.
    Each message is built by ``N_`` from its template and values: English by default, or the
    services' ``N_``, which keeps them to be said in a reader's language.
    """
    try:
        plain, entities = parse_html(value)
    except TelegramHTMLError as error:
        return [N_("Telegram would refuse this {what}: {error}", what=what, error=str(error))]
    problems = []
    if not markup and entities:
        problems.append(N_("{what} is shown as plain text: remove the markup", what=what))
    length = utf16_length(plain.strip())
    if length == 0 and not allow_empty:
        problems.append(N_("{what} is empty", what=what))
    if length > limit:
        problems.append(
            N_(
                "{what} is {length} characters; Telegram's limit is {limit}",
                what=what,
                length=length,
                limit=limit,
            )
        )
    return problems
