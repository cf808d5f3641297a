"""Time zones as a learner thinks of them: their country first, then a city when the country has
several clocks (Spain: Madrid, the Canaries, Ceuta). From Babel's CLDR data, nothing downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import get_global
from babel.dates import get_timezone, get_timezone_location

from learntogether.i18n import babel_locale

# The time zone a learner gets until they choose one: their country's (from the cohort).
COUNTRY_TIMEZONES = {
    "BG": "Europe/Sofia",
    "ES": "Europe/Madrid",
    "BE": "Europe/Brussels",
    "RO": "Europe/Bucharest",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
    "GR": "Europe/Athens",
    "MK": "Europe/Skopje",
    "RS": "Europe/Belgrade",
    "AL": "Europe/Tirane",
    "XK": "Europe/Belgrade",
    "BA": "Europe/Sarajevo",
    "ME": "Europe/Podgorica",
    "HU": "Europe/Budapest",
    "SK": "Europe/Bratislava",
    "CZ": "Europe/Prague",
}
# The programme's countries, offered first (the rest of Europe is one tap away).
PROGRAMME_COUNTRIES = tuple(COUNTRY_TIMEZONES)


def zones_of(country: str) -> list[str]:
    """The IANA zones of a country (ISO 3166 alpha-2), as CLDR lists them; empty if unknown."""
    zones: Mapping[str, list[str]] = get_global("territory_zones")
    if country == "XK":  # Kosovo has no CLDR territory zones; its clock is Belgrade's.
        return ["Europe/Belgrade"]
    return list(zones.get(country, []))


def european_countries() -> list[str]:
    """Every country with a European clock, the programme's among them."""
    zones: Mapping[str, list[str]] = get_global("territory_zones")
    found = {
        country
        for country, names in zones.items()
        if len(country) == 2 and any(name.startswith("Europe/") for name in names)
    }
    return sorted(found | set(PROGRAMME_COUNTRIES))


def country_name(country: str, locale: str) -> str:
    """The country's name in ``locale`` (its Babel fallback for Romani)."""
    return str(babel_locale(locale).territories.get(country, country))


def city_name(zone: str, locale: str) -> str:
    """The place a zone is named after, in ``locale`` ("Canary Islands" for Atlantic/Canary)."""
    return str(
        get_timezone_location(get_timezone(zone), locale=babel_locale(locale), return_city=True)
    )


def countries_by_name(countries: list[str] | tuple[str, ...], locale: str) -> list[tuple[str, str]]:
    """``(code, name)`` pairs sorted by name as ``locale`` reads it."""
    named = [(code, country_name(code, locale)) for code in countries]
    return sorted(named, key=lambda pair: pair[1].casefold())


def zone_name(timezone: str | None, country: str | None) -> str:
    """The chosen zone, else the country's (its first, for a country with several), else UTC."""
    if timezone:
        return timezone
    if country in COUNTRY_TIMEZONES:
        return COUNTRY_TIMEZONES[country]
    return next(iter(zones_of(country)), "UTC") if country else "UTC"


def zone_of(timezone: str | None, country: str | None) -> ZoneInfo:
    """``zone_name`` as a zone; UTC if the stored name is not one (nothing fails over a zone)."""
    try:
        return ZoneInfo(zone_name(timezone, country))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
