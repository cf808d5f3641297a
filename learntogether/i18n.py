"""Languages: the one locale policy, the UI catalogs in ``locales/``, Babel formatting fallbacks.

The policy (``learner_locales``) decides for every reply, lesson, broadcast, reminder and nudge
alike: the learner's own language, then the language they read best (asked with a partial one,
Romani), then their cohort's, then ``LT_DEFAULT_LOCALE``, then the source language (English).
Lesson texts are picked along that chain, and so are the interface's strings: a Romani learner
who reads Bulgarian best reads what the Romani catalog lacks in Bulgarian.
"""

from __future__ import annotations

import copy
import gettext
import io
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from gettext import NullTranslations
from pathlib import Path
from typing import Self

from aiogram.utils.i18n import I18n
from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE_LOCALE = "en"
# Complete catalogs, then Romani, which has what it has: a Romani learner reads the rest along
# their chain (``Locales``), string by string.
SUPPORTED_LOCALES = (SOURCE_LOCALE, "bg", "es", "fr", "nl", "ro", "rom")
# Each language in its own name, as a learner looks for it.
LANGUAGE_NAMES = {
    SOURCE_LOCALE: "English",
    "bg": "Български",
    "es": "Español",
    "fr": "Français",
    "nl": "Nederlands",
    "ro": "Română",
    "rom": "Romani (partial)",
}
# Languages whose catalog and lessons are partial: a learner who picks one also names the
# language they read best, which fills in what it lacks.
PARTIAL_LOCALES = frozenset({"rom"})
COMPLETE_LOCALES = tuple(code for code in SUPPORTED_LOCALES if code not in PARTIAL_LOCALES)
# Babel has no CLDR data for Romani; dates and numbers use this locale instead.
FORMAT_FALLBACK = {"rom": SOURCE_LOCALE}
# Joins a chain of UI catalogs into one name aiogram's I18n can carry ("rom>bg").
CHAIN_SEPARATOR = ">"


Gettext = Callable[[str], str]


class Text(str):
    """An English message that can be said again in another language: the template (a msgid,
    extracted from ``N_`` calls) and the values put into it. Values that are ``Text`` are said in
    the same language.

    Services' refusals (``services/errors.py``) and the lesson validator's problems
    (``content/validate.py``) are written so: the API, the CLI and lesson files show the English,
    the bot and the console say it in their reader's language."""

    __slots__ = ("template", "values")
    template: str
    values: dict[str, object]

    def __new__(cls, template: str, /, **values: object) -> Self:
        # Without values, the template itself: a msgid marked for the catalogs (gettext_noop).
        text = super().__new__(cls, template.format(**values) if values else template)
        text.template = template
        text.values = values
        return text

    def said(self, gettext: Gettext) -> str:
        """The message in the language ``gettext`` translates into."""
        return gettext(self.template).format(
            **{
                name: value.said(gettext) if isinstance(value, Text) else value
                for name, value in self.values.items()
            }
        )


def N_(template: str, /, **values: object) -> Text:
    """Mark a message for the catalogs (gettext's name for a mark, which extraction finds), to be
    said later in the reader's language."""
    return Text(template, **values)


def said(message: object, gettext: Gettext) -> str:
    """A message in the reader's language when it is a ``Text``; any other, as it is."""
    return message.said(gettext) if isinstance(message, Text) else str(message)


def locale_chain(*preferred: str | None) -> tuple[str, ...]:
    """The given locales in order, then the source language, without blanks or repeats."""
    return tuple(dict.fromkeys([*(code for code in preferred if code), SOURCE_LOCALE]))


@dataclass(frozen=True)
class Locales:
    """The languages one learner reads, best first (see ``learner_locales``)."""

    content: tuple[str, ...]
    """The order texts are looked up in: lesson texts, broadcasts, reminders; ends in English."""

    @property
    def ui_chain(self) -> tuple[str, ...]:
        """The UI catalogs along the chain, up to English, whose strings every catalog falls
        back to in the end (they are the source)."""
        chain: list[str] = []
        for code in self.content:
            if code == SOURCE_LOCALE:
                break
            if code in SUPPORTED_LOCALES:
                chain.append(code)
        return tuple(chain)

    @property
    def ui(self) -> str:
        """The interface language: the first of the chain with a catalog (the one a learner is
        shown as theirs, stored for someone enrolled without one, a mediator writes in)."""
        return next(iter(self.ui_chain), SOURCE_LOCALE)

    @property
    def formatting(self) -> str:
        """The language dates and numbers are written in: the first of the UI chain that Babel
        has data for (Romani has none), else English."""
        return next((code for code in self.ui_chain if code not in FORMAT_FALLBACK), SOURCE_LOCALE)

    @property
    def catalog(self) -> str:
        """The locale to give aiogram's I18n (``use_locale``, ``gettext(locale=…)``).

        A single catalog goes by its code; a chain by its codes joined (``rom>bg``), which
        ``CatalogI18n`` resolves to the first catalog falling back string by string to the next.
        """
        return CHAIN_SEPARATOR.join(self.ui_chain) or SOURCE_LOCALE


def learner_locales(
    own: str | None, cohort: str | None, *, default: str, reads: str | None = None
) -> Locales:
    """The one locale policy: the learner's language, the language they read best (``reads``,
    named with a partial language such as Romani), their cohort's, ``LT_DEFAULT_LOCALE``'s
    (``default``), then English, without repeats.

    ``own`` is the learner's saved choice, or before they have one (onboarding) the choice made
    so far or Telegram's language (see ``negotiate_locale``); ``cohort`` is the locale of the
    cohort they joined last, or of the one their invite link names.
    """
    return Locales(locale_chain(own, reads, cohort, default))


class CatalogI18n(I18n):
    """aiogram's I18n, reading the ``.po`` catalogs directly, and following chains of them.

    Compiling in memory at start-up means a catalog can never be stale or missing its ``.mo``;
    fuzzy entries are left out exactly as ``pybabel compile`` leaves them out. A locale named
    ``rom>bg`` (``Locales.catalog``) is the Romani catalog falling back to the Bulgarian one,
    string by string, and to the English source after that.
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


def negotiate_locale(*candidates: str | None) -> str | None:
    """The first supported UI locale among the candidates (a choice, Telegram's language, …).

    Telegram sends IETF tags such as ``pt-br`` or ``en-GB``: the primary subtag decides. None
    when none is supported: the rest of the policy (``learner_locales``) decides then.
    """
    for candidate in candidates:
        if not candidate:
            continue
        tag = candidate.strip().lower().replace("_", "-")
        for code in (tag, tag.split("-", 1)[0]):
            if code in SUPPORTED_LOCALES:
                return code
    return None


def babel_locale(code: str) -> Locale:
    """A Babel locale for formatting; locales without CLDR data use their fallback."""
    try:
        return Locale.parse(FORMAT_FALLBACK.get(code, code))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE_LOCALE)


def sentence_gettext(i18n: I18n, sentence: str, locale: str) -> Callable[[str], str]:
    """gettext into the one catalog of ``locale``'s chain (``rom>bg``) that translates
    ``sentence``, else the English source: the words put into a sentence must come from the
    catalog the sentence came from ("не е на ромски", never "не е на romani" from the next one)."""
    for code in locale.split(CHAIN_SEPARATOR):
        translations = i18n.locales.get(code)
        if translations is not None and translations.gettext(sentence) != sentence:
            return partial(_gettext_in, i18n, code)
    return str


def _gettext_in(i18n: I18n, code: str, message: str) -> str:
    return i18n.gettext(message, locale=code)


def display_language(code: str, reader: str) -> str:
    """A language's name as the reader calls it (Babel's CLDR names in the reader's locale:
    "румънски" for a Bulgarian reader of ``ro``); a language CLDR does not name, by its own name."""
    return babel_locale(reader).languages.get(code) or LANGUAGE_NAMES.get(code, code)


def accepted_locale(header: str | None, allowed: Collection[str]) -> str | None:
    """The first of ``allowed`` a browser's ``Accept-Language`` asks for, by q value; None when
    it asks for none of them."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, index, tag))
    for _weight, _index, tag in sorted(ranked):
        code = negotiate_locale(tag)
        if code in allowed:
            return code
    return None


def telegram_language_code(code: str) -> str | None:
    """The ISO 639-1 code Telegram accepts for per-language commands, or None (default list)."""
    return code if len(code) == 2 else None
