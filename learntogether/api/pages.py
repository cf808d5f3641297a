"""The few pages the API answers to people rather than programs: a certificate's check.

Plain HTML rendered on the server (autoescaped Jinja2), in the reader's language from
``Accept-Language`` along the bot's catalogs; the same URL answers JSON to programs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiogram.utils.i18n import I18n
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from learntogether.config import Settings
from learntogether.i18n import accepted_locale, create_i18n

# Complete catalogs only: a page is never half in one language.
PAGE_LOCALES = ("en", "bg", "es", "fr", "nl", "ro")
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Pages:
    """Templates and catalogs of the API's pages, built once per app."""

    settings: Settings
    templates: Environment
    i18n: I18n

    @classmethod
    def create(cls, settings: Settings) -> Pages:
        templates = Environment(
            loader=PackageLoader("learntogether.api", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        return cls(settings, templates, create_i18n(settings.default_locale))

    def reader_locale(self, request: Request) -> str:
        """The browser's language when a complete catalog has it, else the default's."""
        accepted = accepted_locale(request.headers.get("accept-language"), PAGE_LOCALES)
        if accepted is not None:
            return accepted
        default = self.settings.default_locale
        return default if default in PAGE_LOCALES else "en"

    def render(
        self, template: str, locale: str, context: Mapping[str, Any], *, status: int = 200
    ) -> HTMLResponse:
        def gettext(message: str) -> str:
            return self.i18n.gettext(message, locale=locale)

        html = self.templates.get_template(template).render(
            {"_": gettext, "locale": locale, **context}
        )
        return HTMLResponse(
            html,
            status_code=status,
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-store",
                "Vary": "Accept, Accept-Language",
                "Content-Language": locale,
            },
        )
