"""A lesson as a learner in one language sees it, with the fallbacks that were needed.

Lesson content falls back along the learner's chain (``i18n.learner_locales``: their locale, the
cohort's, the default, English), string by string; the result says which locale it is mostly in
and whether anything fell back, so the learner can be told the lesson is not (yet) fully in their
language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from learntogether.content.schema import LessonDocument, LocalizedText, Step
from learntogether.i18n import SOURCE_LOCALE


def pick_locale(text: LocalizedText, chain: Sequence[str]) -> str | None:
    """The locale of the text a reader of ``chain`` is given: the first along the chain that is
    written, else the first written at all (None: nothing is)."""
    return next((code for code in chain if text.get(code, "").strip()), next(iter(text), None))


def pick_text(text: LocalizedText, chain: Sequence[str]) -> str:
    """One text along the chain, without recording fallbacks (titles in lists and buttons)."""
    code = pick_locale(text, chain)
    return "" if code is None else text[code]


@dataclass
class _Picker:
    chain: list[str]
    fallbacks: set[str] = field(default_factory=set)

    def __call__(self, text: LocalizedText | None) -> str | None:
        if text is None:
            return None
        for code in self.chain:
            value = text.get(code, "").strip()
            if value:
                if code != self.chain[0]:
                    self.fallbacks.add(code)
                return value
        # Validation guarantees English; this only guards documents from before a rule existed.
        return next(iter(text.values()), "")


@dataclass(frozen=True)
class RenderedStep:
    text: str
    image_file: str | None
    image_url: str | None
    link_url: str | None
    link_label: str | None
    recording: str | None = None
    """The SHA-256 of the step's recording for this reader: in their own language, else in the
    language its text is shown in; None when there is none in either."""


@dataclass(frozen=True)
class RenderedOption:
    text: str
    correct: bool
    feedback: str | None


@dataclass(frozen=True)
class RenderedQuestion:
    key: str
    kind: str
    text: str
    options: list[RenderedOption]
    explanation: str | None
    poll: bool


@dataclass(frozen=True)
class RenderedLesson:
    slug: str
    requested_locale: str
    locale: str
    """The locale the lesson is shown in (the first of the chain it has at all)."""
    fallback_locales: list[str]
    """Locales some texts had to come from because the requested one lacked them."""
    title: str
    summary: str | None
    minutes: int
    steps: list[RenderedStep]
    questions: list[RenderedQuestion]
    pass_score: int | None

    @property
    def fully_translated(self) -> bool:
        return not self.fallback_locales


def _recording(step: Step, chain: Sequence[str]) -> str | None:
    shown_in = next((code for code in chain if step.text.get(code, "").strip()), None)
    for code in dict.fromkeys([chain[0], shown_in]):
        recording = step.audio.get(code) if code else None
        if recording is not None and recording.sha256 is not None:
            return recording.sha256
    return None


def render_lesson(lesson: LessonDocument, chain: Sequence[str]) -> RenderedLesson:
    """Pick every text of ``lesson`` along ``chain`` (``Locales.content``)."""
    available = set(lesson.locales) | set(lesson.partial)
    primary = next((code for code in chain if code in available), SOURCE_LOCALE)
    pick = _Picker(list(chain))
    steps = []
    for step in lesson.steps:
        link_url = step.link.url_for(primary) if step.link else None
        steps.append(
            RenderedStep(
                text=pick(step.text) or "",
                image_file=step.image.file if step.image else None,
                image_url=str(step.image.url) if step.image and step.image.url else None,
                link_url=link_url,
                link_label=pick(step.link.label) if step.link and link_url else None,
                recording=_recording(step, chain),
            )
        )
    questions = [
        RenderedQuestion(
            key=question.key,
            kind=question.kind.value,
            text=pick(question.text) or "",
            options=[
                RenderedOption(
                    text=pick(option.text) or "",
                    correct=option.correct,
                    feedback=pick(option.feedback),
                )
                for option in question.options
            ],
            explanation=pick(question.explanation),
            poll=question.poll,
        )
        for question in lesson.questions()
    ]
    title = pick(lesson.title) or ""
    summary = pick(lesson.summary)
    return RenderedLesson(
        slug=lesson.slug,
        requested_locale=chain[0],
        locale=primary,
        # Read last: every pick above has recorded its fallback by now.
        fallback_locales=sorted(pick.fallbacks),
        title=title,
        summary=summary,
        minutes=lesson.minutes,
        steps=steps,
        questions=questions,
        pass_score=lesson.quiz.pass_score if lesson.quiz else None,
    )
