"""The ``learntogether`` command line (typer)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from learntogether import runtime
from learntogether.config import BotMode, ConfigError, Settings, load_settings
from learntogether.content.files import Curriculum, load_curriculum, write_curriculum
from learntogether.content.translations import stamp, write_stamps
from learntogether.db import activity_log, migrate, question_sums
from learntogether.db.engine import (
    DatabaseUnavailable,
    check_database,
    create_engine,
    create_session_maker,
    unit_of_work,
)
from learntogether.db.models import TokenRole
from learntogether.logs import configure_logging
from learntogether.runtime import Part, StartupError
from learntogether.services import console_sessions, tokens
from learntogether.services import curriculum as curriculum_service
from learntogether.services.actors import Actor
from learntogether.services.errors import DomainError

app = typer.Typer(
    help="To Learn Together: intercultural learning in Telegram.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for the admin API.", no_args_is_help=True)
lessons_app = typer.Typer(help="The curriculum: lesson files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(lessons_app, name="lessons")
console_app = typer.Typer(help="The web console for programme staff.", no_args_is_help=True)
app.add_typer(console_app, name="console")

CLI_ACTOR = Actor.system("cli")
P = ParamSpec("P")
T = TypeVar("T")
# Errors that are the operator's to fix: one line on stderr, no traceback.
EXPECTED_ERRORS = (ConfigError, DatabaseUnavailable, StartupError, DomainError)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def one_line_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Turn the expected errors of a command into ``error: …`` on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except EXPECTED_ERRORS as error:
            detail = error.detail if isinstance(error, DomainError) else str(error)
            typer.echo(f"error: {detail}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.secrets())
    return settings


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed unit of work."""

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            await check_database(engine)
            if await migrate.current_revision(engine) is None:
                raise StartupError(
                    "the database has no tables yet: run `learntogether db upgrade` first"
                    " (`learntogether run` does it when it starts)"
                )
            async with unit_of_work(create_session_maker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@app.command()
@one_line_errors
def run() -> None:
    """Migrate, then run the API, the scheduler and the bot in one process."""
    settings = _settings()
    asyncio.run(runtime.serve(settings, {Part.API, Part.BOT, Part.SCHEDULER}, migrate=True))


@app.command()
@one_line_errors
def api(
    workers: Annotated[
        int, typer.Option(min=1, help="API worker processes (PostgreSQL only).")
    ] = 1,
) -> None:
    """Run the admin API (and the Telegram webhook in webhook mode)."""
    settings = _settings()
    if workers == 1:
        asyncio.run(runtime.serve(settings, {Part.API}))
        return
    if settings.is_sqlite:
        fail("several API workers need PostgreSQL; SQLite allows one writer (use --workers 1)")
    runtime.bind_socket(settings.api_host, settings.api_port).close()
    import uvicorn

    uvicorn.run(
        "learntogether.runtime:create_app_from_environment",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        log_config=None,
    )


@app.command()
@one_line_errors
def bot() -> None:
    """Run the Telegram bot with long polling."""
    settings = _settings()
    if settings.bot_token is None:
        fail("LT_BOT_TOKEN is not set: there is no bot to run")
    if settings.bot_mode is BotMode.WEBHOOK:
        fail("in webhook mode Telegram posts updates to the API: run 'learntogether api'")
    asyncio.run(runtime.serve(settings, {Part.BOT}))


@app.command()
@one_line_errors
def worker() -> None:
    """Run the scheduler (reminders, nudges and other timed jobs)."""
    asyncio.run(runtime.serve(_settings(), {Part.SCHEDULER}))


def _migrate(operation: Callable[[AsyncEngine], Awaitable[None]]) -> None:
    settings = _settings()

    async def run() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await check_database(engine)
            await operation(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(f"database at {settings.safe_database_url()} is at revision {asyncio.run(run())}")


@db_app.command("upgrade")
@one_line_errors
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database schema up to date."""
    _migrate(lambda engine: migrate.upgrade(engine, revision))


@db_app.command("downgrade")
@one_line_errors
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")],
) -> None:
    """Take the database schema back to an older revision (data in dropped tables is lost)."""
    _migrate(lambda engine: migrate.downgrade(engine, revision))


@db_app.command("recount")
@one_line_errors
def db_recount() -> None:
    """Rebuild what reports read instead of the record: the participation counts and lesson
    reach (from the activities) and item analysis's sums (from the answers)."""

    async def recount(session: AsyncSession) -> tuple[int, int]:
        return await activity_log.rebuild(session), await question_sums.rebuild(session)

    counts, sums = _with_session(_settings(), recount)
    typer.echo(f"participation counts rebuilt: {counts} rows")
    typer.echo(f"item analysis sums rebuilt: {sums} rows")


@token_app.command("create")
@one_line_errors
def token_create(
    role: Annotated[TokenRole, typer.Option(help="What the token may do.")],
    name: Annotated[str, typer.Option(help="Who or what uses it, e.g. 'sliven-mediator'.")],
    cohort: Annotated[
        list[str] | None, typer.Option(help="Cohort code a mediator token reaches (repeatable).")
    ] = None,
) -> None:
    """Create a token; the token itself is printed alone on the last line, once."""
    created = _with_session(
        _settings(),
        lambda session: tokens.create_token(
            session, name=name, role=role, cohort_codes=cohort or [], actor=CLI_ACTOR
        ),
    )
    scope = f" for cohorts {', '.join(created.info.cohorts)}" if created.info.cohorts else ""
    typer.echo(
        f"created {created.info.role.value} token {created.info.id} '{created.info.name}'{scope}."
    )
    typer.echo("Store it now: it is not shown again.", err=True)
    typer.echo(created.secret)


@token_app.command("list")
@one_line_errors
def token_list(
    all_tokens: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
) -> None:
    """List tokens (never their secrets)."""
    items, _total = _with_session(
        _settings(),
        lambda session: tokens.list_tokens(
            session, limit=10_000, offset=0, include_revoked=all_tokens
        ),
    )
    if not items:
        typer.echo("no tokens")
        return
    typer.echo(f"{'ID':>4}  {'ROLE':<8}  {'PREFIX':<8}  {'CREATED':<16}  {'LAST USED':<16}  NAME")
    for item in items:
        used = item.last_used_at.strftime("%Y-%m-%d %H:%M") if item.last_used_at else "never"
        state = " (revoked)" if item.revoked_at else ""
        scope = f" [{', '.join(item.cohorts)}]" if item.cohorts else ""
        typer.echo(
            f"{item.id:>4}  {item.role.value:<8}  {item.prefix:<8}  "
            f"{item.created_at:%Y-%m-%d %H:%M}  {used:<16}  {item.name}{scope}{state}"
        )


@token_app.command("revoke")
@one_line_errors
def token_revoke(
    token: Annotated[str, typer.Argument(help="The token's id, prefix or name.")],
) -> None:
    """Revoke a token; it stops working at once."""
    info = _with_session(
        _settings(), lambda session: tokens.revoke_token(session, reference=token, actor=CLI_ACTOR)
    )
    typer.echo(f"revoked token {info.id} '{info.name}'")


@lessons_app.command("validate")
@one_line_errors
def lessons_validate(
    paths: Annotated[
        list[Path], typer.Argument(help="Curriculum folders, track folders or lesson files.")
    ],
) -> None:
    """Check lesson files; every problem is printed as file:line: message (exit status 1)."""
    curriculum = load_curriculum(paths)
    _print_problems(curriculum)
    if curriculum.problems:
        raise typer.Exit(1)
    stale = f", {len(curriculum.warnings)} stale translation(s)" if curriculum.warnings else ""
    typer.echo(f"ok: {len(curriculum.tracks)} tracks, {len(curriculum.lessons)} lessons{stale}")


@lessons_app.command("stamp")
@one_line_errors
def lessons_stamp(
    files: Annotated[
        list[Path], typer.Argument(help="Lesson files whose translations are updated.")
    ],
    locale: Annotated[
        list[str] | None,
        typer.Option(
            help="A language brought in line with the English (repeat); all when omitted."
        ),
    ] = None,
) -> None:
    """Mark translations as up to date with the lesson's English text (no longer stale)."""
    curriculum = load_curriculum(files)
    if curriculum.problems:
        for problem in curriculum.problems:
            typer.echo(str(problem))
        fail(f"{len(curriculum.problems)} problem(s) found; nothing was stamped")
    for loaded in curriculum.lessons:
        stamped = stamp(loaded.document, locale)
        write_stamps(loaded.file, stamped)
        typer.echo(f"{loaded.file}: {', '.join(sorted(stamped.translated_from))} up to date")


def _print_problems(curriculum: Curriculum) -> None:
    for problem in sorted(curriculum.problems, key=lambda p: (str(p.file), p.line)):
        typer.echo(str(problem))
    for warning in sorted(curriculum.warnings, key=lambda p: (str(p.file), p.line)):
        typer.echo(f"{warning.file}:{warning.line}: warning: {warning.message}")


@lessons_app.command("import")
@one_line_errors
def lessons_import(
    paths: Annotated[
        list[Path], typer.Argument(help="Curriculum folders, track folders or lesson files.")
    ],
) -> None:
    """Import lesson files, all or nothing: changed lessons get a new published version."""
    settings = _settings()
    curriculum = load_curriculum(paths)
    if curriculum.problems:
        _print_problems(curriculum)
        fail(f"{len(curriculum.problems)} problem(s) found; nothing was imported")
    report = _with_session(
        settings,
        lambda session: curriculum_service.import_files(session, curriculum, actor=CLI_ACTOR),
    )
    for outcome, items in (
        ("added", report.added),
        ("changed", report.changed),
        ("unchanged", report.unchanged),
    ):
        for item in items:
            typer.echo(f"{outcome:<9} {item}")
    typer.echo(
        f"{len(report.added)} added, {len(report.changed)} changed, {len(report.unchanged)} unchanged"
    )


@lessons_app.command("export")
@one_line_errors
def lessons_export(
    folder: Annotated[Path, typer.Argument(help="Where to write the track folders.")],
) -> None:
    """Write every track and every lesson's newest version as files that import back unchanged,
    with the recordings they name next to them (``<track>/audio/…``)."""
    track_documents, lesson_documents, audio = _with_session(
        _settings(), curriculum_service.export_curriculum
    )
    written = write_curriculum(folder, track_documents, lesson_documents, audio)
    typer.echo(f"wrote {len(written)} files to {folder}")


@console_app.command("link")
@one_line_errors
def console_link(
    role: Annotated[TokenRole, typer.Option(help="What the staff member may do.")],
    name: Annotated[str, typer.Option(help="Who signs in, as the audit log will name them.")],
    cohort: Annotated[
        list[str] | None, typer.Option(help="Cohort code a mediator reaches (repeatable).")
    ] = None,
) -> None:
    """Print a one-time sign-in link to the console (valid 15 minutes), alone on the last line."""
    settings = _settings()
    link = _with_session(
        settings,
        lambda session: console_sessions.create_link(
            session,
            base_url=console_sessions.base_url(
                settings.public_url, settings.api_host, settings.api_port
            ),
            name=name,
            role=role,
            cohort_codes=cohort or [],
            actor=CLI_ACTOR,
        ),
    )
    typer.echo(
        f"sign-in link for {role.value} '{name.strip()}', valid until "
        f"{link.expires_at:%H:%M} UTC, once:",
        err=True,
    )
    typer.echo(link.url)


def main() -> None:
    app(prog_name="learntogether")


if __name__ == "__main__":
    main()
