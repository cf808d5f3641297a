"""Translations go stale when the English changes, in documents and in files (the API: tests/api)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from learntogether.content.files import load_curriculum
from learntogether.content.schema import LessonDocument
from learntogether.content.translations import (
    AudioCoverage,
    TranslationStatus,
    audio_coverage,
    complete_locales,
    english_fingerprint,
    recording_is_stale,
    refresh_recordings,
    stale_locales,
    stamp,
    step_fingerprint,
    text_coverage,
    translation_status,
    with_recording,
    write_stamps,
)
from tests.content.samples import lesson, write_curriculum

SLUG = "what-segregation-is"


def _document(**changes: Any) -> LessonDocument:
    return LessonDocument.model_validate(lesson(slug=SLUG, **changes))


def _with_english_step(data: dict[str, Any], text: str) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    changed["steps"][0]["text"]["en"] = text
    return changed


def test_a_stamped_translation_is_current_until_the_english_changes() -> None:
    stamped = stamp(_document())
    assert stale_locales(stamped) == []
    data = stamped.model_dump(mode="json", exclude_defaults=True)
    changed = LessonDocument.model_validate(_with_english_step(data, "<b>Segregation</b> hurts."))
    assert stale_locales(changed) == ["bg"]
    assert complete_locales(changed) == ["en"]


def test_changing_a_translation_alone_leaves_the_fingerprint_alone() -> None:
    document = _document()
    data = document.model_dump(mode="json", exclude_defaults=True)
    data["steps"][0]["text"]["bg"] = "Друг превод."
    assert english_fingerprint(LessonDocument.model_validate(data)) == english_fingerprint(document)


def test_a_lesson_without_fingerprints_is_never_stale() -> None:
    assert stale_locales(_document()) == []


def test_validate_warns_about_a_stale_file_and_stamping_it_clears_the_warning(
    tmp_path: Path,
) -> None:
    stamped = stamp(_document()).model_dump(mode="json", exclude_defaults=True)
    for derived in ("slug", "track", "position"):
        stamped.pop(derived, None)
    data = _with_english_step(stamped, "<b>Segregation</b> hurts.")
    write_curriculum(tmp_path, {"01-what-segregation-is.yaml": data})
    file = tmp_path / "demo" / "01-what-segregation-is.yaml"

    curriculum = load_curriculum([tmp_path])
    assert curriculum.problems == []
    [warning] = curriculum.warnings
    assert warning.file == file
    assert "'bg' is stale" in warning.message
    assert f"lessons stamp {file} --locale bg" in warning.message

    write_stamps(file, stamp(curriculum.lessons[0].document, ["bg"]))
    again = load_curriculum([tmp_path])
    assert (again.problems, again.warnings) == ([], [])


def test_a_fingerprint_for_a_language_the_lesson_does_not_have_is_a_problem(
    tmp_path: Path,
) -> None:
    data = lesson(translated_from={"es": "0123456789ab"})
    write_curriculum(tmp_path, {"01-what-segregation-is.yaml": data})
    problems = [str(problem) for problem in load_curriculum([tmp_path]).problems]
    assert len(problems) == 1
    assert "translated_from.es: 'es' is not one of the lesson's translations" in problems[0]


def test_translation_status_of_each_language() -> None:
    stamped = stamp(_document(partial=["es"], title={"en": "What", "bg": "Какво", "es": "Qué"}))
    assert [translation_status(stamped, code) for code in ("en", "bg", "es", "fr")] == [
        TranslationStatus.SOURCE,
        TranslationStatus.COMPLETE,
        TranslationStatus.PARTIAL,
        TranslationStatus.MISSING,
    ]
    assert text_coverage(stamped, "es")[0] == 1
    data = stamped.model_dump(mode="json", exclude_defaults=True)
    changed = LessonDocument.model_validate(_with_english_step(data, "<b>Segregation</b> hurts."))
    # Stale wins over complete and partial alike; a language with no text stays missing.
    assert translation_status(changed, "bg") is TranslationStatus.STALE
    assert translation_status(changed, "es") is TranslationStatus.STALE
    assert translation_status(changed, "fr") is TranslationStatus.MISSING


def test_an_unreviewed_language_with_every_text_is_still_partial() -> None:
    document = _document(locales=["en"], partial=["bg"])
    assert translation_status(document, "bg") is TranslationStatus.PARTIAL


SHA = "ab" * 32


def test_a_recording_goes_stale_when_its_steps_english_changes() -> None:
    recorded = with_recording(_document(), step=0, locale="rom", sha256=SHA)
    assert audio_coverage(recorded, "rom") == AudioCoverage(recorded=1, stale=0, steps=2)
    assert audio_coverage(recorded, "bg") == AudioCoverage(recorded=0, stale=0, steps=2)

    data = recorded.model_dump(mode="json", exclude_defaults=True)
    changed = LessonDocument.model_validate(_with_english_step(data, "<b>Segregation</b> hurts."))

    assert audio_coverage(changed, "rom") == AudioCoverage(recorded=1, stale=1, steps=2)
    assert recording_is_stale(changed.steps[0], changed.steps[0].audio["rom"])


def test_another_steps_english_does_not_make_a_recording_stale() -> None:
    recorded = with_recording(_document(), step=1, locale="bg", sha256=SHA)
    data = recorded.model_dump(mode="json", exclude_defaults=True)
    changed = LessonDocument.model_validate(_with_english_step(data, "Another first step."))

    assert audio_coverage(changed, "bg").stale == 0


def test_new_recordings_are_taken_as_made_from_the_current_text_known_ones_keep_theirs() -> None:
    data = lesson(slug=SLUG)
    data["steps"][0]["audio"] = {"bg": {"sha256": SHA, "recorded_from": "0" * 12}}
    previous = LessonDocument.model_validate(data)
    data["steps"][0]["audio"] = {"bg": {"sha256": SHA}, "rom": {"sha256": "cd" * 32}}

    refreshed = refresh_recordings(LessonDocument.model_validate(data), previous)

    audio = refreshed.steps[0].audio
    assert audio["bg"].recorded_from == "0" * 12
    assert audio["rom"].recorded_from == step_fingerprint(refreshed.steps[0])
    assert refresh_recordings(refreshed, previous) is refreshed
