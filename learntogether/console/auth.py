"""Signing in with a one-time link, signing out, the language switch and the stylesheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from learntogether.console.web import (
    CONSOLE_LOCALES,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    ConsoleRoute,
    DbDep,
    FormStaffDep,
    redirect,
    render,
    safe_next,
)
from learntogether.services import console_sessions
from learntogether.services.errors import InvalidToken, NotAllowed

router = APIRouter(route_class=ConsoleRoute)
STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
YEAR = 365 * 24 * 3600
NEXT_COOKIE = "lt_next"
# Long enough to ask for a link and open it (a link works for 15 minutes).
NEXT_KEPT_SECONDS = 3600


@router.get("/signin")
async def signin_help(request: Request, next: str | None = None) -> HTMLResponse:
    wanted = safe_next(next)
    page = render(request, "signin.html", {"next": wanted, "expired": False})
    if wanted != "/":
        # The page the reader asked for, to open once the link they are about to get signs them
        # in (in this browser; a link opened elsewhere lands on the dashboard).
        page.set_cookie(
            NEXT_COOKIE,
            wanted,
            max_age=NEXT_KEPT_SECONDS,
            httponly=True,
            secure=served_over_https(request),
            samesite="lax",
            path="/signin",
        )
    return page


@router.get("/signin/{link}")
async def signin_confirm(request: Request, link: str, session: DbDep) -> HTMLResponse:
    # Opening the link only asks: link previews and mail scanners fetch it without a person.
    try:
        name = await console_sessions.check_link(session, link_secret=link)
    except InvalidToken:
        return render(request, "signin.html", {"next": "/", "expired": True}, status=410)
    return render(request, "signin_confirm.html", {"name": name, "link": link})


@router.post("/signin/{link}")
async def signin(request: Request, link: str, session: DbDep) -> Response:
    # No CSRF token exists before sign-in: a browser says where the form came from instead
    # (Origin is "null" under our no-referrer policy, so Sec-Fetch-Site is the one to read).
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise NotAllowed("Sign in from the console's own page.")
    try:
        secret = await console_sessions.redeem_link(
            session, link_secret=link, user_agent=request.headers.get("user-agent")
        )
    except InvalidToken:
        return render(request, "signin.html", {"next": "/", "expired": True}, status=410)
    response = redirect(safe_next(request.cookies.get(NEXT_COOKIE)))
    response.delete_cookie(NEXT_COOKIE, path="/signin")
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        secure=served_over_https(request),
        samesite="lax",
        path="/",
    )
    return response


def served_over_https(request: Request) -> bool:
    """This request came over HTTPS, or the console's public address is an https one: a proxy
    that ends TLS elsewhere than on this machine's loopback (which uvicorn trusts to say so) hands
    the request on as plain http."""
    public_url = request.app.state.settings.public_url or ""
    return request.url.scheme == "https" or public_url.lower().startswith("https://")


@router.post("/signout")
async def signout(staff: FormStaffDep, session: DbDep) -> Response:
    await console_sessions.sign_out(session, signed_in=staff)
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language")
async def choose_language(
    lang: Annotated[str, Query(max_length=8)],
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """Remember the reader's language (a preference only, so a plain GET form does)."""
    response = redirect(safe_next(next))
    if lang in CONSOLE_LOCALES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=YEAR, samesite="lax", path="/")
    return response


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    path = STATIC / name
    media_type = _STATIC_TYPES.get(path.suffix)
    if media_type is None or path.parent != STATIC or not path.is_file():
        return Response(status_code=404)
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )
