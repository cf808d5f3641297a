"""Translations go stale by themselves when the English text of a lesson changes.

A lesson records, for each translated language, a fingerprint of the English texts that
translation was last brought in line with (``translated_from: {bg: 3f2a9c1e0b7d}``). When the
English changes, the fingerprint no longer matches and the language is *stale*: not complete,
whatever ``locales`` says, until the translation is updated and stamped again. Files are stamped
with ``learntogether lessons stamp``; the admin API stamps a language whose texts a new draft
changes (see ``services.lessons.save_draft``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from learntogether.content.schema import LessonDocument, LocalizedText, Recording, Step
from learntogether.i18n import SOURCE_LOCALE

FINGERPRINT_LENGTH = 12


def localized_texts(lesson: LessonDocument) -> Iterator[LocalizedText]:
    """Every text a learner reads, in document order."""
    yield lesson.title
    if lesson.summary is not None:
        yield lesson.summary
    for step in lesson.steps:
        yield step.text
        if step.image is not None and step.image.alt is not None:
            yield step.image.alt
        if step.link is not None:
            yield step.link.label
    for question in lesson.questions():
        yield question.text
        for option in question.options:
            yield option.text
            if option.feedback is not None:
                yield option.feedback
        if question.explanation is not None:
            yield question.explanation


def _texts_in(lesson: LessonDocument, locale: str) -> list[str]:
    return [text.get(locale, "") for text in localized_texts(lesson)]


def english_fingerprint(lesson: LessonDocument) -> str:
    """A short digest of the lesson's English texts: what a translation is translated from."""
    data = json.dumps(_texts_in(lesson, SOURCE_LOCALE), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def translated_locales(lesson: LessonDocument) -> list[str]:
    """The lesson's languages other than English, complete or partial, in the order given."""
    codes = dict.fromkeys([*lesson.locales, *lesson.partial])
    codes.pop(SOURCE_LOCALE, None)
    return list(codes)


def stale_locales(lesson: LessonDocument) -> list[str]:
    """Languages whose translation was made from an English text that has changed since.

    A language with no fingerprint is not tracked and never stale (documents from before
    fingerprints existed).
    """
    current = english_fingerprint(lesson)
    return [
        code
        for code in translated_locales(lesson)
        if code in lesson.translated_from and lesson.translated_from[code] != current
    ]


def complete_locales(lesson: LessonDocument) -> list[str]:
    """``locales`` without the stale ones: the languages a learner can read whole and current."""
    stale = set(stale_locales(lesson))
    return [code for code in lesson.locales if code not in stale]


class TranslationStatus(StrEnum):
    """How far a lesson is in one language (the console's translation matrix)."""

    SOURCE = "source"
    """English, which every other language is translated from."""
    COMPLETE = "complete"
    """Listed in ``locales`` and current: learners read it whole."""
    PARTIAL = "partial"
    """Not yet reviewed (listed in ``partial``) or missing some texts; the rest falls back."""
    STALE = "stale"
    """Translated from an English text that has changed since."""
    MISSING = "missing"
    """No text in this language at all."""


def text_coverage(lesson: LessonDocument, locale: str) -> tuple[int, int]:
    """How many of the lesson's texts ``locale`` has, and how many there are."""
    texts = _texts_in(lesson, locale)
    return sum(1 for text in texts if text.strip()), len(texts)


def translation_status(lesson: LessonDocument, locale: str) -> TranslationStatus:
    """The state of the lesson's ``locale``; a stale translation is stale however whole it is."""
    if locale == SOURCE_LOCALE:
        return TranslationStatus.SOURCE
    present, total = text_coverage(lesson, locale)
    if present == 0:
        return TranslationStatus.MISSING
    if locale in stale_locales(lesson):
        return TranslationStatus.STALE
    if locale in lesson.locales and present == total:
        return TranslationStatus.COMPLETE
    return TranslationStatus.PARTIAL


def stamp(lesson: LessonDocument, locales: Sequence[str] | None = None) -> LessonDocument:
    """The lesson with ``locales`` (all its translations when None) marked as up to date."""
    codes = translated_locales(lesson) if locales is None else list(locales)
    current = english_fingerprint(lesson)
    return lesson.model_copy(
        update={"translated_from": {**lesson.translated_from, **dict.fromkeys(codes, current)}}
    )


def refresh_stamps(lesson: LessonDocument, previous: LessonDocument | None) -> LessonDocument:
    """The stamps of a new version of a lesson, given its previous version (None when new).

    A language whose texts this version changes counts as updated and is stamped; a language
    whose stamp the new document leaves out keeps the previous one, so a client that does not
    know about stamps cannot make a stale translation look current, nor a current one stale.
    A new lesson's translations are taken as made from its English.
    """
    stamps = dict(lesson.translated_from)
    current = english_fingerprint(lesson)
    for code in translated_locales(lesson):
        if previous is None:
            stamps.setdefault(code, current)
        elif _texts_in(lesson, code) != _texts_in(previous, code):
            stamps[code] = current
        elif code not in stamps and code in previous.translated_from:
            stamps[code] = previous.translated_from[code]
    if stamps == lesson.translated_from:
        return lesson
    return lesson.model_copy(update={"translated_from": stamps})


def step_fingerprint(step: Step) -> str:
    """A short digest of a step's English text: what its recordings are recorded from."""
    digest = hashlib.sha256(step.text.get(SOURCE_LOCALE, "").encode("utf-8"))
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


def recording_is_stale(step: Step, recording: Recording) -> bool:
    """Recorded from an English text the step no longer has (never, when that is not known)."""
    return recording.recorded_from not in (None, step_fingerprint(step))


@dataclass(frozen=True)
class AudioCoverage:
    """How much of a lesson is recorded in one language (beside its translation status)."""

    recorded: int
    """Steps with a recording in the language, stale ones included."""
    stale: int
    """Of those, recorded from an English text that has changed since."""
    steps: int


def recorded_locales(lesson: LessonDocument) -> list[str]:
    """The languages any step of the lesson is recorded in, in the order first met."""
    return list(dict.fromkeys(code for step in lesson.steps for code in step.audio))


def audio_coverage(lesson: LessonDocument, locale: str) -> AudioCoverage:
    recordings = [(step, step.audio[locale]) for step in lesson.steps if locale in step.audio]
    return AudioCoverage(
        recorded=len(recordings),
        stale=sum(recording_is_stale(step, recording) for step, recording in recordings),
        steps=len(lesson.steps),
    )


def with_recording(
    lesson: LessonDocument, *, step: int, locale: str, sha256: str
) -> LessonDocument:
    """The lesson with step ``step`` (from 0) recorded in ``locale`` by the audio kept under
    ``sha256``, recorded from the step's English text as it is now."""
    steps = list(lesson.steps)
    recording = Recording(sha256=sha256, recorded_from=step_fingerprint(steps[step]))
    steps[step] = steps[step].model_copy(update={"audio": {**steps[step].audio, locale: recording}})
    return lesson.model_copy(update={"steps": steps})


def refresh_recordings(lesson: LessonDocument, previous: LessonDocument | None) -> LessonDocument:
    """Fill in what each new recording was recorded from, as ``refresh_stamps`` does for texts.

    A recording the previous version already had (same language, same content) keeps what it
    was recorded from; one not seen before is taken as recorded from the step's current text.
    """
    known = {
        (code, recording.sha256): recording.recorded_from
        for step in (previous.steps if previous else [])
        for code, recording in step.audio.items()
    }
    steps = []
    for step in lesson.steps:
        audio = {
            code: recording
            if recording.recorded_from is not None
            else recording.model_copy(
                update={
                    "recorded_from": known.get((code, recording.sha256)) or step_fingerprint(step)
                }
            )
            for code, recording in step.audio.items()
        }
        steps.append(step if audio == step.audio else step.model_copy(update={"audio": audio}))
    if steps == list(lesson.steps):
        return lesson
    return lesson.model_copy(update={"steps": steps})


_STAMPS_BLOCK = re.compile(r"^translated_from:.*\n(?:[ \t]+.*\n)*", re.MULTILINE)


def write_stamps(file: Path, lesson: LessonDocument) -> None:
    """Rewrite the ``translated_from`` block of a hand-written lesson file, and nothing else."""
    text = file.read_text(encoding="utf-8")
    lines = ["translated_from:"] + [
        f"  {code}: {fingerprint}" for code, fingerprint in sorted(lesson.translated_from.items())
    ]
    block = "\n".join(lines) + "\n"
    if _STAMPS_BLOCK.search(text):
        text = _STAMPS_BLOCK.sub(lambda _: block, text, count=1)
    else:
        partial = re.search(r"^partial:.*\n", text, re.MULTILINE) or re.search(
            r"^locales:.*\n", text, re.MULTILINE
        )
        at = partial.end() if partial else len(text)
        text = text[:at] + block + text[at:]
    file.write_text(text, encoding="utf-8")
