"""A message as Telegram shows it: Telegram's HTML subset turned into safe HTML for a page.

The text is parsed as the Bot API parses it (``telegram_html.parse_html``) and rebuilt from the
plain text and its entities, so nothing a writer typed reaches the page as markup of its own:
only the tags below, and links only to http(s) and tg addresses.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from learntogether.telegram_html import TelegramHTMLError, parse_html

_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
}
_LINK_SCHEMES = ("http://", "https://", "tg://")


def _open_close(entity: dict[str, Any]) -> tuple[str, str]:
    if entity["type"] == "text_link":
        url = str(entity.get("url", ""))
        if url.lower().startswith(_LINK_SCHEMES):
            return f'<a href="{escape(url)}" rel="noopener noreferrer">', "</a>"
        return "<span>", "</span>"
    return _TAGS.get(entity["type"], ("<span>", "</span>"))


def telegram_bubble(markup: str) -> Markup | None:
    """The message as safe HTML, or None when Telegram would refuse its markup."""
    try:
        text, entities = parse_html(markup)
    except TelegramHTMLError:
        return None
    units = text.encode("utf-16-le")
    size = len(units) // 2

    def piece(start: int, end: int) -> str:
        return str(escape(units[2 * start : 2 * end].decode("utf-16-le")))

    ordered = sorted(entities, key=lambda e: (e["offset"], -e["length"]))
    points = sorted(
        {0, size, *(e["offset"] for e in ordered)} | {e["offset"] + e["length"] for e in ordered}
    )
    stack: list[tuple[int, str]] = []
    out: list[str] = []
    position = 0
    for point in points:
        out.append(piece(position, point))
        position = point
        while stack and stack[-1][0] <= point:
            out.append(stack.pop()[1])
        for entity in ordered:
            if entity["offset"] == point and entity["length"] > 0:
                opening, closing = _open_close(entity)
                out.append(opening)
                stack.append((entity["offset"] + entity["length"], closing))
    out.extend(closing for _end, closing in reversed(stack))
    return Markup("".join(out))  # noqa: S704 (built from escaped text and our own tags)
