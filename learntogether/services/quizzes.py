"""Quizzes: one question at a time, every answer stored, the score and the pass decided here.

Scored questions are ``single``, ``true_false`` (right when the one correct option is chosen) and
``multiple`` (right when exactly the correct options are chosen). ``likert`` statements and
``open`` reflections are stored but not scored. A quiz is passed when the share of scored
questions answered right reaches the lesson's pass score; a quiz with nothing scored (a survey) is
passed by answering it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import RenderedQuestion
from learntogether.db import activity_log as activity
from learntogether.db import question_sums, tables
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Answer,
    ProgressStatus,
    QuestionKind,
    QuizAttempt,
    User,
    Verb,
)
from learntogether.services import before_after, catalogue, certificates, published, review
from learntogether.services.before_after import StatementChange
from learntogether.services.catalogue import LessonEntry
from learntogether.services.errors import InvalidInput
from learntogether.services.player import (
    PlayerView,
    StaleButton,
    is_correct,
    own_progress,
    own_view,
    view_at,
)
from learntogether.services.voice import VOICE_ANSWER, IncomingVoice, keep_voice_note

LIKERT_POINTS = 5


@dataclass(frozen=True)
class QuestionView:
    attempt_id: int
    index: int
    count: int
    question: RenderedQuestion
    player: PlayerView


@dataclass(frozen=True)
class QuizResult:
    correct: int
    scored: int
    pass_score: int | None
    passed: bool

    @property
    def percent(self) -> int | None:
        return round(100 * self.correct / self.scored) if self.scored else None


@dataclass(frozen=True)
class ChosenOption:
    """An option the learner chose in a multiple-choice question, with what it says back."""

    text: str
    correct: bool
    feedback: str | None


@dataclass(frozen=True)
class AnswerOutcome:
    correct: bool | None
    """None for questions without a right answer (likert, open)."""
    feedback: str | None
    explanation: str | None
    next_question: QuestionView | None
    result: QuizResult | None
    """Set when this answer finished the quiz."""
    player: PlayerView
    """The lesson the quiz belongs to, on the learner's version (for "try again")."""
    certificate_id: int | None = None
    """A certificate this answer earned by completing the track."""
    next_lesson: LessonEntry | None = None
    """Set with ``result``: the learner's next lesson (``catalogue.suggested_lesson``), if any."""
    chosen: tuple[ChosenOption, ...] = ()
    """A multiple-choice answer: each option chosen, with its feedback."""
    right: tuple[str, ...] = ()
    """A multiple-choice question: the texts of the right options."""
    before_after: tuple[StatementChange, ...] = ()
    """A post-survey just finished: the learner's own answers before and now."""


@dataclass(frozen=True)
class LessonFinished:
    certificate_id: int | None
    """A certificate finishing the lesson earned by completing the track."""
    next_lesson: LessonEntry | None
    """The learner's next lesson (``catalogue.suggested_lesson``), if any is left."""


@dataclass(frozen=True)
class Judgement:
    """What an answer earns and what the learner is told back."""

    correct: bool | None
    feedback: str | None
    """The chosen option's own feedback (one option chosen, not likert)."""
    explanation: str | None
    chosen: tuple[ChosenOption, ...] = ()
    """A multiple-choice answer: each option chosen, with its feedback."""
    right: tuple[str, ...] = ()
    """A multiple-choice question: the texts of the right options."""


def judge(question: RenderedQuestion, chosen: Sequence[int]) -> Judgement:
    """Right or wrong and the feedback for ``chosen``, as the bot answers it (and the console's
    preview shows it)."""
    kind = QuestionKind(question.kind)
    feedback = (
        question.options[chosen[0]].feedback
        if kind is not QuestionKind.LIKERT and len(chosen) == 1 and question.options
        else None
    )
    if kind is not QuestionKind.MULTIPLE:
        return Judgement(is_correct(question, chosen), feedback, question.explanation)
    return Judgement(
        is_correct(question, chosen),
        feedback,
        question.explanation,
        chosen=tuple(
            ChosenOption(option.text, option.correct, option.feedback)
            for index, option in enumerate(question.options)
            if index in chosen
        ),
        right=tuple(option.text for option in question.options if option.correct),
    )


def decide(correct: int, scored: int, pass_score: int | None) -> QuizResult:
    """Pass when correct/scored reaches pass_score percent; nothing scored is a pass."""
    passed = scored == 0 or 100 * correct >= (pass_score or 0) * scored
    return QuizResult(correct=correct, scored=scored, pass_score=pass_score, passed=passed)


async def start_attempt(
    session: AsyncSession,
    *,
    learner: User,
    progress_id: int,
    version_id: int,
    chain: Sequence[str],
    resume: bool = False,
) -> QuestionView:
    """A new attempt at the quiz of the version the learner is on (a retry is a new attempt).

    With ``resume``, a half-answered attempt on this version goes on at its next unanswered
    question instead.
    """
    player = await own_view(
        session, learner=learner, progress_id=progress_id, version_id=version_id, chain=chain
    )
    if not player.lesson.questions:
        raise InvalidInput("This lesson has no quiz.")
    if resume:
        under_way = (
            await session.execute(
                _OPEN_ATTEMPT_OF, {"progress_id": progress_id, "version_id": version_id}
            )
        ).first()
        if under_way is not None:
            return _question(under_way.id, under_way.question_index, player)
    attempt_id = await session.scalar(
        _NEW_ATTEMPT,
        {"user_id": learner.id, "lesson_version_id": version_id, "progress_id": progress_id},
    )
    return _question(attempt_id, 0, player)


def _question(attempt_id: int, index: int, player: PlayerView) -> QuestionView:
    questions = player.lesson.questions
    return QuestionView(attempt_id, index, len(questions), questions[index], player)


# Built once: a press runs them, and SQLAlchemy keys its compiled statements by the statement.
# An answer reads its attempt and writes the answer and the attempt's next question as plain
# rows, on the tables: no ORM entity loaded or flushed (their loading and flush were the answer's
# biggest share of the bot's SQLAlchemy samples on the lesson path, where most presses answer).
_ATTEMPT = (
    select(
        tables.attempts.c.user_id,
        tables.attempts.c.progress_id,
        tables.attempts.c.lesson_version_id.label("attempt_version_id"),
        tables.attempts.c.question_index,
        tables.attempts.c.finished_at,
        tables.progress.c.lesson_id,
        tables.progress.c.lesson_version_id,
        tables.progress.c.step_index,
        tables.progress.c.status,
        tables.progress.c.best_score,
        tables.progress.c.passed,
        tables.progress.c.completed_at,
        # The attempt's version, as ``published.ref_of`` reads it: the last four.
        tables.versions.c.id.label("version_id"),
        tables.versions.c.lesson_id.label("version_lesson_id"),
        tables.versions.c.content_hash,
        tables.lessons.c.track_id,
    )
    .select_from(
        tables.attempts.outerjoin(
            tables.progress, tables.progress.c.id == tables.attempts.c.progress_id
        )
        .join(tables.versions, tables.versions.c.id == tables.attempts.c.lesson_version_id)
        .join(tables.lessons, tables.lessons.c.id == tables.versions.c.lesson_id)
    )
    .where(tables.attempts.c.id == bindparam("attempt_id"))
)
_NEW_ATTEMPT = insert(tables.attempts).returning(tables.attempts.c.id)
_OPEN_ATTEMPT_OF = (
    select(tables.attempts.c.id, tables.attempts.c.question_index)
    .where(
        tables.attempts.c.progress_id == bindparam("progress_id"),
        tables.attempts.c.lesson_version_id == bindparam("version_id"),
        tables.attempts.c.finished_at.is_(None),
    )
    .order_by(tables.attempts.c.id.desc())
    .limit(1)
)
_SET_POLL = (
    tables.attempts.update()
    .where(tables.attempts.c.id == bindparam("attempt_id"))
    .values(poll_id=bindparam("poll_id"))
)
_POLL_ATTEMPT = select(
    tables.attempts.c.id, tables.attempts.c.question_index, tables.attempts.c.finished_at
).where(
    tables.attempts.c.poll_id == bindparam("poll_id"),
    tables.attempts.c.user_id == bindparam("user_id"),
)
# SQL text, to go inside the answer's record on PostgreSQL (``activity_log.Alongside``); the
# parameters named apart from the record's.
_ANSWER = text(
    f"INSERT INTO {tables.answers.name}"  # noqa: S608 (model names)
    " (attempt_id, question_key, kind, choice, text, audio_sha256, correct, answered_at)"
    " VALUES (:answered_attempt_id, :answer_key, :answer_kind, :answer_choice, :answer_text,"
    " :answer_audio, :answer_correct, :answered_at)"
).bindparams(
    bindparam("answered_attempt_id", type_=tables.answers.c.attempt_id.type),
    bindparam("answer_key", type_=tables.answers.c.question_key.type),
    bindparam("answer_kind", type_=tables.answers.c.kind.type),
    bindparam("answer_choice", type_=tables.answers.c.choice.type),
    bindparam("answer_text", type_=tables.answers.c.text.type),
    bindparam("answer_audio", type_=tables.answers.c.audio_sha256.type),
    bindparam("answer_correct", type_=tables.answers.c.correct.type),
    bindparam("answered_at", type_=tables.answers.c.answered_at.type),
)
# A quiz's last answer: the attempt's result, and the progress's (what the ORM's flush wrote).
_FINISH_ATTEMPT = (
    tables.attempts.update()
    .where(tables.attempts.c.id == bindparam("attempt_id"))
    .values(
        finished_at=bindparam("finished"),
        score=bindparam("final_score"),
        max_score=bindparam("final_max"),
        passed=bindparam("final_passed"),
    )
)
_PROGRESS_RESULT = (
    tables.progress.update()
    .where(tables.progress.c.id == bindparam("progress_id"))
    .values(
        best_score=bindparam("best"),
        passed=bindparam("ever_passed"),
        status=bindparam("now_status"),
        completed_at=bindparam("completed"),
    )
)
# The last step of a lesson without a quiz read: complete and passed, inside the record.
_COMPLETE_WITHOUT_QUIZ = text(
    f"UPDATE {tables.progress.name} SET status = :completed_status, completed_at = :completed_at,"  # noqa: S608 (model names)
    " passed = :completed_passed, updated_at = :completed_now WHERE id = :completed_progress_id"
).bindparams(
    bindparam("completed_status", type_=tables.progress.c.status.type),
    bindparam("completed_at", type_=tables.progress.c.completed_at.type),
    bindparam("completed_passed", type_=tables.progress.c.passed.type),
    bindparam("completed_now", type_=tables.progress.c.updated_at.type),
    bindparam("completed_progress_id", type_=tables.progress.c.id.type),
)
# A later vote in the poll the question went out as no longer answers anything.
_NEXT_QUESTION = text(
    f"UPDATE {tables.attempts.name} SET question_index = :next_index, poll_id = NULL"  # noqa: S608 (model names)
    " WHERE id = :answered_attempt_id"
).bindparams(
    bindparam("next_index", type_=tables.attempts.c.question_index.type),
    bindparam("answered_attempt_id", type_=tables.attempts.c.id.type),
)


async def _own_attempt(session: AsyncSession, *, learner: User, attempt_id: int, index: int) -> Any:
    """The learner's open attempt a button points at, at question ``index``, with its progress
    and its version, read at once as one plain row (``_ATTEMPT``)."""
    row = (await session.execute(_ATTEMPT, {"attempt_id": attempt_id})).first()
    if row is None or row.user_id != learner.id or row.progress_id is None:
        raise StaleButton("This quiz is not open any more.")
    if row.finished_at is not None or row.question_index != index:
        raise StaleButton("This question was already answered.", lesson_id=row.lesson_id)
    if row.lesson_id is None or row.lesson_version_id != row.attempt_version_id:
        raise StaleButton(
            "This quiz is from an older version of the lesson.", lesson_id=row.lesson_id
        )
    return row


async def current_question(
    session: AsyncSession, *, learner: User, attempt_id: int, index: int, chain: Sequence[str]
) -> QuestionView:
    return (await _current(session, learner, attempt_id, index, chain))[1]


async def _current(
    session: AsyncSession, learner: User, attempt_id: int, index: int, chain: Sequence[str]
) -> tuple[Any, QuestionView]:
    """The attempt's row (``_own_attempt``) and the question it is at."""
    row = await _own_attempt(session, learner=learner, attempt_id=attempt_id, index=index)
    player = await view_at(
        session,
        published.ref_of(row),
        chain,
        progress_id=row.progress_id,
        lesson_id=row.lesson_id,
        step_index=row.step_index,
        status=row.status,
    )
    return row, _question(attempt_id, index, player)


async def answer(
    session: AsyncSession,
    *,
    learner: User,
    attempt_id: int,
    index: int,
    chain: Sequence[str],
    chosen: Sequence[int] = (),
    text: str | None = None,
    voice: IncomingVoice | None = None,
    assisted: bool = False,
) -> AnswerOutcome:
    """Store one answer and move on; the last one finishes the attempt and decides the result.

    ``chosen`` holds option indexes (choice questions) or the one point 1–5 (likert); ``text`` the
    reflection of an ``open`` question (None: skipped), or ``voice`` the voice note it was said
    in (checked and kept; AudioRefused, with nothing stored, when it is not fit).
    """
    attempt, view = await _current(session, learner, attempt_id, index, chain)
    question = view.question
    kind = QuestionKind(question.kind)
    _check_choice(kind, question, chosen)
    audio_sha256 = None
    if voice is not None:
        if kind is not QuestionKind.OPEN:
            raise InvalidInput(f"A {kind.value} question is not answered by voice.")
        audio_sha256 = (await keep_voice_note(session, note=voice, limits=VOICE_ANSWER)).sha256
    judged = judge(question, chosen)
    correct = judged.correct
    written = {
        "answered_attempt_id": attempt_id,
        "answer_key": question.key,
        "answer_kind": kind,
        "answer_choice": list(chosen) if chosen else None,
        "answer_text": text.strip()[:2000] if text and text.strip() else None,
        "answer_audio": audio_sha256,
        "answer_correct": correct,
        "answered_at": utcnow(),
        "next_index": index + 1,
    }
    await activity.record(
        session,
        learner,
        Verb.ANSWERED,
        track_id=view.player.track_id,
        lesson_id=view.player.lesson_id,
        lesson_version_id=view.player.version_id,
        question_key=question.key,
        assisted=assisted,
        data={"correct": correct} if correct is not None else None,
        alongside=activity.Alongside(_ANSWER, written, then=(_NEXT_QUESTION,)),
    )
    feedback, chosen_options, right = judged.feedback, judged.chosen, judged.right
    if index + 1 < view.count:
        following = _question(attempt_id, index + 1, view.player)
        return AnswerOutcome(
            correct,
            feedback,
            question.explanation,
            following,
            None,
            view.player,
            chosen=chosen_options,
            right=right,
        )
    result, finished_at = await _finish(
        session,
        learner=learner,
        attempt_id=attempt_id,
        attempt=attempt,
        view=view,
        assisted=assisted,
    )
    await review.plan(
        session,
        user_id=learner.id,
        attempt_id=attempt_id,
        lesson_id=view.player.lesson_id,
        finished_at=finished_at,
    )
    certificate = await _award(session, learner, view.player.track_id)
    return AnswerOutcome(
        correct,
        feedback,
        question.explanation,
        None,
        result,
        view.player,
        certificate,
        await catalogue.suggested_lesson(session, learner=learner, chain=chain),
        chosen=chosen_options,
        right=right,
        before_after=await before_after.own_before_after(
            session,
            learner=learner,
            version_id=view.player.version_id,
            track_id=view.player.track_id,
            chain=chain,
        ),
    )


async def _award(session: AsyncSession, learner: User, track_id: int | None) -> int | None:
    """A lesson just passed may complete its track: the certificate, if this earned it."""
    if track_id is None:
        return None
    certificate = await certificates.award_if_earned(session, learner=learner, track_id=track_id)
    return certificate.id if certificate is not None else None


def _check_choice(kind: QuestionKind, question: RenderedQuestion, chosen: Sequence[int]) -> None:
    if kind is QuestionKind.LIKERT:
        valid = len(chosen) == 1 and 1 <= chosen[0] <= LIKERT_POINTS
    elif kind is QuestionKind.OPEN:
        valid = not chosen
    elif kind is QuestionKind.MULTIPLE:
        valid = bool(chosen) and all(0 <= index < len(question.options) for index in chosen)
    else:
        valid = len(chosen) == 1 and 0 <= chosen[0] < len(question.options)
    if not valid:
        raise InvalidInput(f"That is not an answer to a {kind.value} question.")


async def _finish(
    session: AsyncSession,
    *,
    learner: User,
    attempt_id: int,
    attempt: Any,
    view: QuestionView,
    assisted: bool,
) -> tuple[QuizResult, datetime]:
    """Finish the attempt (``attempt``: its row as ``_own_attempt`` read it, with its progress):
    the result, written to the attempt and the progress as plain rows; when it finished."""
    answers = list(await session.scalars(select(Answer).where(Answer.attempt_id == attempt_id)))
    scored = [answer for answer in answers if answer.correct is not None]
    result = decide(
        sum(bool(answer.correct) for answer in scored), len(scored), view.player.lesson.pass_score
    )
    now = utcnow()
    percent = float(result.percent) if result.percent is not None else None
    best = attempt.best_score
    if percent is not None and (best is None or percent > best):
        best = percent
    completing = attempt.status is not ProgressStatus.COMPLETED
    where = view.player
    if completing:
        await activity.record(
            session,
            learner,
            Verb.COMPLETED,
            assisted=assisted,
            track_id=where.track_id,
            lesson_id=where.lesson_id,
            lesson_version_id=where.version_id,
        )
    await activity.record(
        session,
        learner,
        Verb.PASSED if result.passed else Verb.FAILED,
        score=percent,
        assisted=assisted,
        track_id=where.track_id,
        lesson_id=where.lesson_id,
        lesson_version_id=where.version_id,
    )
    finished = {
        "attempt_id": attempt_id,
        "finished": now,
        "final_score": result.correct,
        "final_max": result.scored,
        "final_passed": result.passed,
    }
    await session.execute(_FINISH_ATTEMPT, finished)
    progress = {
        "progress_id": attempt.progress_id,
        "best": best,
        "ever_passed": bool(attempt.passed) or result.passed,
        "now_status": ProgressStatus.COMPLETED if completing else attempt.status,
        "completed": now if completing else attempt.completed_at,
    }
    await session.execute(_PROGRESS_RESULT, progress)
    # Last: another transaction finishing another attempt of the learner's at the same moment
    # waits for this one's commit on the rows both change (the learner's participation counts,
    # its progress), then sees this attempt finished, so only one of them is first.
    await question_sums.add_attempt(
        session,
        attempt_id=attempt_id,
        user_id=learner.id,
        version_id=where.version_id,
        lesson_id=where.lesson_id,
        answers=answers,
    )
    return result, now


async def complete_without_quiz(
    session: AsyncSession,
    *,
    learner: User,
    progress_id: int,
    version_id: int,
    chain: Sequence[str],
) -> LessonFinished:
    """A lesson without a quiz is complete (and passed) once its last step is read.

    Returns the certificate this earned by completing the track, and the learner's next lesson.
    """
    progress = await own_progress(
        session, learner=learner, progress_id=progress_id, version_id=version_id
    )
    if progress.status is ProgressStatus.COMPLETED:
        return LessonFinished(
            None, await catalogue.suggested_lesson(session, learner=learner, chain=chain)
        )
    track_id = progress.track_id
    now = utcnow()
    completed = {
        "completed_progress_id": progress_id,
        "completed_status": ProgressStatus.COMPLETED,
        "completed_passed": True,
        "completed_at": now,
        "completed_now": now,
    }
    await activity.record(
        session,
        learner,
        Verb.COMPLETED,
        track_id=track_id,
        lesson_id=progress.lesson_id,
        lesson_version_id=version_id,
        alongside=activity.Alongside(_COMPLETE_WITHOUT_QUIZ, completed),
    )
    certificate = await _award(session, learner, track_id)
    return LessonFinished(
        certificate, await catalogue.suggested_lesson(session, learner=learner, chain=chain)
    )


async def pending_open_question(
    session: AsyncSession, *, learner: User, chain: Sequence[str]
) -> QuestionView | None:
    """The open question the learner's newest unfinished attempt is waiting on, if any."""
    attempt = await session.scalar(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == learner.id, QuizAttempt.finished_at.is_(None))
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
        .limit(1)
    )
    if attempt is None:
        return None
    try:
        view = await current_question(
            session,
            learner=learner,
            attempt_id=attempt.id,
            index=attempt.question_index,
            chain=chain,
        )
    except StaleButton:
        return None
    return view if view.question.kind == QuestionKind.OPEN.value else None


async def poll_sent(
    session: AsyncSession, *, learner: User, attempt_id: int, index: int, poll_id: str
) -> None:
    """The current question went out as a native quiz poll; its answer will come back by this id."""
    await _own_attempt(session, learner=learner, attempt_id=attempt_id, index=index)
    await session.execute(_SET_POLL, {"attempt_id": attempt_id, "poll_id": poll_id})


async def answer_poll(
    session: AsyncSession,
    *,
    learner: User,
    poll_id: str,
    chosen: Sequence[int],
    chain: Sequence[str],
) -> AnswerOutcome:
    """A vote in a quiz poll answers the question it was sent for."""
    attempt = (
        await session.execute(_POLL_ATTEMPT, {"poll_id": poll_id, "user_id": learner.id})
    ).first()
    if attempt is None or attempt.finished_at is not None:
        raise StaleButton("This quiz poll is from an older attempt.")
    return await answer(
        session,
        learner=learner,
        attempt_id=attempt.id,
        index=attempt.question_index,
        chosen=chosen,
        chain=chain,
    )
