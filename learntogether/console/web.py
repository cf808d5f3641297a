"""What every console page shares: templates, language, the signed-in staff member, CSRF, errors.

Pages are rendered on the server with Jinja2 (autoescaped); every string goes through the bot's
gettext catalogs. A route builds nothing itself: it takes the ``SignedIn`` staff member (whose
``actor`` carries the role and cohort scope), calls a service and renders. A domain error becomes
a page in the reader's language, never a traceback; a missing or ended session, the sign-in page.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from fastapi import Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.engine import unit_of_work
from learntogether.db.models import TokenRole
from learntogether.deeplinks import resolve_bot_username
from learntogether.i18n import (
    LANGUAGE_NAMES,
    Text,
    accepted_locale,
    babel_locale,
    create_i18n,
    display_language,
)
from learntogether.services import console_sessions
from learntogether.services.console_sessions import SignedIn
from learntogether.services.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    InvalidToken,
    NotAllowed,
    NotFound,
)
from learntogether.telegram_html import parse_html

log = logging.getLogger(__name__)

SESSION_COOKIE = "lt_console"
LANGUAGE_COOKIE = "lt_lang"
# The staff's languages, each in its own name.
CONSOLE_LOCALES = ("en", "bg", "es", "fr", "nl", "ro")
# Pages run no inline script or style; nothing may frame them, and forms post only here. Scripts
# ask only this site (the broadcast form's live preview).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SignInRequired(Exception):
    """No live session: the page sends the reader to sign in."""


@dataclass(frozen=True)
class Console:
    """The console's templates and catalogs, built once per app."""

    settings: Settings
    templates: Environment
    i18n: I18n

    @classmethod
    def create(cls, settings: Settings) -> Console:
        templates = Environment(
            loader=PackageLoader("learntogether.console", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # Lesson texts are Telegram HTML: forms and lists show the text it displays, escaped.
        templates.filters["plain"] = plain_text
        return cls(
            settings=settings, templates=templates, i18n=create_i18n(settings.default_locale)
        )


def plain_text(markup: str) -> str:
    """What a text in Telegram's HTML subset displays, without its tags."""
    return parse_html(markup)[0]


def get_console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per page: committed before the answer is sent, rolled back on error."""
    session_maker: async_sessionmaker[AsyncSession] = request.app.state.session_maker
    async with unit_of_work(session_maker) as session:
        yield session


DbDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


def reader_locale(request: Request) -> str:
    """The reader's choice (a cookie), else the browser's Accept-Language, else the default."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in CONSOLE_LOCALES:
        return chosen
    accepted = accepted_locale(request.headers.get("accept-language"), CONSOLE_LOCALES)
    if accepted is not None:
        return accepted
    settings: Settings = request.app.state.settings
    return settings.default_locale if settings.default_locale in CONSOLE_LOCALES else "en"


LocaleDep = Annotated[str, Depends(reader_locale)]


async def current_staff(request: Request, session: DbDep) -> SignedIn:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise SignInRequired
    try:
        staff = await console_sessions.authenticate(session, session_secret=secret)
    except InvalidToken:
        raise SignInRequired from None
    request.state.staff = staff
    return staff


StaffDep = Annotated[SignedIn, Depends(current_staff)]


async def checked_staff(staff: StaffDep, csrf: Annotated[str | None, Form()] = None) -> SignedIn:
    """The staff member behind a form, which must carry their session's CSRF token."""
    console_sessions.check_csrf(staff, csrf)
    return staff


FormStaffDep = Annotated[SignedIn, Depends(checked_staff)]


async def bot_username(request: Request) -> str | None:
    """The bot's username for invite links, asked once per app and remembered."""
    username: str | None = getattr(request.app.state, "bot_username", None)
    if username is None:
        username = await resolve_bot_username(request.app.state.settings)
        request.app.state.bot_username = username
    return username


BotUsernameDep = Annotated[str | None, Depends(bot_username)]


def navigation(staff: SignedIn | None) -> frozenset[str]:
    """The page groups the staff member's role may open (the layout names them)."""
    if staff is None:
        return frozenset()
    role = staff.actor.role
    pages = {"dashboard", "reports", "curriculum"}
    if role in (TokenRole.ADMIN, TokenRole.MEDIATOR):
        pages |= {"cohorts", "broadcasts", "learners"}
    if role is TokenRole.ADMIN:
        pages.add("access")
    return frozenset(pages)


def translator(request: Request) -> Callable[[str], str]:
    """gettext in the reader's language, for messages a route writes itself."""
    i18n = get_console(request).i18n
    locale = reader_locale(request)

    def gettext(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    return gettext


@lru_cache(maxsize=8192)
def _decimal(value: float, locale: str) -> str:
    # Babel takes tens of microseconds a number; a report page shows thousands, mostly the same
    # small counts.
    return format_decimal(value, locale=babel_locale(locale))


@lru_cache(maxsize=4096)
def _day(value: date, locale: str) -> str:
    # A report by week shows each of a year's Mondays once a group.
    return format_date(value, "medium", locale=babel_locale(locale))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """A page in the reader's language, with the layout's navigation and the CSRF token."""
    console = get_console(request)
    locale = reader_locale(request)
    staff: SignedIn | None = getattr(request.state, "staff", None)
    i18n = console.i18n
    gettext = translator(request)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return i18n.gettext(singular, plural, n, locale=locale)

    def when(moment: datetime | None, zone: str = "UTC") -> str:
        """A moment on ``zone``'s clock (UTC unless a cohort's zone is given), and the zone."""
        if moment is None:
            return "–"
        language = babel_locale(locale)
        local = moment.astimezone(ZoneInfo(zone))
        day = format_date(local, "medium", locale=language)
        return f"{day} {format_time(local, 'short', tzinfo=local.tzinfo, locale=language)} {zone}"

    def upcoming(moment: datetime | None, zone: str = "UTC") -> str:
        """A coming moment: "today at 18:30 Europe/Sofia", "tomorrow at …", or the date."""
        if moment is None:
            return "–"
        ahead = days_ahead(moment, zone, datetime.now(UTC))
        if ahead not in (0, 1):
            return when(moment, zone)
        local = moment.astimezone(ZoneInfo(zone))
        clock = format_time(local, "short", tzinfo=local.tzinfo, locale=babel_locale(locale))
        text = (
            gettext("today at {time} {zone}")
            if ahead == 0
            else gettext("tomorrow at {time} {zone}")
        )
        return text.format(time=clock, zone=zone)

    def day(value: date | str | None) -> str:
        """A day (or an ISO date, as reports give periods) in the reader's language."""
        if value is None:
            return "–"
        return _day(date.fromisoformat(value) if isinstance(value, str) else value, locale)

    def number(value: float) -> str:
        return _decimal(value, locale)

    def percent(value: float) -> str:
        """A share (0 to 1) as a whole percentage in the reader's language."""
        return format_percent(value, locale=babel_locale(locale))

    def named_language(code: str) -> str:
        """A language (a learner's, a recording's) by its name in the reader's language."""
        return display_language(code, locale)

    html = console.templates.get_template(template).render(
        {
            "_": gettext,
            "_n": ngettext,
            "when": when,
            "upcoming": upcoming,
            "day": day,
            "number": number,
            "percent": percent,
            "language_name": named_language,
            "locale": locale,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in CONSOLE_LOCALES],
            "staff": staff,
            "csrf": staff.csrf_token if staff is not None else "",
            "nav": navigation(staff),
            "path": request.url.path,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **(context or {}),
        }
    )
    return HTMLResponse(html, status_code=status, headers=page_headers())


def days_ahead(moment: datetime, zone: str, now: datetime) -> int:
    """Calendar days from ``now`` to ``moment`` on ``zone``'s clock: 0 today, 1 tomorrow."""
    clock = ZoneInfo(zone)
    return (moment.astimezone(clock).date() - now.astimezone(clock).date()).days


def page_headers() -> dict[str, str]:
    # Pages show learners' names and, once, new secrets: never kept by a browser or a proxy.
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }


def redirect(path: str) -> RedirectResponse:
    """POST/redirect/GET: after a change, the page that shows it."""
    return RedirectResponse(path, status_code=303, headers=page_headers())


_ERROR_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    NotAllowed: 403,
    Conflict: 409,
    InvalidInput: 422,
    InvalidToken: 403,
}


def error_page(request: Request, error: DomainError | RequestValidationError) -> HTMLResponse:
    """The page for an error a route did not handle itself."""
    if isinstance(error, RequestValidationError):
        status = 404 if request.method == "GET" else 422
    else:
        status = next(
            (code for kind, code in _ERROR_STATUS.items() if isinstance(error, kind)), 400
        )
    # A service's sentence marked for people (``N_``) says what went wrong, in the reader's
    # language; any other stays unsaid (it was not written for them).
    detail = getattr(error, "detail", None)
    told = detail.said(translator(request)) if isinstance(detail, Text) else None
    return render(request, "error.html", {"status": status, "detail": told}, status=status)


class ConsoleRoute(APIRoute):
    """A console route: domain errors become pages, a missing session the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                # The page asked for, with its choices (a report's grouping, a page number).
                target = request.url.path if request.method == "GET" else "/"
                if request.method == "GET" and request.url.query:
                    target += f"?{request.url.query}"
                return redirect(f"/signin?next={quote(target, safe='/')}")
            except (DomainError, RequestValidationError) as error:
                return error_page(request, error)

        return handle


def form_errors(
    error: InvalidInput, fields: Mapping[str, str], gettext: Callable[[str], str]
) -> dict[str, list[str]]:
    """A service's field problems by form field, in the reader's language (``gettext``):
    ``fields`` maps JSON paths' first part (``$.text`` → ``text``) to the form's names; anything
    else is the form's own (``""``)."""
    found: dict[str, list[str]] = {}
    for problem in error.problems:
        head = problem.path.removeprefix("$.").split(".", 1)[0].split("[", 1)[0]
        found.setdefault(fields.get(head, ""), []).append(problem.said(gettext))
    if not error.problems:
        found[""] = [error.said(gettext)]
    return found


def safe_next(target: str | None) -> str:
    """A path on this site to go back to (never another site's address)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
