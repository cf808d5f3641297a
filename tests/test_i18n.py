"""The locale policy, catalogs and their chains, negotiation and formatting fallbacks."""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from learntogether.i18n import (
    LOCALES_DIR,
    SUPPORTED_LOCALES,
    Locales,
    babel_locale,
    create_i18n,
    display_language,
    learner_locales,
    negotiate_locale,
)

COMPLETE_LOCALES = [code for code in SUPPORTED_LOCALES if code not in ("en", "rom")]
ROOT = LOCALES_DIR.parent


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("bg",), "bg"),
        (("es-ES",), "es"),
        (("pt-br",), None),
        ((None, "nl"), "nl"),
        (("rom", "bg"), "rom"),
        ((None, None), None),
    ],
)
def test_negotiate_locale_takes_first_supported(
    candidates: tuple[str | None, ...], expected: str | None
) -> None:
    assert negotiate_locale(*candidates) == expected


def test_policy_goes_from_the_learner_to_the_cohort_to_the_default_to_english() -> None:
    locales = learner_locales("rom", "bg", default="es")
    assert locales.content == ("rom", "bg", "es", "en")
    assert locales.ui == "rom"
    assert locales.ui_chain == ("rom", "bg", "es")


@pytest.mark.parametrize(
    ("own", "cohort", "default", "content"),
    [
        ("bg", "bg", "bg", ("bg", "en")),
        ("en", "bg", "en", ("en", "bg")),
        ("es", None, "es", ("es", "en")),
        (None, "bg", "bg", ("bg", "en")),
    ],
)
def test_policy_names_each_language_once(
    own: str | None, cohort: str | None, default: str, content: tuple[str, ...]
) -> None:
    assert learner_locales(own, cohort, default=default).content == content


def test_policy_honours_the_default_locale_when_learner_and_cohort_have_none() -> None:
    locales = learner_locales(None, None, default="es")
    assert (locales.content, locales.ui, locales.catalog) == (("es", "en"), "es", "es")


def test_english_learner_reads_english_strings_not_the_cohorts() -> None:
    # English is the source: every string has it, so nothing falls through to Bulgarian.
    locales = learner_locales("en", "bg", default="en")
    assert (locales.ui, locales.ui_chain, locales.catalog) == ("en", (), "en")
    assert create_i18n().gettext("Continue", locale=locales.catalog) == "Continue"


def test_a_language_without_a_catalog_is_content_only() -> None:
    locales = Locales(("de", "bg", "en"))
    assert (locales.ui, locales.catalog) == ("bg", "bg")


def test_romani_learner_in_a_bulgarian_cohort_reads_the_romani_catalog_then_the_bulgarian() -> None:
    assert learner_locales("rom", "bg", default="en").catalog == "rom>bg"


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


def test_dates_are_written_in_the_first_language_of_the_chain_babel_knows() -> None:
    assert learner_locales("rom", "bg", default="en").formatting == "bg"
    assert learner_locales("rom", None, default="en").formatting == "en"
    assert learner_locales("es", "bg", default="en").formatting == "es"


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
            # The console's templates call the same gettext as the code (babel.cfg).
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            keywords={
                "_": None,
                "__": None,
                # Services' refusals and lesson problems, said later (``i18n.N_``).
                "N_": None,
                "gettext": None,
                "_n": (1, 2),
                "ngettext": (1, 2),
            },
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


def test_bulgarian_likert_labels_are_not_masculine_only() -> None:
    """ "Съгласен" speaks to men only; the scale's points are said without a gender."""
    i18n = create_i18n()
    labels = ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]
    bulgarian = [i18n.gettext(label, locale="bg") for label in labels]
    assert all(label != english for label, english in zip(bulgarian, labels, strict=True))
    assert not any("съгласен" in label.casefold() for label in bulgarian)


def test_the_spanish_interface_says_usted_throughout() -> None:
    """Parents and mediators are addressed with *usted*, as the lessons address them."""
    informal = re.compile(
        r"\b(tu|tus|ti|tienes|puedes|quieres|estás|has|envía|elige|escribe|pulsa|"
        r"cambias|llevas|te)\b",
        re.IGNORECASE,
    )
    with (LOCALES_DIR / "es" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file)
    tuteo = [
        message.id
        for message in catalog
        if message.id
        for text in (
            message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        )
        if text and informal.search(str(text))
    ]
    assert tuteo == []


def test_a_language_is_named_in_the_readers_language() -> None:
    assert display_language("ro", "bg") == "румънски"
    assert display_language("rom", "fr") == "romani"
    assert display_language("bg", "en") == "Bulgarian"


def test_a_language_babel_cannot_name_keeps_its_own_name_or_code() -> None:
    # A Romani reader has no CLDR data: English names, as dates and numbers fall back.
    assert display_language("es", "rom") == "Spanish"
    assert display_language("xx", "bg") == "xx"
