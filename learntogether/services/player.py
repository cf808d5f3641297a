"""Taking a lesson step by step: where the learner is, on the version they started.

A learner starts the newest published version; a lesson republished while they read it does not
move them. Buttons carry the progress and version they were made for, so a button from an older
version is recognised and answered politely instead of moving the learner somewhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n

from learntogether.content.render import RenderedLesson, RenderedQuestion
from learntogether.db import activity_log as activity
from learntogether.db import tables
from learntogether.db.base import utcnow
from learntogether.db.models import (
    LessonProgress,
    LessonStatus,
    ProgressStatus,
    QuestionKind,
    User,
    Verb,
    VersionStatus,
)
from learntogether.i18n import sentence_gettext
from learntogether.services import published
from learntogether.services.errors import N_, DomainError, NotFound

SCORED = (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE, QuestionKind.MULTIPLE)


def is_correct(question: RenderedQuestion, chosen: Sequence[int]) -> bool | None:
    """Whether the chosen options are right; None when the question has no right answer.

    ``single`` and ``true_false`` are right when the one correct option is chosen, ``multiple``
    when exactly the correct options are (quizzes and reviews judge alike).
    """
    if QuestionKind(question.kind) not in SCORED:
        return None
    right = {index for index, option in enumerate(question.options) if option.correct}
    return set(chosen) == right


"""The question kinds with a right answer; ``likert`` and ``open`` have none."""


# Built once: a press runs them, and SQLAlchemy keys its compiled statements by the statement.
# A press on a lesson's button (a step, the quiz's start, finishing) reads its progress as a
# plain row, on the tables, and a step writes it so: no ORM entity to load and no unit of work to
# flush for one column (the ORM's loading and flush were a fifth of the bot's samples on the
# lesson path).
_OWN_PROGRESS = (
    select(
        tables.progress.c.user_id,
        tables.progress.c.lesson_id,
        tables.progress.c.lesson_version_id,
        tables.progress.c.step_index,
        tables.progress.c.status,
        tables.versions.c.id,
        tables.versions.c.lesson_id,
        tables.versions.c.content_hash,
        tables.lessons.c.track_id,
    )
    .select_from(
        tables.progress.join(
            tables.versions, tables.versions.c.id == tables.progress.c.lesson_version_id
        ).join(tables.lessons, tables.lessons.c.id == tables.versions.c.lesson_id)
    )
    .where(tables.progress.c.id == bindparam("progress_id"))
)
# Opening a lesson: the lesson, the learner's progress in it with its version, and the lesson's
# newest published version (the one a start or a restart opens), in one statement on the tables.
_progress_version = tables.versions.alias("progress_version")
_newest_version = tables.versions.alias("newest_version")
_NEWEST_NUMBER = (
    select(func.max(tables.versions.c.number))
    .where(
        tables.versions.c.lesson_id == tables.lessons.c.id,
        tables.versions.c.status == VersionStatus.PUBLISHED,
    )
    .correlate(tables.lessons)
    .scalar_subquery()
)
_LESSON_AND_PROGRESS = (
    select(
        tables.lessons.c.status.label("lesson_status"),
        tables.lessons.c.track_id,
        tables.progress.c.id.label("progress_id"),
        tables.progress.c.status,
        tables.progress.c.step_index,
        _progress_version.c.id.label("version_id"),
        _progress_version.c.content_hash.label("version_hash"),
        _newest_version.c.id.label("newest_id"),
        _newest_version.c.content_hash.label("newest_hash"),
    )
    .select_from(
        tables.lessons.outerjoin(
            tables.progress,
            (tables.progress.c.lesson_id == tables.lessons.c.id)
            & (tables.progress.c.user_id == bindparam("user_id")),
        )
        .outerjoin(_progress_version, _progress_version.c.id == tables.progress.c.lesson_version_id)
        .outerjoin(
            _newest_version,
            (_newest_version.c.lesson_id == tables.lessons.c.id)
            & (_newest_version.c.number == _NEWEST_NUMBER),
        )
    )
    .where(tables.lessons.c.id == bindparam("lesson_id"))
)
# A finished lesson read again: its progress moves to the newest version, from the start.
_RESTART = (
    tables.progress.update()
    .where(tables.progress.c.id == bindparam("progress_id"))
    .values(lesson_version_id=bindparam("newest_id"), step_index=0)
)
# SQL text, to go inside the step's record on PostgreSQL (``activity_log.Alongside``).
_MOVE_TO_STEP = text(
    f"UPDATE {tables.progress.name} SET step_index = :to_step, updated_at = :moved_at"  # noqa: S608 (model names)
    " WHERE id = :progress_id"
).bindparams(
    bindparam("to_step", type_=tables.progress.c.step_index.type),
    bindparam("moved_at", type_=tables.progress.c.updated_at.type),
    bindparam("progress_id", type_=tables.progress.c.id.type),
)

# A lesson opened for the first time: its progress written with the start's record.
_FIRST_PROGRESS = text(
    f"INSERT INTO {tables.progress.name}"  # noqa: S608 (model names)
    " (user_id, lesson_id, lesson_version_id, step_index, status, started_at, updated_at)"
    " VALUES (:opener_id, :opened_lesson_id, :opened_version_id, 0, :opened_status,"
    " :opened_at, :opened_at) RETURNING id"
).bindparams(
    bindparam("opener_id", type_=tables.progress.c.user_id.type),
    bindparam("opened_lesson_id", type_=tables.progress.c.lesson_id.type),
    bindparam("opened_version_id", type_=tables.progress.c.lesson_version_id.type),
    bindparam("opened_status", type_=tables.progress.c.status.type),
    bindparam("opened_at", type_=tables.progress.c.started_at.type),
)


class StaleButton(DomainError):
    """A button made for another version or an older attempt than the learner's current one."""

    title = "Outdated button"

    def __init__(self, detail: str, *, lesson_id: int | None = None) -> None:
        super().__init__(detail)
        self.lesson_id = lesson_id


@dataclass(frozen=True)
class PlayerView:
    progress_id: int
    lesson_id: int
    track_id: int | None
    version_id: int
    step_index: int
    lesson: RenderedLesson
    completed: bool
    restarted: bool
    """The learner had finished the lesson and is reading it again."""

    @property
    def step_count(self) -> int:
        return len(self.lesson.steps)

    @property
    def is_last_step(self) -> bool:
        return self.step_index == self.step_count - 1

    @property
    def has_quiz(self) -> bool:
        return bool(self.lesson.questions)

    @property
    def graded(self) -> bool:
        """Whether the quiz has a question with a right answer (else it is a survey)."""
        return any(QuestionKind(question.kind) in SCORED for question in self.lesson.questions)


async def view_of(
    session: AsyncSession,
    progress: LessonProgress,
    chain: Sequence[str],
    *,
    restarted: bool = False,
    ref: published.VersionRef | None = None,
) -> PlayerView:
    """Where ``progress`` is, in its version (``ref`` when the caller has just read it)."""
    if ref is None or ref.id != progress.lesson_version_id:
        ref = await published.version_ref(session, progress.lesson_version_id)
    assert ref is not None
    return await _view(session, progress, ref, chain, restarted=restarted)


async def _view(
    session: AsyncSession,
    progress: LessonProgress,
    ref: published.VersionRef,
    chain: Sequence[str],
    *,
    restarted: bool = False,
) -> PlayerView:
    return await view_at(
        session,
        ref,
        chain,
        progress_id=progress.id,
        lesson_id=progress.lesson_id,
        step_index=progress.step_index,
        status=progress.status,
        restarted=restarted,
    )


async def view_at(
    session: AsyncSession,
    ref: published.VersionRef,
    chain: Sequence[str],
    *,
    progress_id: int,
    lesson_id: int,
    step_index: int,
    status: ProgressStatus,
    restarted: bool = False,
) -> PlayerView:
    """Where a progress read as a plain row is, in its version ``ref``."""
    return PlayerView(
        progress_id=progress_id,
        lesson_id=lesson_id,
        track_id=ref.track_id,
        version_id=ref.id,
        step_index=step_index,
        lesson=await published.rendered(session, ref, chain),
        completed=status is ProgressStatus.COMPLETED,
        restarted=restarted,
    )


async def open_lesson(
    session: AsyncSession,
    *,
    learner: User,
    lesson_id: int,
    chain: Sequence[str],
    assisted: bool = False,
) -> PlayerView:
    """Resume where the learner left the lesson, or start the newest published version."""
    row = (
        await session.execute(_LESSON_AND_PROGRESS, {"lesson_id": lesson_id, "user_id": learner.id})
    ).first()
    if row is None or row.lesson_status is not LessonStatus.PUBLISHED or row.newest_id is None:
        raise NotFound("This lesson is not offered any more.")
    if row.progress_id is not None and row.status is ProgressStatus.IN_PROGRESS:
        ref = published.VersionRef(row.version_id, lesson_id, row.version_hash, row.track_id)
        return await view_at(
            session,
            ref,
            chain,
            progress_id=row.progress_id,
            lesson_id=lesson_id,
            step_index=row.step_index,
            status=row.status,
        )
    newest = published.VersionRef(row.newest_id, lesson_id, row.newest_hash, row.track_id)
    started = {
        "track_id": row.track_id,
        "lesson_id": lesson_id,
        "lesson_version_id": newest.id,
        "assisted": assisted,
    }
    if row.progress_id is None:
        # The first time: the progress is written inside the start's record (PostgreSQL), as
        # a plain row, no ORM object to flush.
        first = {
            "opener_id": learner.id,
            "opened_lesson_id": lesson_id,
            "opened_version_id": newest.id,
            "opened_status": ProgressStatus.IN_PROGRESS,
            "opened_at": utcnow(),
        }
        progress_id = await activity.record(
            session,
            learner,
            Verb.STARTED,
            alongside=activity.Alongside(_FIRST_PROGRESS, first, returning=True),
            **started,
        )
        return PlayerView(
            progress_id=progress_id,
            lesson_id=lesson_id,
            track_id=newest.track_id,
            version_id=newest.id,
            step_index=0,
            lesson=await published.rendered(session, newest, chain),
            completed=False,
            restarted=False,
        )
    # Reading a finished lesson again: the newest version, from the start; the result stays.
    await session.execute(_RESTART, {"progress_id": row.progress_id, "newest_id": newest.id})
    await activity.record(session, learner, Verb.STARTED, **started)
    return await view_at(
        session,
        newest,
        chain,
        progress_id=row.progress_id,
        lesson_id=lesson_id,
        step_index=0,
        status=row.status,
        restarted=True,
    )


async def own_progress(
    session: AsyncSession, *, learner: User, progress_id: int, version_id: int
) -> Any:
    """The learner's progress a button points at and its version, read at once as one plain row
    (``_OWN_PROGRESS``: ``lesson_id``, ``step_index``, ``status``…, and the version's columns
    that ``published.ref_of`` reads); buttons of another version are refused."""
    row = (await session.execute(_OWN_PROGRESS, {"progress_id": progress_id})).first()
    if row is None or row.user_id != learner.id:
        raise StaleButton("This button belongs to a lesson you no longer have open.")
    if row.lesson_version_id != version_id:
        raise StaleButton(
            "This button is from an older version of the lesson.", lesson_id=row.lesson_id
        )
    return row


async def own_view(
    session: AsyncSession,
    *,
    learner: User,
    progress_id: int,
    version_id: int,
    chain: Sequence[str],
) -> PlayerView:
    """Where the learner is in the lesson a button of theirs points at (``own_progress``)."""
    row = await own_progress(
        session, learner=learner, progress_id=progress_id, version_id=version_id
    )
    return await view_at(
        session,
        published.ref_of(row),
        chain,
        progress_id=progress_id,
        lesson_id=row.lesson_id,
        step_index=row.step_index,
        status=row.status,
    )


async def go_to_step(
    session: AsyncSession,
    *,
    learner: User,
    progress_id: int,
    version_id: int,
    index: int,
    chain: Sequence[str],
) -> PlayerView:
    """Move to step ``index`` (Next or Back); each step reached is recorded for the funnel.

    The progress is read (``own_progress``) and moved (``_MOVE_TO_STEP``) as a plain row;
    moving forward is written with the step's record (one statement on PostgreSQL); a press to
    the step the learner is on writes nothing."""
    row = await own_progress(
        session, learner=learner, progress_id=progress_id, version_id=version_id
    )
    ref = published.ref_of(row)
    lesson = await published.rendered(session, ref, chain)
    index = max(0, min(index, len(lesson.steps) - 1))
    move = {"progress_id": progress_id, "to_step": index, "moved_at": utcnow()}
    if index > row.step_index:
        await activity.record(
            session,
            learner,
            Verb.STEP,
            track_id=ref.track_id,
            lesson_id=row.lesson_id,
            lesson_version_id=version_id,
            data={"step": index},
            alongside=activity.Alongside(_MOVE_TO_STEP, move),
        )
    elif index != row.step_index:
        await session.execute(_MOVE_TO_STEP, move)
    return PlayerView(
        progress_id=progress_id,
        lesson_id=row.lesson_id,
        track_id=ref.track_id,
        version_id=ref.id,
        step_index=index,
        lesson=lesson,
        completed=row.status is ProgressStatus.COMPLETED,
        restarted=False,
    )


@dataclass(frozen=True)
class StepPreview:
    """The screen a lesson opens at, read without opening it (a reminder shows it)."""

    lesson_id: int
    step_index: int
    lesson: RenderedLesson


async def preview_lesson(
    session: AsyncSession, *, learner: User, lesson_id: int, chain: Sequence[str]
) -> StepPreview | None:
    """Where ``open_lesson`` would put the learner now: the step they left a lesson under way at,
    else the first step of the newest published version. Nothing is written (no progress, no
    activity): the learner has not started anything by reading it. None: not offered."""
    progress = await session.scalar(
        select(LessonProgress).where(
            LessonProgress.user_id == learner.id, LessonProgress.lesson_id == lesson_id
        )
    )
    if progress is not None and progress.status is ProgressStatus.IN_PROGRESS:
        view = await view_of(session, progress, chain)
        return StepPreview(lesson_id, view.step_index, view.lesson)
    newest = (await published.newest_published(session, [lesson_id])).get(lesson_id)
    if newest is None:
        return None
    return StepPreview(lesson_id, 0, await published.rendered(session, newest, chain))


def language_name(code: str, gettext: Callable[[str], str]) -> str:
    """A language's name in the reader's language, for sentences about languages."""
    names = {
        "en": gettext("English"),
        "bg": gettext("Bulgarian"),
        "es": gettext("Spanish"),
        "fr": gettext("French"),
        "nl": gettext("Dutch"),
        "ro": gettext("Romanian"),
        "rom": gettext("Romani"),
    }
    return names.get(code, code)


NOT_YET_IN = N_("<i>This lesson is not yet in {language}; here it is in {shown}.</i>")
PARTLY_IN = N_("<i>Parts of this lesson are not yet in {language}; they are in {shown}.</i>")


def language_notice(lesson: RenderedLesson, i18n: I18n, locale: str | None = None) -> str | None:
    """What is true about the lesson's language, above it: not yet in the learner's language and
    shown in which instead, or partly in other languages; None when it is wholly theirs.

    Said in ``locale`` (a catalog or a chain of them, ``rom>bg``; the current one of ``i18n`` by
    default, as the bot's middleware sets it): the languages are named by the same catalog that
    gave the sentence, never a Bulgarian sentence with a Romani name in it."""
    locale = locale or i18n.current_locale
    wanted, shown = lesson.requested_locale, lesson.locale
    if shown != wanted:
        gettext = sentence_gettext(i18n, NOT_YET_IN, locale)
        return gettext(NOT_YET_IN).format(
            language=language_name(wanted, gettext), shown=language_name(shown, gettext)
        )
    if lesson.fallback_locales:
        gettext = sentence_gettext(i18n, PARTLY_IN, locale)
        return gettext(PARTLY_IN).format(
            language=language_name(wanted, gettext),
            shown=", ".join(language_name(code, gettext) for code in lesson.fallback_locales),
        )
    return None
