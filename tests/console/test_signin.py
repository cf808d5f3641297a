"""Signing in to the console with a one-time link, sessions, sign-out, CSRF, headers, language."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from learntogether.cli import app as cli
from learntogether.config import Settings
from learntogether.db.models import AuditLog, ConsoleSession, TokenRole
from learntogether.runtime import build_app
from learntogether.services import console_sessions
from learntogether.services.actors import Actor
from tests.console.conftest import new_link, sign_in


async def test_a_page_without_a_session_sends_the_reader_to_sign_in(client: AsyncClient) -> None:
    answer = await client.get("/access/sessions")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/access/sessions"
    page = await client.get("/signin")
    assert "/console" in page.text
    assert "learntogether console link --role admin --name NAME" in page.text


async def test_opening_a_link_only_asks_and_the_button_signs_in_once(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    path = (await new_link(session_maker, name="Ana <b>")).removeprefix("http://testserver")
    # Link previews fetch the link: that must not use it up.
    for _ in range(2):
        confirm = await client.get(path)
        assert confirm.status_code == 200
    assert "Ana &lt;b&gt;" in confirm.text
    signed_in = await client.post(path)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/"
    cookie = signed_in.headers["set-cookie"]
    assert "lt_console=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here
    assert (await client.get("/")).status_code == 200
    again = await client.post(path)
    assert again.status_code == 410
    assert "used already or has expired" in again.text


async def test_the_link_opens_the_page_the_reader_had_asked_for(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    asked = await client.get("/reports/participation?group_by=region")
    assert asked.headers["location"] == "/signin?next=/reports/participation%3Fgroup_by%3Dregion"
    help_page = await client.get(asked.headers["location"])
    assert "lt_next=" in help_page.headers["set-cookie"]
    assert "Path=/signin" in help_page.headers["set-cookie"]
    path = (await new_link(session_maker)).removeprefix("http://testserver")

    signed_in = await client.post(path)

    assert signed_in.headers["location"] == "/reports/participation?group_by=region"
    # Used once: the next sign-in in this browser lands on the dashboard.
    assert "lt_next" not in client.cookies
    again = await client.post((await new_link(session_maker)).removeprefix("http://testserver"))
    assert again.headers["location"] == "/"


@pytest.mark.parametrize(
    "elsewhere", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "reports"]
)
async def test_a_page_on_another_site_is_never_where_a_sign_in_leads(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], elsewhere: str
) -> None:
    asked = await client.get("/signin", params={"next": elsewhere})
    assert "lt_next" not in asked.headers.get("set-cookie", "")
    # Nor a cookie set by someone else's hand.
    client.cookies.set("lt_next", elsewhere, path="/signin")
    path = (await new_link(session_maker)).removeprefix("http://testserver")

    signed_in = await client.post(path)

    assert signed_in.headers["location"] == "/"


async def test_over_https_the_cookie_is_secure(
    console_app: object, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    from httpx import ASGITransport

    url = await new_link(session_maker, base_url="https://lt.example.org")
    async with AsyncClient(
        transport=ASGITransport(app=console_app),  # type: ignore[arg-type]
        base_url="https://lt.example.org",
    ) as https:
        answer = await https.post(url.removeprefix("https://lt.example.org"))
    assert "Secure" in answer.headers["set-cookie"]


async def test_behind_a_proxy_that_ends_https_the_cookie_is_secure_too(
    console_settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    from httpx import ASGITransport

    settings = console_settings.model_copy(update={"public_url": "https://lt.example.org"})
    app = build_app(settings, session_maker=session_maker, bot_parts=None)
    url = await new_link(session_maker)
    # The proxy is not on this machine's loopback: the request arrives as plain http.
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver"
    ) as proxied:
        answer = await proxied.post(url.removeprefix("http://testserver"))
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


async def test_an_expired_link_signs_nobody_in(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    path = (await new_link(session_maker)).removeprefix("http://testserver")
    async with session_maker() as session:
        row = await session.scalar(select(ConsoleSession))
        assert row is not None
        row.link_expires_at -= console_sessions.LINK_LIFETIME
        await session.commit()
    assert (await client.get(path)).status_code == 410
    assert (await client.post(path)).status_code == 410
    assert (await client.get("/")).status_code == 303


async def test_only_hashes_of_the_secrets_are_stored(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    url = await new_link(session_maker)
    link_secret = url.rsplit("/", 1)[1]
    answer = await client.post(url.removeprefix("http://testserver"))
    session_secret = answer.cookies["lt_console"]
    async with session_maker() as session:
        row = await session.scalar(select(ConsoleSession))
    assert row is not None
    stored = {row.link_hash, row.session_hash}
    assert link_secret not in stored
    assert session_secret not in stored


async def test_a_session_ends_after_a_while_without_a_request(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    async with session_maker() as session:
        row = await session.scalar(select(ConsoleSession))
        assert row is not None and row.last_seen_at is not None
        row.last_seen_at -= console_sessions.IDLE_TIMEOUT + timedelta(seconds=1)
        await session.commit()
    assert (await client.get("/")).status_code == 303


async def test_a_session_past_its_longest_life_is_not_listed_as_signed_in(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """Used an hour ago but signed in over a week ago: it opens no page, so the admin's list
    of who is signed in leaves it out too."""
    await sign_in(client, session_maker)
    async with session_maker() as session:
        row = await session.scalar(select(ConsoleSession))
        assert row is not None and row.signed_in_at is not None
        row.signed_in_at -= console_sessions.MAX_AGE + timedelta(hours=1)
        row.created_at = row.signed_in_at
        await session.commit()
        admin = Actor.system("test")
        live, total = await console_sessions.list_sessions(session, actor=admin, limit=10, offset=0)
        assert (live, total) == ([], 0)
        every, _ = await console_sessions.list_sessions(
            session, actor=admin, limit=10, offset=0, live_only=False
        )
        assert [info.id for info in every] == [row.id]
    assert (await client.get("/")).status_code == 303


async def test_sign_out_ends_the_session_and_needs_the_form_token(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await sign_in(client, session_maker)
    forged = await client.post("/signout", data={"csrf": "not-it"})
    assert forged.status_code == 403
    missing = await client.post("/signout")
    assert missing.status_code == 403
    assert (await client.get("/")).status_code == 200
    out = await client.post("/signout", data={"csrf": csrf})
    assert out.status_code == 303
    assert out.headers["location"] == "/signin"
    async with session_maker() as session:
        row = await session.scalar(select(ConsoleSession))
        assert row is not None and row.ended_at is not None
        ended = await session.scalar(
            select(AuditLog).where(
                AuditLog.entity == "console_session",
                AuditLog.entity_id == str(row.id),
                AuditLog.action == "end",
            )
        )
    assert ended is not None and ended.actor == row.ended_by


async def test_an_admin_lists_sessions_and_ends_another_one(
    client: AsyncClient,
    other_client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    csrf = await sign_in(client, session_maker, name="Ana")
    await sign_in(other_client, session_maker, TokenRole.VIEWER, name="Eva")
    listing = await client.get("/access/sessions")
    assert listing.status_code == 200
    assert "Eva" in listing.text and "Ana" in listing.text
    async with session_maker() as session:
        eva = await session.scalar(select(ConsoleSession).where(ConsoleSession.name == "Eva"))
    assert eva is not None
    ended = await client.post(f"/access/sessions/{eva.id}/end", data={"csrf": csrf})
    assert ended.status_code == 303
    assert (await other_client.get("/")).status_code == 303
    async with session_maker() as session:
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "end"))
    assert entry is not None
    assert (entry.actor, entry.entity, entry.entity_id) == (
        "staff:Ana",
        "console_session",
        str(eva.id),
    )


@pytest.mark.parametrize("role", [TokenRole.MEDIATOR, TokenRole.VIEWER])
async def test_only_admins_see_or_end_sessions(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    role: TokenRole,
    programme: object,
) -> None:
    csrf = await sign_in(
        client, session_maker, role, cohorts=["SLV1"] if role is TokenRole.MEDIATOR else None
    )
    assert (await client.get("/access/sessions")).status_code == 403
    assert (await client.post("/access/sessions/1/end", data={"csrf": csrf})).status_code == 403
    home = await client.get("/")
    assert 'href="/access"' not in home.text


async def test_pages_carry_security_headers(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    answer = await client.get("/")
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    css = await client.get("/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await client.get("/static/..%2Fweb.py")).status_code == 404


async def test_console_routes_stay_out_of_the_api_document(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert not any(
        path.startswith(("/signin", "/cohorts", "/access")) for path in document["paths"]
    )


async def test_language_follows_the_browser_then_the_choice(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, session_maker)
    bulgarian = await client.get("/", headers={"Accept-Language": "de-DE, bg;q=0.8, en;q=0.5"})
    assert '<html lang="bg">' in bulgarian.text
    chosen = await client.get("/language", params={"lang": "es", "next": "/access/sessions"})
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/access/sessions"
    spanish = await client.get("/", headers={"Accept-Language": "bg"})
    assert '<html lang="es">' in spanish.text
    elsewhere = await client.get("/language", params={"lang": "fr", "next": "//evil.example"})
    assert elsewhere.headers["location"] == "/"


def test_the_command_line_prints_a_link_alone_on_the_last_line(sqlite_url: str) -> None:
    runner = CliRunner()
    env = {"LT_DATABASE_URL": sqlite_url, "LT_PUBLIC_URL": "https://lt.example.org"}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(cli, ["console", "link", "--role", "admin", "--name", "Ana"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("https://lt.example.org/signin/")
    refused = runner.invoke(
        cli, ["console", "link", "--role", "mediator", "--name", "Mo", "--cohort", "NOPE"], env=env
    )
    assert refused.exit_code == 1
    assert "error:" in refused.stderr


async def test_a_sign_in_form_posted_from_another_site_is_refused(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    path = (await new_link(session_maker)).removeprefix("http://testserver")
    forged = await client.post(path, headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403
    assert (await client.post(path, headers={"Sec-Fetch-Site": "same-origin"})).status_code == 303


def _dev_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev", Path(__file__).parents[2] / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dev_run_prints_a_sign_in_command_that_works_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = _dev_script()
    with monkeypatch.context() as patched:
        patched.setattr(dev, "setup", lambda dev: None)
        patched.setattr(dev.subprocess, "call", lambda *args, **kwargs: 0)
        assert dev.main(["run"]) == 0
    assert dev.link_command() in capsys.readouterr().out
    # A project folder as ``run`` leaves it: its ./data database migrated.
    project = tmp_path / "project"
    project.mkdir()
    (project / ".venv").symlink_to(dev.VENV)
    env = {name: value for name, value in os.environ.items() if not name.startswith("LT_")}
    program = str(dev.BIN / "learntogether")
    subprocess.run([program, "db", "upgrade"], cwd=project, env=env, check=True)
    # Pasted in a terminal that is somewhere else, it still signs in to that database.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        ["sh", "-c", dev.link_command(project)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("http://127.0.0.1:8000/signin/")
    assert not (elsewhere / "data").exists()


def test_the_console_loads_nothing_from_another_site() -> None:
    """No CDN at run time (issue 13): the templates, the stylesheet and the scripts name only
    this site's own files (an SVG's namespace is a name, not a download)."""
    import learntogether.console

    folder = Path(learntogether.console.__file__).parent
    found = []
    for path in [*folder.glob("templates/**/*.html"), *folder.glob("static/*")]:
        text = path.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")
        found += [f"{path.name}: {hit}" for hit in re.findall(r"(?:https?:)?//[\w.-]+\.\w+", text)]
    assert found == []


async def test_a_mistyped_address_opens_the_consoles_page_and_the_apis_stays_json(
    client: AsyncClient,
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "bg"}
    page = await client.get("/cohortz", headers=browser)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Недостъпно" in page.text
    assert page.headers["cache-control"] == "no-store"
    # Scripts keep the API's problem document, for the API's addresses and for what is not a
    # browser.
    for path, headers in (("/api/v1/cohortz", browser), ("/cohortz", {"Accept": "*/*"})):
        problem = await client.get(path, headers=headers)
        assert problem.status_code == 404
        assert problem.headers["content-type"] == "application/problem+json"
    assert (await client.post("/cohortz", headers=browser)).headers["content-type"] == (
        "application/problem+json"
    )
