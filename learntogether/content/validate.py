"""Every rule a lesson or track must meet before it is stored, checked at the door.

All problems are reported, not the first: each is a ``Problem`` whose ``path`` names the field
(``("steps", 0, "text", "bg")``), so files can point at a line and the API at a JSON path.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from learntogether.content.schema import (
    LessonDocument,
    LocalizedText,
    Question,
    Survey,
    TrackDocument,
)
from learntogether.db.models import QuestionKind
from learntogether.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES
from learntogether.telegram_html import text_problems

Path = tuple[str | int, ...]

# Telegram's limits (https://core.telegram.org/bots/api), counted after entities are parsed.
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
POLL_QUESTION_LIMIT = 300
POLL_OPTION_LIMIT = 100
POLL_OPTIONS = (2, 12)
POLL_EXPLANATION_LIMIT = 200
CALLBACK_ANSWER_LIMIT = 200
# Our own bounds, so a screen on a small phone stays readable and buttons stay one line.
TITLE_LIMIT = 120
BUTTON_LIMIT = 40
OPTION_LIMIT = 300
CHOICE_OPTIONS = (2, 8)


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str


def json_path(path: Path) -> str:
    """``("steps", 0, "text")`` → ``$.steps[0].text``."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def field_path(path: str) -> Path:
    """``$.steps[0].text`` → ``("steps", 0, "text")``: the inverse of ``json_path``; what does not
    parse ends the path (a problem then points at the nearest field)."""
    parts: list[str | int] = []
    position = 1 if path.startswith("$") else 0
    while position < len(path):
        found = _PATH_PART.match(path, position)
        if found is None:
            break
        parts.append(found.group(1) if found.group(1) is not None else int(found.group(2)))
        position = found.end()
    return tuple(parts)


class _Checker:
    def __init__(self, locales: Sequence[str], partial: Sequence[str]) -> None:
        self.problems: list[Problem] = []
        self.locales = list(locales)
        self.partial = list(partial)

    def add(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))

    def check_locales(self) -> None:
        for field, codes in (("locales", self.locales), ("partial", self.partial)):
            for index, code in enumerate(codes):
                if code not in SUPPORTED_LOCALES:
                    known = ", ".join(SUPPORTED_LOCALES)
                    self.add((field, index), f"unknown locale '{code}' (known: {known})")
        if SOURCE_LOCALE not in self.locales:
            self.add(("locales",), f"'{SOURCE_LOCALE}' must be complete: learners fall back to it")
        for code in sorted(set(self.locales) & set(self.partial)):
            self.add(("partial",), f"'{code}' is listed as both complete and partial")

    def text(
        self,
        path: Path,
        text: LocalizedText | None,
        *,
        limit: int,
        what: str,
        markup: bool = True,
        required: bool = True,
    ) -> None:
        """Check a localized text: locales complete, markup Telegram accepts, length after parsing."""
        if text is None:
            if required:
                self.add(path, f"{what} is missing")
            return
        for code in self.locales:
            if not text.get(code, "").strip():
                self.add(
                    (*path, code),
                    f"{what} has no '{code}' text (add it, or list '{code}' under partial)",
                )
        for code, value in text.items():
            if code not in self.locales and code not in self.partial:
                self.add((*path, code), f"'{code}' is neither in locales nor in partial")
                continue
            for message in text_problems(value, limit=limit, what=what, markup=markup):
                self.add((*path, code), message)


def validate_lesson(lesson: LessonDocument) -> list[Problem]:
    """Every problem of one lesson document, in document order."""
    check = _Checker(lesson.locales, lesson.partial)
    check.check_locales()
    check.text(("title",), lesson.title, limit=TITLE_LIMIT, what="title", markup=False)
    check.text(("summary",), lesson.summary, limit=MESSAGE_LIMIT, what="summary", required=False)
    for index, step in enumerate(lesson.steps):
        path: Path = ("steps", index)
        limit = CAPTION_LIMIT if step.image else MESSAGE_LIMIT
        check.text(
            (*path, "text"),
            step.text,
            limit=limit,
            what="step text" + (" (a caption)" if step.image else ""),
        )
        if step.image is not None:
            if (step.image.file is None) == (step.image.url is None):
                check.add((*path, "image"), "an image needs exactly one of file or url")
            check.text(
                (*path, "image", "alt"),
                step.image.alt,
                limit=BUTTON_LIMIT * 4,
                what="alt text",
                required=False,
            )
        for code, recording in step.audio.items():
            if code not in SUPPORTED_LOCALES:
                check.add((*path, "audio", code), f"unknown locale '{code}'")
            if recording.file is None and recording.sha256 is None:
                check.add(
                    (*path, "audio", code),
                    "a recording needs its file (in lesson files) or the sha256 of uploaded audio",
                )
        if step.link is not None:
            check.text(
                (*path, "link", "label"),
                step.link.label,
                limit=BUTTON_LIMIT,
                what="button label",
                markup=False,
            )
            for field, codes in (
                ("languages", list(step.link.languages)),
                ("translations", list(step.link.translations)),
            ):
                for code in codes:
                    if code not in SUPPORTED_LOCALES:
                        check.add((*path, "link", field), f"unknown locale '{code}'")
    _check_quiz(check, lesson)
    for code in lesson.translated_from:
        if code == SOURCE_LOCALE or code not in (*lesson.locales, *lesson.partial):
            check.add(
                ("translated_from", code),
                f"'{code}' is not one of the lesson's translations (locales and partial, not en)",
            )
    if not lesson.sources and lesson.survey is None:
        check.add(
            ("sources",), "list the sources of the lesson's facts (title, publisher, year, url)"
        )
    return check.problems


def _check_quiz(check: _Checker, lesson: LessonDocument) -> None:
    if lesson.quiz is None:
        if lesson.survey is not None:
            check.add(("survey",), "a survey lesson needs a quiz with its likert statements")
        return
    questions = lesson.quiz.questions
    for key, count in Counter(question.key for question in questions).items():
        if count > 1:
            check.add(
                ("quiz", "questions"),
                f"question key '{key}' is used {count} times; keys must be unique",
            )
    scored = any(question.scored for question in questions)
    if scored and lesson.quiz.pass_score is None:
        check.add(
            ("quiz", "pass_score"), "the quiz has scored questions: give a pass_score (percent)"
        )
    if not scored and lesson.quiz.pass_score is not None:
        check.add(
            ("quiz", "pass_score"), "no question is scored, so a pass_score means nothing here"
        )
    if lesson.survey is not None:
        if scored:
            check.add(
                ("survey",), "a survey asks for attitudes: use likert (and open) questions only"
            )
        if not any(question.kind is QuestionKind.LIKERT for question in questions):
            check.add(("survey",), "a survey needs at least one likert statement")
    for index, question in enumerate(questions):
        _check_question(check, ("quiz", "questions", index), question)


def _check_question(check: _Checker, path: Path, question: Question) -> None:
    kind = question.kind
    correct = sum(option.correct for option in question.options)
    if question.poll:
        _check_poll(check, path, question)
    else:
        check.text((*path, "text"), question.text, limit=MESSAGE_LIMIT, what="question")
        check.text(
            (*path, "explanation"),
            question.explanation,
            limit=MESSAGE_LIMIT,
            what="explanation",
            required=False,
        )
    if kind in (QuestionKind.LIKERT, QuestionKind.OPEN):
        if question.options:
            scale = (
                "the agree scale is the bot's"
                if kind is QuestionKind.LIKERT
                else "the learner writes"
            )
            article = "an" if kind is QuestionKind.OPEN else "a"
            check.add(
                (*path, "options"), f"{article} {kind.value} question has no options ({scale})"
            )
    elif kind is QuestionKind.TRUE_FALSE and len(question.options) != 2:
        check.add(
            (*path, "options"),
            f"a true_false question has exactly 2 options, not {len(question.options)}",
        )
    elif (
        kind is not QuestionKind.TRUE_FALSE
        and not CHOICE_OPTIONS[0] <= len(question.options) <= CHOICE_OPTIONS[1]
    ):
        low, high = CHOICE_OPTIONS
        check.add(
            (*path, "options"),
            f"a {kind.value} question has {low} to {high} options, not {len(question.options)}",
        )
    if kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE) and correct != 1:
        check.add(
            (*path, "options"),
            f"a {kind.value} question has exactly one correct option, not {correct}",
        )
    if kind is QuestionKind.MULTIPLE and correct < 1:
        check.add((*path, "options"), "a multiple question needs at least one correct option")
    if question.poll and kind not in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE):
        check.add((*path, "poll"), "only single and true_false questions can go as a quiz poll")
    if question.reverse and kind is not QuestionKind.LIKERT:
        check.add((*path, "reverse"), "only likert statements are reverse-scored")
    for index, option in enumerate(question.options):
        option_path = (*path, "options", index)
        if question.poll:
            check.text(
                (*option_path, "text"),
                option.text,
                limit=POLL_OPTION_LIMIT,
                what="poll option",
                markup=False,
            )
        else:
            check.text((*option_path, "text"), option.text, limit=OPTION_LIMIT, what="option")
        # Feedback is shown in the answer to the button press.
        check.text(
            (*option_path, "feedback"),
            option.feedback,
            limit=CALLBACK_ANSWER_LIMIT,
            what="feedback",
            required=False,
        )


def _check_poll(check: _Checker, path: Path, question: Question) -> None:
    check.text(
        (*path, "text"),
        question.text,
        limit=POLL_QUESTION_LIMIT,
        what="poll question",
        markup=False,
    )
    check.text(
        (*path, "explanation"),
        question.explanation,
        limit=POLL_EXPLANATION_LIMIT,
        what="poll explanation",
        markup=False,
        required=False,
    )
    low, high = POLL_OPTIONS
    if not low <= len(question.options) <= high:
        check.add(
            (*path, "options"), f"a poll has {low} to {high} options, not {len(question.options)}"
        )


def validate_track(track: TrackDocument) -> list[Problem]:
    check = _Checker(track.locales, track.partial)
    check.check_locales()
    check.text(("title",), track.title, limit=TITLE_LIMIT, what="title", markup=False)
    check.text(("description",), track.description, limit=MESSAGE_LIMIT, what="description")
    return check.problems


@dataclass(frozen=True)
class CurriculumProblem:
    """A rule across documents; ``where`` is the lesson or track slug it is reported on."""

    kind: str  # "lesson" or "track"
    slug: str
    problem: Problem


def validate_curriculum(
    tracks: Sequence[TrackDocument], lessons: Sequence[LessonDocument]
) -> list[CurriculumProblem]:
    """Rules between documents: unique slugs and positions, known tracks, matching surveys."""
    problems: list[CurriculumProblem] = []
    track_slugs = Counter(track.slug for track in tracks)
    for slug, count in track_slugs.items():
        if count > 1:
            problems.append(
                CurriculumProblem(
                    "track", slug, Problem(("slug",), f"track slug '{slug}' is used {count} times")
                )
            )
    for slug, count in Counter(lesson.slug for lesson in lessons).items():
        if count > 1:
            problems.append(
                CurriculumProblem(
                    "lesson",
                    slug,
                    Problem(("slug",), f"lesson slug '{slug}' is used {count} times"),
                )
            )
    for lesson in lessons:
        if lesson.track is not None and lesson.track not in track_slugs:
            message = (
                f"no track '{lesson.track}' (tracks: {', '.join(sorted(track_slugs)) or 'none'})"
            )
            problems.append(CurriculumProblem("lesson", lesson.slug, Problem(("track",), message)))
    for track in tracks:
        own = [lesson for lesson in lessons if lesson.track == track.slug]
        problems.extend(_track_rules(track, own))
    return problems


def _track_rules(
    track: TrackDocument, lessons: Sequence[LessonDocument]
) -> Iterator[CurriculumProblem]:
    for position, count in Counter(lesson.position for lesson in lessons).items():
        if position is not None and count > 1:
            message = f"{count} lessons of track '{track.slug}' share position {position}"
            yield CurriculumProblem("track", track.slug, Problem(("slug",), message))
    surveys = {kind: [lesson for lesson in lessons if lesson.survey is kind] for kind in Survey}
    for kind, found in surveys.items():
        if len(found) > 1:
            message = f"track '{track.slug}' has {len(found)} {kind.value}-surveys; one at most"
            yield CurriculumProblem("track", track.slug, Problem(("slug",), message))
    if surveys[Survey.PRE] and surveys[Survey.POST]:
        pre, post = surveys[Survey.PRE][0], surveys[Survey.POST][0]
        pre_keys, post_keys = _likert_keys(pre), _likert_keys(post)
        if pre_keys != post_keys:
            missing = sorted(pre_keys - post_keys)
            extra = sorted(post_keys - pre_keys)
            details = "; ".join(
                part
                for part in (
                    f"missing after: {', '.join(missing)}" if missing else "",
                    f"only after: {', '.join(extra)}" if extra else "",
                )
                if part
            )
            message = f"the post-survey must ask the pre-survey's likert statements ({details})"
            yield CurriculumProblem("lesson", post.slug, Problem(("quiz", "questions"), message))
    rule = track.pass_rule.lessons
    if rule is not None and rule > len(lessons):
        message = f"pass_rule asks for {rule} lessons but the track has {len(lessons)}"
        yield CurriculumProblem("track", track.slug, Problem(("pass_rule", "lessons"), message))


def _likert_keys(lesson: LessonDocument) -> set[str]:
    return {question.key for question in lesson.questions() if question.kind is QuestionKind.LIKERT}
