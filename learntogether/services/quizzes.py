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

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import RenderedQuestion
from learntogether.db import activity_log as activity
from learntogether.db import question_sums
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Answer,
    LessonProgress,
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
    view_of,
)
from learntogether.services.published import VersionRef
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
    progress, ref = await own_progress(
        session, learner=learner, progress_id=progress_id, version_id=version_id
    )
    player = await view_of(session, progress, chain, ref=ref)
    if not player.lesson.questions:
        raise InvalidInput("This lesson has no quiz.")
    attempt = None
    if resume:
        attempt = await session.scalar(
            select(QuizAttempt)
            .where(
                QuizAttempt.progress_id == progress.id,
                QuizAttempt.lesson_version_id == version_id,
                QuizAttempt.finished_at.is_(None),
            )
            .order_by(QuizAttempt.id.desc())
            .limit(1)
        )
    if attempt is None:
        attempt = QuizAttempt(
            user_id=learner.id, lesson_version_id=version_id, progress_id=progress.id
        )
        session.add(attempt)
        await session.flush()
    return _question(attempt, player)


def _question(attempt: QuizAttempt, player: PlayerView) -> QuestionView:
    questions = player.lesson.questions
    return QuestionView(
        attempt.id,
        attempt.question_index,
        len(questions),
        questions[attempt.question_index],
        player,
    )


# Built once: a press runs it, and SQLAlchemy keys its compiled statements by the statement.
_ATTEMPT = published.with_version_ref(
    select(QuizAttempt, LessonProgress).outerjoin(
        LessonProgress, LessonProgress.id == QuizAttempt.progress_id
    ),
    QuizAttempt.lesson_version_id,
).where(QuizAttempt.id == bindparam("attempt_id"))


async def _own_attempt(
    session: AsyncSession, *, learner: User, attempt_id: int, index: int
) -> tuple[QuizAttempt, LessonProgress, VersionRef]:
    """The learner's open attempt a button points at, at question ``index``, its progress and
    its version, read at once."""
    row = (await session.execute(_ATTEMPT, {"attempt_id": attempt_id})).first()
    if row is None or row.QuizAttempt.user_id != learner.id or row.QuizAttempt.progress_id is None:
        raise StaleButton("This quiz is not open any more.")
    attempt: QuizAttempt = row.QuizAttempt
    progress: LessonProgress | None = row.LessonProgress
    if attempt.finished_at is not None or attempt.question_index != index:
        raise StaleButton(
            "This question was already answered.",
            lesson_id=progress.lesson_id if progress else None,
        )
    if progress is None or progress.lesson_version_id != attempt.lesson_version_id:
        raise StaleButton(
            "This quiz is from an older version of the lesson.",
            lesson_id=progress.lesson_id if progress else None,
        )
    return attempt, progress, published.ref_of(row)


async def current_question(
    session: AsyncSession, *, learner: User, attempt_id: int, index: int, chain: Sequence[str]
) -> QuestionView:
    return (await _current(session, learner, attempt_id, index, chain))[1]


async def _current(
    session: AsyncSession, learner: User, attempt_id: int, index: int, chain: Sequence[str]
) -> tuple[QuizAttempt, QuestionView]:
    attempt, progress, ref = await _own_attempt(
        session, learner=learner, attempt_id=attempt_id, index=index
    )
    return attempt, _question(attempt, await view_of(session, progress, chain, ref=ref))


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
    session.add(
        Answer(
            attempt_id=attempt_id,
            question_key=question.key,
            kind=kind,
            choice=list(chosen) if chosen else None,
            text=text.strip()[:2000] if text and text.strip() else None,
            audio_sha256=audio_sha256,
            correct=correct,
        )
    )
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
    )
    feedback, chosen_options, right = judged.feedback, judged.chosen, judged.right
    attempt.question_index += 1
    attempt.poll_id = None  # a later vote in that poll no longer answers anything
    await session.flush()
    if attempt.question_index < view.count:
        following = _question(attempt, view.player)
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
    result = await _finish(session, learner=learner, attempt=attempt, view=view, assisted=assisted)
    await review.plan(session, attempt=attempt, lesson_id=view.player.lesson_id)
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
    attempt: QuizAttempt,
    view: QuestionView,
    assisted: bool,
) -> QuizResult:
    answers = list(await session.scalars(select(Answer).where(Answer.attempt_id == attempt.id)))
    scored = [answer for answer in answers if answer.correct is not None]
    result = decide(
        sum(bool(answer.correct) for answer in scored), len(scored), view.player.lesson.pass_score
    )
    now = utcnow()
    attempt.finished_at, attempt.score, attempt.max_score, attempt.passed = (
        now,
        result.correct,
        result.scored,
        result.passed,
    )
    progress = await session.get(LessonProgress, attempt.progress_id)
    assert progress is not None
    percent = float(result.percent) if result.percent is not None else None
    if percent is not None and (progress.best_score is None or percent > progress.best_score):
        progress.best_score = percent
    progress.passed = bool(progress.passed) or result.passed
    where = view.player
    if progress.status is not ProgressStatus.COMPLETED:
        progress.status, progress.completed_at = ProgressStatus.COMPLETED, now
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
    await session.flush()
    # Last: another transaction finishing another attempt of the learner's at the same moment
    # waits for this one's commit on the rows both change (the learner's participation counts,
    # its progress), then sees this attempt finished, so only one of them is first.
    await question_sums.add_attempt(
        session, attempt=attempt, lesson_id=where.lesson_id, answers=answers
    )
    return result


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
    progress, ref = await own_progress(
        session, learner=learner, progress_id=progress_id, version_id=version_id
    )
    if progress.status is ProgressStatus.COMPLETED:
        return LessonFinished(
            None, await catalogue.suggested_lesson(session, learner=learner, chain=chain)
        )
    progress.status, progress.completed_at, progress.passed = (
        ProgressStatus.COMPLETED,
        utcnow(),
        True,
    )
    track_id = ref.track_id
    await activity.record(
        session,
        learner,
        Verb.COMPLETED,
        track_id=track_id,
        lesson_id=progress.lesson_id,
        lesson_version_id=version_id,
    )
    await session.flush()
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
    attempt, _, _ = await _own_attempt(session, learner=learner, attempt_id=attempt_id, index=index)
    attempt.poll_id = poll_id
    await session.flush()


async def answer_poll(
    session: AsyncSession,
    *,
    learner: User,
    poll_id: str,
    chosen: Sequence[int],
    chain: Sequence[str],
) -> AnswerOutcome:
    """A vote in a quiz poll answers the question it was sent for."""
    attempt = await session.scalar(
        select(QuizAttempt).where(QuizAttempt.poll_id == poll_id, QuizAttempt.user_id == learner.id)
    )
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
