"""Lesson and track rules, through the file loader: every problem, each at its file and line."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from learntogether.content.files import load_curriculum
from tests.content.samples import LESSON, lesson, survey, write_curriculum
from tests.oggopus import ogg_opus

BROKEN_STEP_LINE = 7


def _problems(tmp_path: Path, lessons: dict[str, dict[str, Any]]) -> list[str]:
    write_curriculum(tmp_path, lessons)
    return [str(problem) for problem in load_curriculum([tmp_path]).problems]


def test_sample_curriculum_is_valid(tmp_path: Path) -> None:
    curriculum = load_curriculum([write_curriculum(tmp_path)])
    assert curriculum.problems == []
    assert [loaded.document.slug for loaded in curriculum.lessons] == ["what-segregation-is"]
    document = curriculum.lessons[0].document
    assert (document.track, document.position) == ("demo", 1)


def test_broken_lesson_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    broken = lesson()
    broken["steps"][0]["text"]["en"] = "<b>Segregation separates children."
    broken["steps"][1]["text"]["en"] = "x" * 5000
    broken["quiz"]["questions"][0]["options"][0]["correct"] = False
    problems = _problems(tmp_path, {"01-what-segregation-is.yaml": broken})
    file = tmp_path / "demo" / "01-what-segregation-is.yaml"
    text = (file).read_text().splitlines()
    assert len(problems) == 3, problems
    unbalanced, too_long, no_correct = problems
    assert unbalanced.startswith(f"{file}:")
    assert (
        "steps[0].text.en: Telegram would refuse this step text: Can't find end tag" in unbalanced
    )
    assert "steps[1].text.en: step text is 5000 characters; Telegram's limit is 4096" in too_long
    assert (
        "quiz.questions[0].options: a single question has exactly one correct option, not 0"
        in no_correct
    )
    line = int(unbalanced.split(":")[1])
    assert "<b>Segregation separates" in text[line - 1]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"locales": ["en", "xx"]}, "locales[1]: unknown locale 'xx'"),
        ({"locales": ["bg"]}, "locales: 'en' must be complete"),
        ({"audience": ["teacher", "wizard"]}, "audience[1]: Input should be 'teacher'"),
        ({"colour": "blue"}, "colour: unknown field 'colour'"),
        ({"minutes": 0}, "minutes: Input should be greater than or equal to 1"),
        ({"sources": []}, "sources: list the sources of the lesson's facts"),
        (
            {"title": {"en": "<i>Title</i>", "bg": "Заглавие"}},
            "title.en: title is shown as plain text",
        ),
    ],
)
def test_lesson_rule_is_reported(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    problems = _problems(tmp_path, {"01-what-segregation-is.yaml": lesson(**change)})
    assert any(expected in problem for problem in problems), problems


def test_missing_translation_is_a_problem_unless_marked_partial(tmp_path: Path) -> None:
    untranslated = lesson()
    del untranslated["steps"][0]["text"]["bg"]
    problems = _problems(tmp_path, {"01-what-segregation-is.yaml": untranslated})
    assert any("steps[0].text.bg: step text has no 'bg' text" in problem for problem in problems)
    partial = lesson(locales=["en"], partial=["bg"])
    del partial["steps"][0]["text"]["bg"]
    assert _problems(tmp_path, {"01-what-segregation-is.yaml": partial}) == []


def test_text_in_an_undeclared_locale_is_a_problem(tmp_path: Path) -> None:
    extra = lesson()
    extra["title"]["es"] = "Qué es la segregación"
    problems = _problems(tmp_path, {"01-what-segregation-is.yaml": extra})
    assert any(
        "title.es: 'es' is neither in locales nor in partial" in problem for problem in problems
    )


def test_poll_limits_are_checked(tmp_path: Path) -> None:
    poll = lesson()
    question = poll["quiz"]["questions"][0]
    question["text"]["en"] = "q" * 301
    question["options"][1]["text"]["en"] = "o" * 101
    question["explanation"]["en"] = "e" * 201
    problems = "\n".join(_problems(tmp_path, {"01-what-segregation-is.yaml": poll}))
    assert "poll question is 301 characters; Telegram's limit is 300" in problems
    assert "poll option is 101 characters; Telegram's limit is 100" in problems
    assert "poll explanation is 201 characters; Telegram's limit is 200" in problems


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            {"kind": "true_false", "extra_option": True},
            "a true_false question has exactly 2 options, not 3",
        ),
        (
            {"kind": "multiple", "no_correct": True},
            "a multiple question needs at least one correct option",
        ),
        ({"kind": "likert"}, "a likert question has no options"),
        ({"kind": "open"}, "an open question has no options"),
    ],
)
def test_question_kind_rules(tmp_path: Path, question: dict[str, Any], expected: str) -> None:
    data = lesson()
    target = data["quiz"]["questions"][1]
    target["kind"] = question["kind"]
    if question.get("extra_option"):
        target["options"].append({"text": {"en": "Maybe", "bg": "Може би"}})
    if question.get("no_correct"):
        target["options"][0]["correct"] = False
    problems = "\n".join(_problems(tmp_path, {"01-what-segregation-is.yaml": data}))
    assert expected in problems


def test_pre_and_post_surveys_must_share_likert_keys(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        {
            "00-before.yaml": survey("pre", ["expect-success", "mixed-classes"]),
            "01-what-segregation-is.yaml": LESSON,
            "02-after.yaml": survey("post", ["expect-success", "new-item"]),
        },
    )
    assert len(problems) == 1
    assert "02-after.yaml" in problems[0]
    assert "missing after: mixed-classes; only after: new-item" in problems[0]


def test_duplicate_lesson_slug_across_tracks_is_reported(tmp_path: Path) -> None:
    write_curriculum(tmp_path)
    write_curriculum(tmp_path / "other")
    (tmp_path / "other" / "demo").rename(tmp_path / "second")
    problems = [
        str(problem) for problem in load_curriculum([tmp_path, tmp_path / "second"]).problems
    ]
    assert any(
        "lesson slug 'what-segregation-is' is used 2 times" in problem for problem in problems
    )


def test_file_name_and_slug_must_agree(tmp_path: Path) -> None:
    problems = _problems(tmp_path, {"01-what-segregation-is.yaml": lesson(slug="something-else")})
    assert any(
        "slug is 'something-else' but the file's place says 'what-segregation-is'" in p
        for p in problems
    )


def test_invalid_yaml_points_at_its_line(tmp_path: Path) -> None:
    write_curriculum(tmp_path)
    bad = tmp_path / "demo" / "02-broken.yaml"
    bad.write_text("title:\n  en: [unclosed\n", encoding="utf-8")
    problems = [str(problem) for problem in load_curriculum([tmp_path]).problems]
    assert problems == [f"{bad}:3: not valid YAML: expected ',' or ']', but got '<stream end>'"]


def test_missing_image_file_is_reported(tmp_path: Path) -> None:
    data = lesson()
    data["steps"][0]["image"] = {"file": "images/map.png"}
    problems = _problems(tmp_path, {"01-what-segregation-is.yaml": data})
    assert any("image file 'images/map.png' does not exist" in problem for problem in problems)


def test_step_with_image_is_a_caption_of_1024(tmp_path: Path) -> None:
    data = lesson()
    (tmp_path / "demo" / "images").mkdir(parents=True)
    (tmp_path / "demo" / "images" / "map.png").write_bytes(b"\x89PNG")
    data["steps"][0]["image"] = {"file": "images/map.png"}
    data["steps"][0]["text"]["en"] = "c" * 1025
    problems = _problems(tmp_path, {"01-what-segregation-is.yaml": data})
    assert any(
        "step text (a caption) is 1025 characters; Telegram's limit is 1024" in p for p in problems
    )


def _with_audio(tmp_path: Path, audio: dict[str, Any], files: dict[str, bytes]) -> list[str]:
    data = lesson()
    data["steps"][1]["audio"] = audio
    for name, content in files.items():
        (tmp_path / "demo" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "demo" / name).write_bytes(content)
    return _problems(tmp_path, {"01-what-segregation-is.yaml": data})


def test_step_audio_file_is_read_and_pinned_by_its_sha256(tmp_path: Path) -> None:
    recording = ogg_opus(2)
    problems = _with_audio(
        tmp_path, {"bg": "audio/01-step-2.bg.ogg"}, {"audio/01-step-2.bg.ogg": recording}
    )
    curriculum = load_curriculum([tmp_path])

    assert problems == []
    audio = curriculum.lessons[0].document.steps[1].audio
    assert audio["bg"].file is None
    assert audio["bg"].sha256 == hashlib.sha256(recording).hexdigest()
    assert curriculum.audio == {audio["bg"].sha256: recording}


def test_audio_recorded_anew_forgets_what_the_old_one_was_recorded_from(tmp_path: Path) -> None:
    _with_audio(
        tmp_path,
        {"bg": {"file": "audio/a.ogg", "sha256": "0" * 64, "recorded_from": "0" * 12}},
        {"audio/a.ogg": ogg_opus(2)},
    )

    recording = load_curriculum([tmp_path]).lessons[0].document.steps[1].audio["bg"]

    assert recording.recorded_from is None
    assert recording.sha256 == hashlib.sha256(ogg_opus(2)).hexdigest()


@pytest.mark.parametrize(
    ("audio", "files", "expected"),
    [
        (
            {"bg": "audio/none.ogg"},
            {},
            "steps[1].audio.bg: audio file 'audio/none.ogg' does not exist",
        ),
        (
            {"bg": "audio/long.ogg"},
            {"audio/long.ogg": ogg_opus(192)},
            "steps[1].audio.bg: 'audio/long.ogg' is refused: 3 min 12 s is longer than the "
            "3 minutes a step recording may last",
        ),
        (
            {"bg": "audio/text.ogg"},
            {"audio/text.ogg": b"just text"},
            "steps[1].audio.bg: 'audio/text.ogg' is refused: not an OGG/Opus voice recording",
        ),
        (
            {"bg": "../../secret.ogg"},
            {},
            "steps[1].audio.bg.file: an audio file is an .ogg file named relative to the lesson",
        ),
        ({"bg": "audio/a.mp3"}, {}, "steps[1].audio.bg.file: an audio file is an .ogg file"),
        ({"xx": {"sha256": "a" * 64}}, {}, "steps[1].audio.xx: unknown locale 'xx'"),
        ({"bg": {"recorded_from": "0" * 12}}, {}, "steps[1].audio.bg: a recording needs its file"),
    ],
)
def test_bad_step_audio_is_reported_at_its_line(
    tmp_path: Path, audio: dict[str, Any], files: dict[str, bytes], expected: str
) -> None:
    problems = _with_audio(tmp_path, audio, files)

    assert len(problems) == 1, problems
    file, line, message = problems[0].split(":", 2)
    assert file.endswith("01-what-segregation-is.yaml")
    assert message.strip().startswith(expected), message
    text = (tmp_path / "demo" / "01-what-segregation-is.yaml").read_text(encoding="utf-8")
    (code,) = audio
    assert text.splitlines()[int(line) - 1].strip().startswith(f"{code}:")
    assert text.splitlines()[int(line) - 2].strip() == "audio:"
