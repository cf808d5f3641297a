"""UI languages: the catalogs in ``locales/`` and chains of them, locale negotiation, Babel
formatting with fallbacks."""

from __future__ import annotations

import copy
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from gettext import NullTranslations
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE_LOCALE = "en"
# Complete catalogs, then Romani, which has what it has and falls back to English string by string.
SUPPORTED_LOCALES = ("en", "bg", "es", "fr", "nl", "ro", "rom")
# Each language in its own name, as a learner looks for it.
LANGUAGE_NAMES = {
    "en": "English",
    "bg": "Български",
    "es": "Español",
    "fr": "Français",
    "nl": "Nederlands",
    "ro": "Română",
    "rom": "Romani (Romanes)",
}
# Babel has no CLDR data for Romani; dates and numbers use this locale instead.
FORMAT_FALLBACK = {"rom": "en"}
# Joins a chain of UI catalogs into one name aiogram's I18n can carry ("rom>bg").
CHAIN_SEPARATOR = ">"


class CatalogI18n(I18n):
    """aiogram's I18n, reading the ``.po`` catalogs directly, and following chains of them.

    Compiling in memory at start-up means a catalog can never be stale or missing its ``.mo``;
    fuzzy entries are left out exactly as ``pybabel compile`` leaves them out. A locale named
    ``rom>bg`` is the Romani catalog falling back to the Bulgarian one, string by string, and to
    the English source after that.
    """

    def __init__(self, *, path: str | Path, default_locale: str, domain: str) -> None:
        self._chains: dict[str, NullTranslations | None] = {}
        super().__init__(path=path, default_locale=default_locale, domain=domain)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po")):
            locale = po_path.parent.parent.name
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=babel_locale(locale))
            # write_mo fills an untranslated plural in with the English text, which would stop a
            # chain there: leave it out, as write_mo leaves out untranslated singulars.
            for message in list(catalog):
                if message.id and message.pluralizable and not all(message.string or ()):
                    catalog.delete(message.id, message.context)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            translations[locale] = gettext.GNUTranslations(buffer)
        return translations

    def reload(self) -> None:
        self._chains.clear()
        super().reload()

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str:
        name = locale or self.current_locale
        if CHAIN_SEPARATOR not in name:
            return super().gettext(singular, plural, n, name)
        translation = self._chain(name)
        if translation is None:
            return singular if n == 1 else plural or singular
        if plural is None:
            return translation.gettext(singular)
        return translation.ngettext(singular, plural, n)

    def _chain(self, name: str) -> NullTranslations | None:
        """The catalogs ``name`` joins, each falling back to the next; built once per chain."""
        if name not in self._chains:
            chained: NullTranslations | None = None
            for code in name.split(CHAIN_SEPARATOR):
                if code not in self.locales:
                    continue
                # Copies: add_fallback changes the catalog it is called on.
                translation = copy.copy(self.locales[code])
                if chained is None:
                    chained = translation
                else:
                    chained.add_fallback(translation)
            self._chains[name] = chained
        return self._chains[name]

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's gettext() looks up the current I18n on the base class, and every subclass of
        # its context mixin gets a context variable of its own: register there.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def create_i18n(default_locale: str = SOURCE_LOCALE, path: Path = LOCALES_DIR) -> I18n:
    return CatalogI18n(path=path, default_locale=default_locale, domain=DOMAIN)


def negotiate_locale(*candidates: str | None, default: str = SOURCE_LOCALE) -> str:
    """The first supported UI locale among the candidates (saved choice, Telegram's language, …).

    Telegram sends IETF tags such as ``pt-br`` or ``en-GB``: the primary subtag decides.
    """
    for candidate in candidates:
        if not candidate:
            continue
        tag = candidate.strip().lower().replace("_", "-")
        for code in (tag, tag.split("-", 1)[0]):
            if code in SUPPORTED_LOCALES:
                return code
    return default


def babel_locale(code: str) -> Locale:
    """A Babel locale for formatting; locales without CLDR data use their fallback."""
    try:
        return Locale.parse(FORMAT_FALLBACK.get(code, code))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE_LOCALE)


def telegram_language_code(code: str) -> str | None:
    """The ISO 639-1 code Telegram accepts for per-language commands, or None (default list)."""
    return code if len(code) == 2 else None
