"""Lesson files: reading YAML with line numbers, finding a curriculum on disk, writing it back.

``lessons/<track>/track.yaml`` describes a track; ``lessons/<track>/<NN>-<slug>.yaml`` is one
lesson, at position NN of the track. Every problem is reported as ``file:line: message``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from learntogether.content.audio import STEP_RECORDING, BadAudio, inspect_audio
from learntogether.content.schema import Document, LessonDocument, TrackDocument, dump_document
from learntogether.content.translations import stale_locales
from learntogether.content.validate import (
    Path as FieldPath,
)
from learntogether.content.validate import (
    Problem,
    document_problems,
    field_path,
    json_path,
    validate_curriculum,
    validate_lesson,
    validate_track,
)
from learntogether.i18n import N_, Text

TRACK_FILE = "track.yaml"
NOT_A_MAPPING = N_("expected a mapping of fields (slug: …, title: …)")
LESSON_FILE = re.compile(r"^(?P<position>\d{2,3})-(?P<slug>[a-z0-9-]+)\.ya?ml$")
D = TypeVar("D", bound=Document)


@dataclass(frozen=True)
class FileProblem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Loaded(Generic[D]):
    """A document read from a file, with the line of every field for error messages."""

    file: Path
    document: D
    lines: dict[FieldPath, int]

    def line_of(self, path: FieldPath) -> int:
        return _line(self.lines, path)


@dataclass
class Curriculum:
    tracks: list[Loaded[TrackDocument]] = field(default_factory=list)
    lessons: list[Loaded[LessonDocument]] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)
    """What does not stop an import but needs doing: stale translations."""
    audio: dict[str, bytes] = field(default_factory=dict)
    """The recordings the lessons name, by SHA-256 (each lesson's ``audio`` has it filled in)."""


def _lines(node: yaml.Node, path: FieldPath, into: dict[FieldPath, int]) -> None:
    into[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            into[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), into)
            into[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), into)


def read_yaml(file: Path) -> tuple[Any, dict[FieldPath, int]]:
    """The data of a YAML file and the line of every field in it; raises FileProblem-worthy errors."""
    return read_yaml_text(file.read_text(encoding="utf-8"))


def read_yaml_text(text: str) -> tuple[Any, dict[FieldPath, int]]:
    """The data of a YAML text and the line of every field in it; raises yaml.YAMLError."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[FieldPath, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return yaml.safe_load(text), lines


def _not_yaml(problem: object) -> Text:
    # The YAML parser's own words stay English; ours around them are said in the reader's.
    return N_("not valid YAML: {problem}", problem=problem)


def parse_document(model: type[D], data: Any) -> tuple[D | None, list[Problem]]:
    """Build the document and run its own rules; either a document or its problems."""
    try:
        document = model.model_validate(data)
    except ValidationError as error:
        return None, document_problems(error)
    if isinstance(document, LessonDocument):
        return document, validate_lesson(document)
    if isinstance(document, TrackDocument):
        return document, validate_track(document)
    return document, []


def _load(
    file: Path, model: type[D], derived: dict[str, Any], problems: list[FileProblem]
) -> Loaded[D] | None:
    try:
        data, lines = read_yaml(file)
    except (OSError, UnicodeDecodeError) as error:
        problems.append(FileProblem(file, 1, f"cannot read the file: {error}"))
        return None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        problems.append(FileProblem(file, line, _not_yaml(error.problem)))
        return None
    if not isinstance(data, dict):
        problems.append(FileProblem(file, 1, NOT_A_MAPPING))
        return None
    for name, value in derived.items():
        given = data.setdefault(name, value)
        if given != value:
            line = lines.get((name,), 1)
            problems.append(
                FileProblem(file, line, f"{name} is '{given}' but the file's place says '{value}'")
            )
    document, found = parse_document(model, data)
    located = [
        FileProblem(file, _line(lines, problem.path), _describe(problem)) for problem in found
    ]
    problems.extend(located)
    if document is None or located:
        return None
    return Loaded(file, document, lines)


@dataclass(frozen=True)
class LineProblem:
    """A problem of a lesson typed as YAML (the console's editor), at its line."""

    line: int
    path: str
    """The field as a JSON path (``$.steps[0].text.bg``), empty for the text as a whole."""
    message: str


def parse_lesson_text(
    text: str,
) -> tuple[LessonDocument | None, dict[FieldPath, int], list[LineProblem]]:
    """A lesson document from YAML text with the line of every field, or its problems at their
    lines (the lesson's own rules included; the rules of its track are the service's)."""
    try:
        data, lines = read_yaml_text(text)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        return None, {}, [LineProblem(line, "", _not_yaml(error.problem))]
    except yaml.YAMLError as error:
        return None, {}, [LineProblem(1, "", _not_yaml(error))]
    if not isinstance(data, dict):
        return None, lines, [LineProblem(1, "", NOT_A_MAPPING)]
    document, found = parse_document(LessonDocument, data)
    problems = [
        LineProblem(_line(lines, problem.path), json_path(problem.path), problem.message)
        for problem in found
    ]
    return (None if problems else document), lines, problems


def locate(lines: dict[FieldPath, int], path: str, message: str) -> LineProblem:
    """A problem a service names by JSON path, at the line of that field (or its nearest
    ancestor in the text)."""
    return LineProblem(_line(lines, field_path(path)), path, message)


def _describe(problem: Problem) -> str:
    """``steps[0].text.bg: …``: the field first, as authors know it from the file."""
    if not problem.path:
        return problem.message
    return f"{json_path(problem.path).removeprefix('$.')}: {problem.message}"


def _line(lines: dict[FieldPath, int], path: FieldPath) -> int:
    """The line of ``path``, or of its nearest ancestor the file has (for a missing field)."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _lesson_files(folder: Path) -> list[Path]:
    return sorted(
        file for file in folder.iterdir() if file.is_file() and LESSON_FILE.match(file.name)
    )


def _expand(paths: Iterable[Path], problems: list[FileProblem]) -> tuple[list[Path], list[Path]]:
    """Track files and lesson files named by the paths: a curriculum root, a track folder or files."""
    tracks: list[Path] = []
    lessons: list[Path] = []
    for path in paths:
        if path.is_file():
            if path.name == TRACK_FILE:
                tracks.append(path)
            elif LESSON_FILE.match(path.name):
                lessons.append(path)
                if (path.parent / TRACK_FILE).is_file():
                    tracks.append(path.parent / TRACK_FILE)
            else:
                problems.append(
                    FileProblem(
                        path, 1, f"not a lesson file (expected NN-slug.yaml or {TRACK_FILE})"
                    )
                )
        elif (path / TRACK_FILE).is_file():
            tracks.append(path / TRACK_FILE)
            lessons.extend(_lesson_files(path))
        elif path.is_dir():
            folders = sorted(folder for folder in path.iterdir() if (folder / TRACK_FILE).is_file())
            if not folders:
                problems.append(FileProblem(path, 1, f"no track folders (with {TRACK_FILE}) here"))
            for folder in folders:
                tracks.append(folder / TRACK_FILE)
                lessons.extend(_lesson_files(folder))
        else:
            problems.append(FileProblem(path, 1, "no such file or folder"))
    return list(dict.fromkeys(tracks)), list(dict.fromkeys(lessons))


def load_curriculum(paths: Sequence[Path]) -> Curriculum:
    """Read and check every document under ``paths``; the result carries every problem found."""
    curriculum = Curriculum()
    track_files, lesson_files = _expand(paths, curriculum.problems)
    for file in track_files:
        loaded_track = _load(file, TrackDocument, {"slug": file.parent.name}, curriculum.problems)
        if loaded_track is not None:
            curriculum.tracks.append(loaded_track)
    for file in lesson_files:
        match = LESSON_FILE.match(file.name)
        assert match is not None
        derived = {
            "track": file.parent.name,
            "position": int(match["position"]),
            "slug": match["slug"],
        }
        loaded_lesson = _load(file, LessonDocument, derived, curriculum.problems)
        if loaded_lesson is None:
            continue
        _check_image_files(loaded_lesson, curriculum.problems)
        curriculum.lessons.append(_read_audio_files(loaded_lesson, curriculum))
        curriculum.warnings.extend(_stale_translations(loaded_lesson))
    _check_across(curriculum, track_files)
    return curriculum


def _stale_translations(loaded: Loaded[LessonDocument]) -> list[FileProblem]:
    return [
        FileProblem(
            loaded.file,
            loaded.line_of(("translated_from", code)),
            f"translated_from.{code}: the English text changed since the '{code}' translation was "
            f"last updated, so '{code}' is stale: update it, then run "
            f"`learntogether lessons stamp {loaded.file} --locale {code}`",
        )
        for code in stale_locales(loaded.document)
    ]


def _check_image_files(loaded: Loaded[LessonDocument], problems: list[FileProblem]) -> None:
    for index, step in enumerate(loaded.document.steps):
        image = step.image.file if step.image is not None else None
        if image is not None and not (loaded.file.parent / image).is_file():
            line = loaded.line_of(("steps", index, "image", "file"))
            problems.append(FileProblem(loaded.file, line, f"image file '{image}' does not exist"))


def _read_audio_files(
    loaded: Loaded[LessonDocument], curriculum: Curriculum
) -> Loaded[LessonDocument]:
    """Check every recording the lesson names and pin its content by the file's ``sha256``.

    The document then names the recording by content alone (files are named again on export),
    so exporting and importing back changes nothing. A recording whose file no longer matches the
    ``sha256`` written in the lesson was recorded anew: what it was recorded from is forgotten
    (the import takes the step's current text).
    """
    steps = []
    for index, step in enumerate(loaded.document.steps):
        recordings = {}
        for code, recording in step.audio.items():
            if recording.file is not None:
                line = loaded.line_of(("steps", index, "audio", code))
                where = f"steps[{index}].audio.{code}"
                try:
                    data = (loaded.file.parent / recording.file).read_bytes()
                    info = inspect_audio(data, STEP_RECORDING)
                except OSError:
                    message = f"{where}: audio file '{recording.file}' does not exist"
                    curriculum.problems.append(FileProblem(loaded.file, line, message))
                    continue
                except BadAudio as bad:
                    message = f"{where}: '{recording.file}' is refused: {bad.detail}"
                    curriculum.problems.append(FileProblem(loaded.file, line, message))
                    continue
                curriculum.audio[info.sha256] = data
                anew = recording.sha256 != info.sha256
                recording = recording.model_copy(
                    update={
                        "file": None,
                        "sha256": info.sha256,
                        "recorded_from": None if anew else recording.recorded_from,
                    }
                )
            recordings[code] = recording
        steps.append(step.model_copy(update={"audio": recordings}))
    loaded.document = loaded.document.model_copy(update={"steps": steps})
    return loaded


def _check_across(curriculum: Curriculum, track_files: list[Path]) -> None:
    loaded_by_slug: dict[tuple[str, str], Loaded[Any]] = {}
    for track in curriculum.tracks:
        loaded_by_slug.setdefault(("track", track.document.slug), track)
    for lesson in curriculum.lessons:
        loaded_by_slug.setdefault(("lesson", lesson.document.slug), lesson)
    # Lessons whose track file failed to load are not reported again as "no such track".
    known_tracks = [track.document for track in curriculum.tracks]
    failed_tracks = {file.parent.name for file in track_files} - {
        track.slug for track in known_tracks
    }
    for found in validate_curriculum(
        known_tracks, [lesson.document for lesson in curriculum.lessons]
    ):
        loaded = loaded_by_slug[(found.kind, found.slug)]
        if found.problem.path == ("track",) and loaded.document.track in failed_tracks:
            continue
        curriculum.problems.append(
            FileProblem(loaded.file, loaded.line_of(found.problem.path), found.problem.message)
        )


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line text as ``|`` blocks, so exported lessons read like the hand-written ones."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_LiteralDumper.add_representer(str, _represent_text)


def to_yaml(document: BaseModel | dict[str, Any], *, drop: Sequence[str] = ()) -> str:
    data = dump_document(document) if isinstance(document, Document) else dict(document)
    for name in drop:
        data.pop(name, None)
    return yaml.dump(data, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=100)


def _with_audio_files(lesson: LessonDocument) -> LessonDocument:
    """Every recording named by a file next to the lesson (``audio/<slug>-step-2.bg.ogg``)."""
    steps = [
        step.model_copy(
            update={
                "audio": {
                    code: recording.model_copy(
                        update={
                            "file": recording.file
                            or f"audio/{lesson.slug}-step-{index + 1}.{code}.ogg"
                        }
                    )
                    for code, recording in step.audio.items()
                }
            }
        )
        for index, step in enumerate(lesson.steps)
    ]
    return lesson.model_copy(update={"steps": steps})


def write_curriculum(
    folder: Path,
    tracks: Sequence[TrackDocument],
    lessons: Sequence[LessonDocument],
    audio: Mapping[str, bytes] | None = None,
) -> list[Path]:
    """Write tracks and lessons as files that load back to the same documents, with the
    recordings they name (from ``audio``, by SHA-256) as files next to them."""
    written = []
    for track in tracks:
        track_folder = folder / track.slug
        track_folder.mkdir(parents=True, exist_ok=True)
        (track_folder / TRACK_FILE).write_text(to_yaml(track, drop=["slug"]), encoding="utf-8")
        written.append(track_folder / TRACK_FILE)
    for lesson in lessons:
        assert lesson.track is not None
        assert lesson.position is not None
        file = folder / lesson.track / f"{lesson.position:02d}-{lesson.slug}.yaml"
        file.parent.mkdir(parents=True, exist_ok=True)
        named = _with_audio_files(lesson)
        file.write_text(to_yaml(named, drop=["track", "position"]), encoding="utf-8")
        written.append(file)
        for step in named.steps:
            for recording in step.audio.values():
                assert recording.file is not None
                assert recording.sha256 is not None
                audio_file = file.parent / recording.file
                audio_file.parent.mkdir(parents=True, exist_ok=True)
                audio_file.write_bytes((audio or {})[recording.sha256])
                written.append(audio_file)
    return written
