"""Catalogs, negotiation and formatting fallbacks."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from learntogether.i18n import (
    LOCALES_DIR,
    SUPPORTED_LOCALES,
    babel_locale,
    create_i18n,
    negotiate_locale,
)

COMPLETE_LOCALES = [code for code in SUPPORTED_LOCALES if code not in ("en", "rom")]
ROOT = LOCALES_DIR.parent


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("bg",), "bg"),
        (("es-ES",), "es"),
        (("pt-br",), "en"),
        ((None, "nl"), "nl"),
        (("rom", "bg"), "rom"),
        ((None, None), "en"),
    ],
)
def test_negotiate_locale_takes_first_supported(
    candidates: tuple[str | None, ...], expected: str
) -> None:
    assert negotiate_locale(*candidates) == expected


def test_a_chain_of_catalogs_falls_back_string_by_string() -> None:
    i18n = create_i18n()
    # Translated in Romani: Romani; missing there: Bulgarian, never English.
    assert i18n.gettext("All lessons", locale="rom>bg") == i18n.gettext("All lessons", locale="rom")
    assert i18n.gettext("Continue", locale="rom") == "Continue"
    assert i18n.gettext("Continue", locale="rom>bg") == i18n.gettext("Continue", locale="bg")
    plural = ("{count} lesson completed", "{count} lessons completed", 3)
    assert i18n.gettext(*plural, locale="rom>bg") == i18n.gettext(*plural, locale="bg")


def test_a_chain_leaves_its_catalogs_as_they_were() -> None:
    i18n = create_i18n()
    i18n.gettext("Continue", locale="rom>bg")
    assert i18n.gettext("Continue", locale="rom") == "Continue"
    assert i18n.gettext("Continue", locale="rom>es") == i18n.gettext("Continue", locale="es")


def test_romani_formats_with_fallback_locale() -> None:
    assert str(babel_locale("rom")) == "en"
    assert str(babel_locale("bg")) == "bg"


def test_every_catalog_is_loaded() -> None:
    assert set(create_i18n().available_locales) == set(SUPPORTED_LOCALES)


def test_romani_falls_back_to_english_string_by_string() -> None:
    i18n = create_i18n()
    unknown = "I did not understand that. Send /start to begin."
    assert i18n.gettext(unknown, locale="rom") == unknown


def _singular(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _translated(message: Message) -> bool:
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return not message.fuzzy and all(forms)


def _code_messages() -> set[str]:
    messages: set[str] = set()
    for folder in ("bot", "learntogether"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            keywords={"_": None, "__": None, "gettext": None, "_n": (1, 2), "ngettext": (1, 2)},
        ):
            messages.add(message if isinstance(message, str) else message[0])
    return messages


@pytest.mark.parametrize("locale", COMPLETE_LOCALES)
def test_complete_catalog_translates_every_string_the_code_uses(locale: str) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file)
    translated = {
        _singular(message.id) for message in catalog if message.id and _translated(message)
    }
    used = _code_messages()
    assert used, "no translatable strings found in the code"
    assert sorted(used - translated) == []
