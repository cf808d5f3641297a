"""The one definition of a lesson and a track document.

Lesson files (YAML), the import, the admin API (JSON) and the bot all use these models. The
structure is checked here; the rules that need the whole document (Telegram's limits, locales,
correct answers, unique keys) are in ``learntogether.content.validate``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_validator

from learntogether.db.models import QuestionKind, Role

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Slugs and keys travel in callback data (64 bytes) and deep links; these bounds leave room.
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=2, max_length=40)]
QuestionKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=24)]
LocaleCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
# Every text a learner reads: a map from locale to text (Telegram's HTML subset where it is shown
# as a message).
LocalizedText = dict[LocaleCode, str]
Fingerprint = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Survey(StrEnum):
    PRE = "pre"
    POST = "post"


class Image(Document):
    """A picture sent with the step; the step's text becomes its caption (1024 characters)."""

    file: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_./-]+\.(png|jpg|jpeg)$")] | None
    ) = None
    url: HttpUrl | None = None
    alt: LocalizedText | None = None


class Link(Document):
    """A button under the step that opens a web page.

    A learner reading a language the page is not in gets no button, unless ``translations`` has
    the same page in their language: parents who do not read English are not sent to English pages.
    """

    url: HttpUrl
    label: LocalizedText
    languages: list[LocaleCode] = []
    """The languages the page at ``url`` is in; any learner gets the button when not given."""
    translations: dict[LocaleCode, HttpUrl] = {}
    """The same page in other languages."""

    def url_for(self, locale: str) -> str | None:
        """The page for a learner reading ``locale``, or None when there is none in it."""
        if locale in self.translations:
            return str(self.translations[locale])
        if not self.languages or locale in self.languages:
            return str(self.url)
        return None


AudioFile = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\.ogg$"
    ),
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Recording(Document):
    """A step read aloud in one language: OGG/Opus, as Telegram's voice notes are.

    In a lesson file it may be given as its file alone (``bg: audio/01-step-2.bg.ogg``).
    """

    file: AudioFile | None = None
    """In lesson files: the file, relative to the lesson file (``audio/…``; never ``..``)."""
    sha256: Sha256 | None = None
    """The recording's content, kept in the database under it: the import fills it in from the
    file; through the API it names audio uploaded before (``…/steps/{n}/audio/{locale}``)."""
    recorded_from: Fingerprint | None = None
    """The fingerprint of the step's English text it was recorded from: when that text changes,
    the recording is stale (``content.translations``). Filled in when it comes in."""


class Step(Document):
    text: LocalizedText
    image: Image | None = None
    link: Link | None = None
    audio: dict[LocaleCode, Recording] = {}
    """Recordings of the step per language (any language the programme has, even one the lesson
    has no text in: Romani is spoken more than written)."""

    @field_validator("audio", mode="before")
    @classmethod
    def _file_alone(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                code: {"file": item} if isinstance(item, str) else item
                for code, item in value.items()
            }
        return value


class Option(Document):
    text: LocalizedText
    correct: bool = False
    feedback: LocalizedText | None = None


class Question(Document):
    key: QuestionKey
    kind: QuestionKind
    text: LocalizedText
    options: list[Option] = []
    explanation: LocalizedText | None = None
    poll: bool = False
    """Send as a native Telegram quiz poll (``single`` and ``true_false`` only)."""
    reverse: bool = False
    """A ``likert`` statement where agreeing means less awareness; reports flip its scale."""

    @property
    def scored(self) -> bool:
        return self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE)


class Quiz(Document):
    pass_score: Annotated[int, Field(ge=0, le=100)] | None = None
    """Percent of the scored questions answered correctly to pass; needed when any is scored."""
    questions: Annotated[list[Question], Field(min_length=1)]


class Source(Document):
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    publisher: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    year: Annotated[int, Field(ge=1900, le=2100)]
    url: HttpUrl | None = None


class LessonDocument(Document):
    """A lesson: in a file ``lessons/<track>/<NN>-<slug>.yaml``, or as JSON through the API."""

    slug: Slug
    track: Slug | None = None
    """In files, the folder's name; the API may give it."""
    position: Annotated[int, Field(ge=0, le=999)] | None = None
    """In files, the ``NN`` of the file name."""
    title: LocalizedText
    summary: LocalizedText | None = None
    audience: Annotated[list[Role], Field(min_length=1)]
    minutes: Annotated[int, Field(ge=1, le=60)]
    locales: Annotated[list[LocaleCode], Field(min_length=1)]
    """Locales in which every text is complete (``en`` always)."""
    partial: list[LocaleCode] = []
    """Locales with some texts still missing or in review; learners fall back to English."""
    translated_from: dict[LocaleCode, Fingerprint] = {}
    """Per translated locale, the fingerprint of the English it was last brought in line with;
    a locale whose fingerprint no longer matches is stale (``content.translations``)."""
    survey: Survey | None = None
    steps: Annotated[list[Step], Field(min_length=1, max_length=12)]
    quiz: Quiz | None = None
    sources: list[Source] = []

    def questions(self) -> list[Question]:
        return list(self.quiz.questions) if self.quiz else []


class PassRule(Document):
    """What completing a track takes for its certificate."""

    lessons: Annotated[int, Field(ge=1)] | None = None
    """How many of the track's lessons must be passed; all of them when not given."""
    min_average_score: Annotated[int, Field(ge=0, le=100)] | None = None


class TrackDocument(Document):
    """A track: ``lessons/<track>/track.yaml``."""

    slug: Slug
    position: Annotated[int, Field(ge=0, le=999)] = 0
    title: LocalizedText
    description: LocalizedText
    audience: Annotated[list[Role], Field(min_length=1)]
    locales: Annotated[list[LocaleCode], Field(min_length=1)]
    partial: list[LocaleCode] = []
    pass_rule: PassRule = PassRule()


def dump_document(document: Document) -> dict[str, Any]:
    """The document as plain JSON data, leaving out what was not given (files stay short)."""
    return document.model_dump(mode="json", exclude_defaults=True)
