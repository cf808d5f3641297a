"""Every rule a lesson or track must meet before it is stored, checked at the door.

All problems are reported, not the first: each is a ``Problem`` whose ``path`` names the field
(``("steps", 0, "text", "bg")``), so files can point at a line and the API at a JSON path. Each
message is a ``Text`` (``N_``): English where it is shown as it is (lesson files, the CLI, the
API), said in the reader's language by the console (``said``). So are pydantic's own messages for
a document (``document_problems``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from learntogether.content.schema import (
    LessonDocument,
    LocalizedText,
    Question,
    Survey,
    TrackDocument,
)
from learntogether.db.models import QuestionKind
from learntogether.i18n import N_, SOURCE_LOCALE, SUPPORTED_LOCALES, Text
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


AUDIO_FILE_RULE = N_(
    "an audio file is an .ogg file named relative to the lesson file (audio/01-step-2.bg.ogg): "
    "letters, digits, '_', '.', '-' and '/', never '..'"
)

# pydantic's messages for the mistakes a document can hold, by their ``type``: the same English
# as pydantic's (lesson files and the CLI show it unchanged), as templates the catalogs translate.
# The values are pydantic's ``ctx``. A pair is the singular and the plural (pydantic says "1
# character", "2 characters"). A type not here keeps pydantic's own message, in English.
_PYDANTIC_MESSAGES: dict[str, tuple[Text, ...]] = {
    "string_type": (N_("Input should be a valid string"),),
    "dict_type": (N_("Input should be a valid dictionary"),),
    "list_type": (N_("Input should be a valid list"),),
    "bool_type": (N_("Input should be a valid boolean"),),
    "bool_parsing": (N_("Input should be a valid boolean, unable to interpret input"),),
    "int_type": (N_("Input should be a valid integer"),),
    "int_parsing": (N_("Input should be a valid integer, unable to parse string as an integer"),),
    "int_from_float": (N_("Input should be a valid integer, got a number with a fractional part"),),
    "greater_than_equal": (N_("Input should be greater than or equal to {ge}"),),
    "less_than_equal": (N_("Input should be less than or equal to {le}"),),
    "string_too_short": (
        N_("String should have at least {min_length} character"),
        N_("String should have at least {min_length} characters"),
    ),
    "string_too_long": (
        N_("String should have at most {max_length} character"),
        N_("String should have at most {max_length} characters"),
    ),
    "string_pattern_mismatch": (N_("String should match pattern '{pattern}'"),),
    "enum": (N_("Input should be {expected}"),),
    "literal_error": (N_("Input should be {expected}"),),
    "too_short": (
        N_("List should have at least {min_length} item after validation, not {actual_length}"),
        N_("List should have at least {min_length} items after validation, not {actual_length}"),
    ),
    "too_long": (
        N_("List should have at most {max_length} item after validation, not {actual_length}"),
        N_("List should have at most {max_length} items after validation, not {actual_length}"),
    ),
    "model_type": (N_("Input should be a valid dictionary or instance of {class_name}"),),
    "url_type": (N_("URL input should be a string or URL"),),
    "url_parsing": (N_("Input should be a valid URL, {error}"),),
    "url_scheme": (N_("URL scheme should be {expected_schemes}"),),
}
# What the URL parser says of a URL most often (``url_parsing``'s ``error``).
_URL_ERRORS = {
    text: text
    for text in (
        N_("relative URL without a base"),
        N_("empty host"),
        N_("invalid port number"),
        N_("invalid international domain name"),
        N_("invalid domain character"),
        N_("invalid IPv4 address"),
        N_("invalid IPv6 address"),
    )
}
_QUOTED = re.compile(r"'([^']*)'")


def document_problems(error: ValidationError) -> list[Problem]:
    """The problems pydantic found in a document (its structure), each at its field."""
    return [Problem(tuple(item["loc"]), _pydantic_message(item)) for item in error.errors()]


def _pydantic_message(item: ErrorDetails) -> str:
    """Our message for a pydantic error: a ``Text`` whose English is pydantic's message (or ours
    for an unknown or missing field, and for an audio file's name); pydantic's own message, as it
    is, when it is of a type we do not know or its words are not the ones expected."""
    path, kind = item["loc"], item["type"]
    if kind == "extra_forbidden":
        return N_("unknown field '{name}'", name=path[-1])
    if kind == "missing":
        return N_("'{name}' is required", name=path[-1])
    if kind == "string_pattern_mismatch" and path[-3:-2] == ("audio",):
        return AUDIO_FILE_RULE
    templates = _PYDANTIC_MESSAGES.get(kind)
    context: dict[str, Any] = dict(item.get("ctx") or {})
    if templates is None or context.get("field_type", "List") != "List":
        return item["msg"]
    count = context.get("min_length", context.get("max_length", 1))
    template = templates[0] if count == 1 or len(templates) == 1 else templates[1]
    for name in ("expected", "expected_schemes"):
        if isinstance(context.get(name), str):
            context[name] = _either(context[name])
    if context.get("error") in _URL_ERRORS:
        context["error"] = _URL_ERRORS[context["error"]]
    names = set(re.findall(r"{(\w+)}", template.template))
    message = Text(template.template, **{name: context.get(name) for name in names})
    # A pydantic that words it otherwise: its words, untranslated, rather than ours.
    return message if message == item["msg"] else item["msg"]


def _either(listed: str) -> str:
    """pydantic's ``'a', 'b' or 'c'`` with its "or" said in the reader's language."""
    names = [f"'{name}'" for name in _QUOTED.findall(listed)]
    if len(names) < 2:
        return listed
    either = N_("{some} or {last}", some=", ".join(names[:-1]), last=names[-1])
    return either if either == listed else listed


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
                    self.add(
                        (field, index),
                        N_("unknown locale '{code}' (known: {known})", code=code, known=known),
                    )
        if SOURCE_LOCALE not in self.locales:
            self.add(
                ("locales",),
                N_("'{code}' must be complete: learners fall back to it", code=SOURCE_LOCALE),
            )
        for code in sorted(set(self.locales) & set(self.partial)):
            self.add(("partial",), N_("'{code}' is listed as both complete and partial", code=code))

    def text(
        self,
        path: Path,
        text: LocalizedText | None,
        *,
        limit: int,
        what: Text,
        markup: bool = True,
        required: bool = True,
    ) -> None:
        """Check a localized text: locales complete, markup Telegram accepts, length after parsing."""
        if text is None:
            if required:
                self.add(path, N_("{what} is missing", what=what))
            return
        for code in self.locales:
            if not text.get(code, "").strip():
                self.add(
                    (*path, code),
                    N_(
                        "{what} has no '{code}' text (add it, or list '{code}' under partial)",
                        what=what,
                        code=code,
                    ),
                )
        for code, value in text.items():
            if code not in self.locales and code not in self.partial:
                self.add(
                    (*path, code), N_("'{code}' is neither in locales nor in partial", code=code)
                )
                continue
            for message in text_problems(value, limit=limit, what=what, markup=markup, N_=N_):
                self.add((*path, code), message)


def validate_lesson(lesson: LessonDocument) -> list[Problem]:
    """Every problem of one lesson document, in document order."""
    check = _Checker(lesson.locales, lesson.partial)
    check.check_locales()
    check.text(("title",), lesson.title, limit=TITLE_LIMIT, what=N_("title"), markup=False)
    check.text(
        ("summary",), lesson.summary, limit=MESSAGE_LIMIT, what=N_("summary"), required=False
    )
    for index, step in enumerate(lesson.steps):
        path: Path = ("steps", index)
        limit = CAPTION_LIMIT if step.image else MESSAGE_LIMIT
        check.text(
            (*path, "text"),
            step.text,
            limit=limit,
            what=N_("step text (a caption)") if step.image else N_("step text"),
        )
        if step.image is not None:
            if (step.image.file is None) == (step.image.url is None):
                check.add((*path, "image"), N_("an image needs exactly one of file or url"))
            check.text(
                (*path, "image", "alt"),
                step.image.alt,
                limit=BUTTON_LIMIT * 4,
                what=N_("alt text"),
                required=False,
            )
        for code, recording in step.audio.items():
            if code not in SUPPORTED_LOCALES:
                check.add((*path, "audio", code), N_("unknown locale '{code}'", code=code))
            if recording.file is None and recording.sha256 is None:
                check.add(
                    (*path, "audio", code),
                    N_(
                        "a recording needs its file (in lesson files) or the sha256 of uploaded "
                        "audio"
                    ),
                )
        if step.link is not None:
            check.text(
                (*path, "link", "label"),
                step.link.label,
                limit=BUTTON_LIMIT,
                what=N_("button label"),
                markup=False,
            )
            for field, codes in (
                ("languages", list(step.link.languages)),
                ("translations", list(step.link.translations)),
            ):
                for code in codes:
                    if code not in SUPPORTED_LOCALES:
                        check.add((*path, "link", field), N_("unknown locale '{code}'", code=code))
    _check_quiz(check, lesson)
    for code in lesson.translated_from:
        if code == SOURCE_LOCALE or code not in (*lesson.locales, *lesson.partial):
            check.add(
                ("translated_from", code),
                N_(
                    "'{code}' is not one of the lesson's translations (locales and partial, not en)",
                    code=code,
                ),
            )
    if not lesson.sources and lesson.survey is None:
        check.add(
            ("sources",), N_("list the sources of the lesson's facts (title, publisher, year, url)")
        )
    return check.problems


def _check_quiz(check: _Checker, lesson: LessonDocument) -> None:
    if lesson.quiz is None:
        if lesson.survey is not None:
            check.add(("survey",), N_("a survey lesson needs a quiz with its likert statements"))
        return
    questions = lesson.quiz.questions
    for key, count in Counter(question.key for question in questions).items():
        if count > 1:
            check.add(
                ("quiz", "questions"),
                N_(
                    "question key '{key}' is used {count} times; keys must be unique",
                    key=key,
                    count=count,
                ),
            )
    scored = any(question.scored for question in questions)
    if scored and lesson.quiz.pass_score is None:
        check.add(
            ("quiz", "pass_score"),
            N_("the quiz has scored questions: give a pass_score (percent)"),
        )
    if not scored and lesson.quiz.pass_score is not None:
        check.add(
            ("quiz", "pass_score"),
            N_("no question is scored, so a pass_score means nothing here"),
        )
    if lesson.survey is not None:
        if scored:
            check.add(
                ("survey",), N_("a survey asks for attitudes: use likert (and open) questions only")
            )
        if not any(question.kind is QuestionKind.LIKERT for question in questions):
            check.add(("survey",), N_("a survey needs at least one likert statement"))
    for index, question in enumerate(questions):
        _check_question(check, ("quiz", "questions", index), question)


def _check_question(check: _Checker, path: Path, question: Question) -> None:
    kind = question.kind
    correct = sum(option.correct for option in question.options)
    if question.poll:
        _check_poll(check, path, question)
    else:
        check.text((*path, "text"), question.text, limit=MESSAGE_LIMIT, what=N_("question"))
        check.text(
            (*path, "explanation"),
            question.explanation,
            limit=MESSAGE_LIMIT,
            what=N_("explanation"),
            required=False,
        )
    if kind in (QuestionKind.LIKERT, QuestionKind.OPEN):
        if question.options:
            check.add(
                (*path, "options"),
                N_("a likert question has no options (the agree scale is the bot's)")
                if kind is QuestionKind.LIKERT
                else N_("an open question has no options (the learner writes)"),
            )
    elif kind is QuestionKind.TRUE_FALSE and len(question.options) != 2:
        check.add(
            (*path, "options"),
            N_(
                "a true_false question has exactly 2 options, not {count}",
                count=len(question.options),
            ),
        )
    elif (
        kind is not QuestionKind.TRUE_FALSE
        and not CHOICE_OPTIONS[0] <= len(question.options) <= CHOICE_OPTIONS[1]
    ):
        low, high = CHOICE_OPTIONS
        check.add(
            (*path, "options"),
            N_(
                "a {kind} question has {low} to {high} options, not {count}",
                kind=kind.value,
                low=low,
                high=high,
                count=len(question.options),
            ),
        )
    if kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE) and correct != 1:
        check.add(
            (*path, "options"),
            N_(
                "a {kind} question has exactly one correct option, not {count}",
                kind=kind.value,
                count=correct,
            ),
        )
    if kind is QuestionKind.MULTIPLE and correct < 1:
        check.add((*path, "options"), N_("a multiple question needs at least one correct option"))
    if question.poll and kind not in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE):
        check.add((*path, "poll"), N_("only single and true_false questions can go as a quiz poll"))
    if question.reverse and kind is not QuestionKind.LIKERT:
        check.add((*path, "reverse"), N_("only likert statements are reverse-scored"))
    for index, option in enumerate(question.options):
        option_path = (*path, "options", index)
        if question.poll:
            check.text(
                (*option_path, "text"),
                option.text,
                limit=POLL_OPTION_LIMIT,
                what=N_("poll option"),
                markup=False,
            )
        else:
            check.text((*option_path, "text"), option.text, limit=OPTION_LIMIT, what=N_("option"))
        # Feedback is shown in the answer to the button press.
        check.text(
            (*option_path, "feedback"),
            option.feedback,
            limit=CALLBACK_ANSWER_LIMIT,
            what=N_("feedback"),
            required=False,
        )


def _check_poll(check: _Checker, path: Path, question: Question) -> None:
    check.text(
        (*path, "text"),
        question.text,
        limit=POLL_QUESTION_LIMIT,
        what=N_("poll question"),
        markup=False,
    )
    check.text(
        (*path, "explanation"),
        question.explanation,
        limit=POLL_EXPLANATION_LIMIT,
        what=N_("poll explanation"),
        markup=False,
        required=False,
    )
    low, high = POLL_OPTIONS
    if not low <= len(question.options) <= high:
        check.add(
            (*path, "options"),
            N_(
                "a poll has {low} to {high} options, not {count}",
                low=low,
                high=high,
                count=len(question.options),
            ),
        )


def validate_track(track: TrackDocument) -> list[Problem]:
    check = _Checker(track.locales, track.partial)
    check.check_locales()
    check.text(("title",), track.title, limit=TITLE_LIMIT, what=N_("title"), markup=False)
    check.text(("description",), track.description, limit=MESSAGE_LIMIT, what=N_("description"))
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
                    "track",
                    slug,
                    Problem(
                        ("slug",),
                        N_("track slug '{slug}' is used {count} times", slug=slug, count=count),
                    ),
                )
            )
    for slug, count in Counter(lesson.slug for lesson in lessons).items():
        if count > 1:
            problems.append(
                CurriculumProblem(
                    "lesson",
                    slug,
                    Problem(
                        ("slug",),
                        N_("lesson slug '{slug}' is used {count} times", slug=slug, count=count),
                    ),
                )
            )
    for lesson in lessons:
        if lesson.track is not None and lesson.track not in track_slugs:
            message = (
                N_(
                    "no track '{track}' (tracks: {tracks})",
                    track=lesson.track,
                    tracks=", ".join(sorted(track_slugs)),
                )
                if track_slugs
                else N_("no track '{track}' (tracks: none)", track=lesson.track)
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
            message = N_(
                "{count} lessons of track '{track}' share position {position}",
                count=count,
                track=track.slug,
                position=position,
            )
            yield CurriculumProblem("track", track.slug, Problem(("slug",), message))
    surveys = {kind: [lesson for lesson in lessons if lesson.survey is kind] for kind in Survey}
    for kind, found in surveys.items():
        if len(found) > 1:
            message = N_(
                "track '{track}' has {count} {kind}-surveys; one at most",
                track=track.slug,
                count=len(found),
                kind=kind.value,
            )
            yield CurriculumProblem("track", track.slug, Problem(("slug",), message))
    if surveys[Survey.PRE] and surveys[Survey.POST]:
        pre, post = surveys[Survey.PRE][0], surveys[Survey.POST][0]
        pre_keys, post_keys = _likert_keys(pre), _likert_keys(post)
        if pre_keys != post_keys:
            missing = sorted(pre_keys - post_keys)
            extra = sorted(post_keys - pre_keys)
            if missing and extra:
                details = N_(
                    "missing after: {missing}; only after: {extra}",
                    missing=", ".join(missing),
                    extra=", ".join(extra),
                )
            elif missing:
                details = N_("missing after: {keys}", keys=", ".join(missing))
            else:
                details = N_("only after: {keys}", keys=", ".join(extra))
            message = N_(
                "the post-survey must ask the pre-survey's likert statements ({details})",
                details=details,
            )
            yield CurriculumProblem("lesson", post.slug, Problem(("quiz", "questions"), message))
    rule = track.pass_rule.lessons
    if rule is not None and rule > len(lessons):
        message = N_(
            "pass_rule asks for {rule} lessons but the track has {count}",
            rule=rule,
            count=len(lessons),
        )
        yield CurriculumProblem("track", track.slug, Problem(("pass_rule", "lessons"), message))


def _likert_keys(lesson: LessonDocument) -> set[str]:
    return {question.key for question in lesson.questions() if question.kind is QuestionKind.LIKERT}
