"""The console's colours meet WCAG AA (issue 13's quality bar), read from its only stylesheet:
text 4.5:1 against the page and the header, and the keyboard's focus ring 3:1 (non-text
contrast, WCAG 1.4.11), so whoever moves by keyboard sees where they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import learntogether.console

CSS = (Path(learntogether.console.__file__).parent / "static" / "console.css").read_text()
TEXT_COLOURS = ("--ink", "--muted", "--accent", "--ok", "--warn", "--bad")


def _variables() -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", CSS)
    assert root is not None
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})\s*;", root[1]))


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    channels = [int(digits[index : index + 2], 16) / 255 for index in (0, 2, 4)]
    red, green, blue = (
        value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
        for value in channels
    )
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_of_black_on_white_is_21() -> None:
    assert round(contrast("#000", "#ffffff"), 1) == 21.0


@pytest.mark.parametrize("name", TEXT_COLOURS)
def test_text_colours_read_on_the_page_and_the_header(name: str) -> None:
    colours = _variables()
    for background in ("#ffffff", colours["--soft"]):
        assert contrast(colours[name], background) >= 4.5, (name, background)


def test_the_focus_ring_stands_out_from_the_page_and_the_header() -> None:
    rule = re.search(r"[^{}]*:focus-visible[^{}]*{([^}]*)}", CSS)
    assert rule is not None
    ring = re.search(r"outline:\s*\S+\s+solid\s+(#[0-9a-fA-F]{3,6})", rule[1])
    assert ring is not None
    for background in ("#ffffff", _variables()["--soft"]):
        assert contrast(ring[1], background) >= 3, background
