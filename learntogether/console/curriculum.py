"""Curriculum: tracks and lessons, a lesson as learners see it in Telegram, the translation
matrix, editing a draft as YAML, the diff between two versions, publishing and archiving.

Everyone signed in reads, as every token reads ``GET /api/v1/lessons``; only admins write, through
``lessons.save_draft``, ``publish_lesson`` and ``archive_lesson`` exactly as the API does. The
preview draws the bot's own screens (``learntogether.screens``) in the learner's language.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from learntogether.console.preview import telegram_bubble
from learntogether.console.web import (
    Console,
    ConsoleDep,
    ConsoleRoute,
    DbDep,
    FormStaffDep,
    StaffDep,
    reader_locale,
    redirect,
    render,
    translator,
)
from learntogether.content.files import LineProblem, locate, parse_lesson_text, to_yaml
from learntogether.content.render import RenderedLesson, RenderedQuestion
from learntogether.content.schema import LessonDocument
from learntogether.db.models import QuestionKind, TokenRole
from learntogether.i18n import (
    LANGUAGE_NAMES,
    SOURCE_LOCALE,
    SUPPORTED_LOCALES,
    learner_locales,
    said,
)
from learntogether.screens import Button, feedback_text, question_layout, step_layout
from learntogether.services import lessons, tracks
from learntogether.services.actors import Actor
from learntogether.services.console_sessions import SignedIn
from learntogether.services.errors import Conflict, InvalidInput
from learntogether.services.inputs import MAX_INTEGER
from learntogether.services.quizzes import judge

router = APIRouter(prefix="/curriculum", route_class=ConsoleRoute)
Slug = Annotated[str, Path(max_length=40)]
Version = Annotated[int | None, Query(ge=1, le=MAX_INTEGER)]
# The whole curriculum is a few dozen lessons and tracks: one page shows it.
EVERYTHING = 1000
# A lesson document is a few dozen kilobytes at most; anything far larger is not a lesson.
DOCUMENT_LIMIT = 200_000
DIFF_CONTEXT = 3


@dataclass(frozen=True)
class Reply:
    """An answer a learner may give and what the bot says back."""

    answer: str
    bubble: Markup | None


@dataclass(frozen=True)
class Screen:
    """One message of the lesson as Telegram shows it."""

    kind: str
    """``step`` or ``question``."""
    number: int
    count: int
    bubble: Markup | None
    """None when Telegram would refuse the text's markup."""
    rows: tuple[tuple[Button, ...], ...]
    poll: tuple[str, ...]
    """A poll question's options, which Telegram shows as a quiz poll under the message."""
    replies: tuple[Reply, ...]


def _replies(question: RenderedQuestion) -> tuple[Reply, ...]:
    """What the bot answers to each option, or for a multiple-choice question to the right set
    and to every option ticked (so every option's feedback shows)."""
    kind = QuestionKind(question.kind)
    if kind in (QuestionKind.LIKERT, QuestionKind.OPEN):
        return ()
    texts = [option.text for option in question.options]
    if kind is QuestionKind.MULTIPLE:
        right = [number for number, option in enumerate(question.options) if option.correct]
        choices = [right, list(range(len(question.options)))]
    else:
        choices = [[number] for number in range(len(question.options))]
    answers = [", ".join(texts[number] for number in chosen) for chosen in choices]
    replies = []
    for answer, chosen in zip(answers, choices, strict=True):
        judged = judge(question, chosen)
        text = feedback_text(
            correct=judged.correct,
            feedback=judged.feedback,
            explanation=judged.explanation,
            chosen=judged.chosen,
            right=judged.right,
        )
        replies.append(Reply(answer, telegram_bubble(text) if text else None))
    return tuple(replies)


def learner_screens(
    console: Console, lesson: RenderedLesson, cohort_locale: str | None = None
) -> list[Screen]:
    """Every step and question of the lesson as the bot sends them, with its interface strings
    in the learner's catalogs (the same chain the bot speaks along)."""
    catalog = learner_locales(
        lesson.requested_locale, cohort_locale, default=console.settings.default_locale
    )
    screens: list[Screen] = []
    with console.i18n.context(), console.i18n.use_locale(catalog.catalog):
        for index in range(len(lesson.steps)):
            layout = step_layout(lesson, index, show_notice=index == 0)
            screens.append(
                Screen(
                    "step",
                    index + 1,
                    len(lesson.steps),
                    telegram_bubble(layout.text),
                    layout.rows,
                    (),
                    (),
                )
            )
        for index, question in enumerate(lesson.questions):
            layout = question_layout(question, index, len(lesson.questions))
            screens.append(
                Screen(
                    "question",
                    index + 1,
                    len(lesson.questions),
                    telegram_bubble(layout.text),
                    layout.rows,
                    tuple(option.text for option in question.options) if question.poll else (),
                    _replies(question),
                )
            )
    return screens


def _as_yaml(document: dict[str, Any]) -> str:
    """A stored document as a lesson file reads, fields in the schema's order (PostgreSQL's
    JSONB keeps its own order of keys)."""
    return to_yaml(LessonDocument.model_validate(document))


@router.get("")
async def curriculum(request: Request, staff: StaffDep, session: DbDep) -> HTMLResponse:
    staff.actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    found_tracks, _count = await tracks.list_tracks(session, limit=EVERYTHING, offset=0)
    found, total = await lessons.list_lessons(session, limit=EVERYTHING, offset=0)
    by_track: dict[str | None, list[lessons.LessonSummary]] = {}
    for lesson in found:
        by_track.setdefault(lesson.track, []).append(lesson)
    return render(
        request,
        "curriculum/list.html",
        {"tracks": found_tracks, "by_track": by_track, "total": total},
    )


@router.get("/translations")
async def translations(request: Request, staff: StaffDep, session: DbDep) -> HTMLResponse:
    staff.actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    rows = await lessons.translation_matrix(session)
    return render(
        request,
        "curriculum/translations.html",
        {"rows": rows, "columns": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES]},
    )


@router.get("/lessons/{slug}")
async def lesson_page(
    request: Request,
    slug: Slug,
    staff: StaffDep,
    session: DbDep,
    console: ConsoleDep,
    locale: Annotated[str | None, Query(max_length=8)] = None,
    version: Version = None,
    fallback: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    return await _lesson_page(
        request, slug, staff.actor, session, console, locale, version, fallback=fallback
    )


async def _lesson_page(
    request: Request,
    slug: str,
    actor: Actor,
    session: DbDep,
    console: Console,
    locale: str | None,
    version: int | None,
    *,
    fallback: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The lesson beside English as a learner reading ``locale`` sees it, in a cohort whose
    language is ``fallback`` (what the learner's own language lacks comes in that one first)."""
    actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    if locale not in SUPPORTED_LOCALES:
        # Side by side with English: the reader's own language, else the first translation.
        reader = reader_locale(request)
        locale = reader if reader != SOURCE_LOCALE else SUPPORTED_LOCALES[1]
    fallback = fallback if fallback in SUPPORTED_LOCALES else None
    detail = await lessons.get_lesson(session, slug)
    versions = await lessons.list_versions(session, slug)
    columns = []
    for code in dict.fromkeys([SOURCE_LOCALE, locale]):
        info, rendered = await lessons.preview_lesson(
            session,
            slug=slug,
            locale=code,
            fallback_locale=fallback,
            default_locale=console.settings.default_locale,
            version=version,
        )
        fallbacks = [LANGUAGE_NAMES.get(found, found) for found in rendered.fallback_locales]
        screens = learner_screens(console, rendered, fallback)
        columns.append((code, rendered, screens, fallbacks))
    return render(
        request,
        "curriculum/lesson.html",
        {
            "lesson": detail,
            "shown": info,
            "versions": versions,
            "chosen": locale,
            "fallback": fallback,
            "choices": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
            "names": LANGUAGE_NAMES,
            "columns": columns,
            "pairs": list(zip(*(column[2] for column in columns), strict=True)),
            "may_edit": actor.role is TokenRole.ADMIN,
            "problem": problem,
            "done": request.query_params.get("done", ""),
        },
        status=status,
    )


@router.get("/lessons/{slug}/edit")
async def edit(request: Request, slug: Slug, staff: StaffDep, session: DbDep) -> HTMLResponse:
    staff.actor.check_role()
    detail = await lessons.get_lesson(session, slug)
    return render(
        request,
        "curriculum/edit.html",
        {"lesson": detail, "text": _as_yaml(detail.document), "problems": []},
    )


@router.post("/lessons/{slug}/edit")
async def save(
    request: Request,
    slug: Slug,
    staff: FormStaffDep,
    session: DbDep,
    text: Annotated[str, Form(alias="document", max_length=DOCUMENT_LIMIT)] = "",
) -> Response:
    """Save the text as the lesson's draft, or give it back with every problem at its line."""
    staff.actor.check_role()
    detail = await lessons.get_lesson(session, slug)
    _ = translator(request)
    document, lines, problems = parse_lesson_text(text)
    problems = [replace(found, message=said(found.message, _)) for found in problems]
    if document is not None and document.slug != slug:
        message = _("the slug is '{found}' but this is the lesson '{slug}'")
        problems = [locate(lines, "$.slug", message.format(found=document.slug, slug=slug))]
    elif document is not None:
        try:
            await lessons.save_draft(session, document=document, actor=staff.actor)
        except InvalidInput as error:
            await session.rollback()
            problems = [locate(lines, found.path, found.said(_)) for found in error.problems]
            problems = problems or [LineProblem(1, "", error.said(_))]
        else:
            return redirect(f"/curriculum/lessons/{slug}?done=saved")
    return render(
        request,
        "curriculum/edit.html",
        {"lesson": detail, "text": text, "problems": sorted(problems, key=lambda p: p.line)},
        status=422,
    )


@dataclass(frozen=True)
class DiffLine:
    change: str
    """``same``, ``removed`` or ``added``."""
    before: int | None
    after: int | None
    text: str


def _diff(before: str, after: str) -> list[list[DiffLine]]:
    """The changed parts of two texts with a few lines around each, line by line."""
    old, new = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    hunks = []
    for group in matcher.get_grouped_opcodes(DIFF_CONTEXT):
        hunk = []
        for tag, old_start, old_end, new_start, new_end in group:
            if tag == "equal":
                hunk += [
                    DiffLine("same", old_start + offset + 1, new_start + offset + 1, line)
                    for offset, line in enumerate(old[old_start:old_end])
                ]
                continue
            hunk += [
                DiffLine("removed", old_start + offset + 1, None, line)
                for offset, line in enumerate(old[old_start:old_end])
            ]
            hunk += [
                DiffLine("added", None, new_start + offset + 1, line)
                for offset, line in enumerate(new[new_start:new_end])
            ]
        hunks.append(hunk)
    return hunks


@router.get("/lessons/{slug}/diff")
async def diff(
    request: Request,
    slug: Slug,
    staff: StaffDep,
    session: DbDep,
    before: Annotated[int | None, Query(alias="from", ge=1, le=MAX_INTEGER)] = None,
    after: Annotated[int | None, Query(alias="to", ge=1, le=MAX_INTEGER)] = None,
) -> HTMLResponse:
    staff.actor.check_role(TokenRole.MEDIATOR, TokenRole.VIEWER)
    versions = await lessons.list_versions(session, slug)
    newest = versions[0].number
    after = after or newest
    before = before or max(after - 1, 1)
    old_info, old_document = await lessons.get_version(session, slug, before)
    new_info, new_document = await lessons.get_version(session, slug, after)
    return render(
        request,
        "curriculum/diff.html",
        {
            "slug": slug,
            "versions": versions,
            "before": old_info,
            "after": new_info,
            "hunks": _diff(_as_yaml(old_document), _as_yaml(new_document)),
        },
    )


async def _refused(
    request: Request,
    slug: str,
    staff: SignedIn,
    session: DbDep,
    console: Console,
    error: Conflict | InvalidInput,
) -> HTMLResponse:
    """The lesson's page again, saying why the change was refused (with each problem)."""
    await session.rollback()
    _ = translator(request)
    reason = " ".join(
        [error.said(_)]
        + [f"{found.path}: {found.said(_)}." for found in getattr(error, "problems", [])]
    )
    status = 422 if isinstance(error, InvalidInput) else 409
    return await _lesson_page(
        request, slug, staff.actor, session, console, None, None, problem=reason, status=status
    )


@router.post("/lessons/{slug}/publish")
async def publish(
    request: Request, slug: Slug, staff: FormStaffDep, session: DbDep, console: ConsoleDep
) -> Response:
    staff.actor.check_role()
    try:
        await lessons.publish_lesson(session, slug=slug, actor=staff.actor)
    except (Conflict, InvalidInput) as error:
        return await _refused(request, slug, staff, session, console, error)
    return redirect(f"/curriculum/lessons/{slug}?done=published")


@router.post("/lessons/{slug}/archive")
async def archive(
    request: Request, slug: Slug, staff: FormStaffDep, session: DbDep, console: ConsoleDep
) -> Response:
    staff.actor.check_role()
    try:
        await lessons.archive_lesson(session, slug=slug, actor=staff.actor)
    except Conflict as error:
        return await _refused(request, slug, staff, session, console, error)
    return redirect(f"/curriculum/lessons/{slug}?done=archived")
