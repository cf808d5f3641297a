"""Assisted mode on a cohort's page: enrol a parent without a phone, record a quiz answered on
paper by ticking the answers on a form built from the lesson's quiz, and print a lesson's quiz
sheet (PDF) in a chosen language. The same services as ``/api/v1/cohorts/{code}/participants``
and ``/assisted-quizzes``: everything recorded is flagged assisted.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from learntogether.console.cohorts import Code, render_cohort, validation_errors
from learntogether.console.web import (
    BotUsernameDep,
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
from learntogether.content.render import RenderedLesson
from learntogether.documents.quiz_sheet import QuizSheetTexts, SheetQuestion, render_quiz_sheet_pdf
from learntogether.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, learner_locales
from learntogether.screens import likert_labels
from learntogether.services import assisted, cohorts
from learntogether.services.actors import Actor
from learntogether.services.assisted import AssistedAnswer, AssistedQuiz, ParticipantInput
from learntogether.services.errors import InvalidInput
from learntogether.services.inputs import MAX_ROW_ID

router = APIRouter(prefix="/cohorts", route_class=ConsoleRoute)


PARTICIPANT_FIELDS = ("first_name", "role", "locale")
MEMBERS_LISTED = 500
Slug = Annotated[str, Query(max_length=64)]


@router.post("/{code}/participants")
async def enrol(
    request: Request,
    code: Code,
    staff: FormStaffDep,
    session: DbDep,
    username: BotUsernameDep,
    console: ConsoleDep,
) -> Response:
    """Someone without Telegram joins the cohort; their consent was taken in person."""
    fields = await request.form()
    form = {name: str(fields.get(name, ""))[:300].strip() for name in PARTICIPANT_FIELDS}
    try:
        data = ParticipantInput(
            first_name=form["first_name"], role=form["role"], locale=form["locale"] or None
        )
        person = await assisted.add_participant(
            session,
            cohort_code=code,
            data=data,
            actor=staff.actor,
            default_locale=console.settings.default_locale,
        )
    except ValidationError as error:
        _ = translator(request)
        errors = validation_errors(
            error,
            {
                "first_name": _("Give their first name (at most 128 characters)."),
                "role": _("Choose a role from the list."),
                "locale": _("Choose a language from the list."),
            },
        )
    except InvalidInput as error:
        await session.rollback()
        errors = {"locale": error.problems_said(translator(request))}
    else:
        return redirect(f"/cohorts/{code}/paper-quiz?user={person.user_id}&done=enrolled")
    return await render_cohort(
        request, session, staff.actor, code, username, form=form, errors=errors
    )


async def _quiz_page(
    request: Request,
    session: DbDep,
    actor: Actor,
    code: str,
    *,
    default_locale: str,
    user_id: int | None,
    lesson: str,
    ticked: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> HTMLResponse:
    cohort = await cohorts.get_cohort(session, code=code, actor=actor)
    members, _total = await cohorts.members(session, code=code, actor=actor, limit=MEMBERS_LISTED)
    reader = learner_locales(reader_locale(request), None, default=default_locale)
    lessons = await assisted.quiz_lessons(session, chain=reader.content)
    quiz = None
    if user_id is not None and lesson:
        quiz = await assisted.paper_quiz(
            session,
            cohort_code=code,
            user_id=user_id,
            lesson=lesson,
            actor=actor,
            default_locale=default_locale,
        )
    return render(
        request,
        "cohorts/paper_quiz.html",
        {
            "cohort": cohort,
            "members": [member for member in members if member.status.value != "erased"],
            "lessons": lessons,
            "chosen_user": user_id,
            "chosen_lesson": lesson,
            "quiz": quiz,
            "likert": list(enumerate(likert_labels(translator(request)), start=1)),
            "ticked": ticked or {},
            "errors": errors or {},
            "done": request.query_params.get("done", ""),
            "result": request.query_params.get("result", ""),
            "locales": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
            "sheet_locale": cohort.locale or default_locale,
        },
        status=422 if errors else 200,
    )


@router.get("/{code}/paper-quiz")
async def paper_quiz(
    request: Request,
    code: Code,
    staff: StaffDep,
    session: DbDep,
    console: ConsoleDep,
    user: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    lesson: Slug = "",
) -> HTMLResponse:
    """Choose the member and the lesson; then the lesson's quiz as a form to tick."""
    try:
        return await _quiz_page(
            request,
            session,
            staff.actor,
            code,
            default_locale=console.settings.default_locale,
            user_id=user,
            lesson=lesson,
        )
    except InvalidInput as error:
        return await _quiz_page(
            request,
            session,
            staff.actor,
            code,
            default_locale=console.settings.default_locale,
            user_id=None,
            lesson="",
            errors={"choice": error.problems_said(translator(request))},
        )


def _answers(quiz: RenderedLesson, fields: FormData) -> tuple[list[AssistedAnswer], list[str]]:
    """The ticks of the form as the service's answers, and the keys of questions left blank."""
    answers, blank = [], []
    for index, question in enumerate(quiz.questions):
        name = f"q{index}"
        if question.kind == "open":
            text = str(fields.get(name, "")).strip()[:2000]
            answers.append(AssistedAnswer(key=question.key, text=text or None))
            continue
        chosen = [
            int(value)
            for value in fields.getlist(name)[:20]
            if isinstance(value, str) and value.isdigit() and int(value) <= 100
        ]
        if not chosen:
            blank.append(question.key)
        answers.append(AssistedAnswer(key=question.key, choice=chosen))
    return answers, blank


@router.post("/{code}/paper-quiz")
async def record_paper_quiz(
    request: Request,
    code: Code,
    staff: FormStaffDep,
    session: DbDep,
    console: ConsoleDep,
    user_id: Annotated[int, Form(ge=1, le=MAX_ROW_ID)],
    lesson: Annotated[str, Form(max_length=64)],
) -> Response:
    """Record the ticked answers for the member, flagged assisted; a question left blank is
    shown again with the ticks kept."""
    _ = translator(request)
    default_locale = console.settings.default_locale
    quiz = await assisted.paper_quiz(
        session,
        cohort_code=code,
        user_id=user_id,
        lesson=lesson,
        actor=staff.actor,
        default_locale=default_locale,
    )
    fields = await request.form()
    answers, blank = _answers(quiz.lesson, fields)
    ticked = {f"q{i}": fields.getlist(f"q{i}") for i in range(len(quiz.lesson.questions))}
    errors: dict[str, list[str]] = {key: [_("Tick the answer given on paper.")] for key in blank}
    if not errors:
        try:
            result = await assisted.record_quiz(
                session,
                cohort_code=code,
                data=AssistedQuiz(user_id=user_id, lesson=lesson, answers=answers),
                actor=staff.actor,
                default_locale=default_locale,
            )
        except InvalidInput as error:
            await session.rollback()
            errors = {"": error.problems_said(_)}
        else:
            outcome = "passed" if result.passed else "recorded"
            score = f"{result.correct}-{result.scored}"
            return redirect(
                f"/cohorts/{code}/paper-quiz?user={user_id}&done={outcome}&result={score}"
            )
    return await _quiz_page(
        request,
        session,
        staff.actor,
        code,
        default_locale=default_locale,
        user_id=user_id,
        lesson=lesson,
        ticked=ticked,
        errors=errors,
    )


@router.get("/{code}/quiz-sheet.pdf")
async def quiz_sheet(
    request: Request,
    code: Code,
    staff: StaffDep,
    session: DbDep,
    console: ConsoleDep,
    lesson: Slug = "",
    locale: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """A lesson's quiz to print in ``locale``, each answer with a box to tick; what is missing in
    that language comes in the cohort's."""
    cohort = await cohorts.get_cohort(session, code=code, actor=staff.actor)
    rendered = await assisted.quiz_sheet(
        session,
        lesson=lesson,
        locale=locale,
        actor=staff.actor,
        fallback_locale=cohort.locale,
        default_locale=console.settings.default_locale,
    )
    # Romani, say, falls back to the cohort's language, string by string, as for its learners.
    chain = learner_locales(locale, cohort.locale, default=console.settings.default_locale)
    catalog = chain.catalog

    def _(message: str) -> str:
        return console.i18n.gettext(message, locale=catalog)

    texts = QuizSheetTexts(
        name_label=_("Name"),
        date_label=_("Date"),
        tick_one=_("Tick one answer."),
        tick_all=_("Tick every answer that is right."),
        tick_agree=_("How much do you agree? Tick one."),
        write=_("Write your answer. No names or personal details, please."),
        likert=likert_labels(_),
    )
    questions = [
        SheetQuestion(question.kind, question.text, [option.text for option in question.options])
        for question in rendered.questions
    ]
    pdf = await asyncio.to_thread(
        functools.partial(
            render_quiz_sheet_pdf,
            title=rendered.title,
            questions=questions,
            locale=locale,
            texts=texts,
            programme=console.settings.programme_name,
        )
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="quiz-{lesson}-{locale}.pdf"',
            "Cache-Control": "no-store",
        },
    )
