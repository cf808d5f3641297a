"""``learntogether lessons validate|stamp|import|export`` on each database backend."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from learntogether.cli import app
from learntogether.db.engine import create_engine, create_session_maker
from learntogether.db.models import Lesson, LessonVersion, Media, Track
from tests.conftest import TestDatabase
from tests.content.samples import lesson, write_curriculum
from tests.oggopus import ogg_opus

runner = CliRunner()
LESSON_FILE = "01-what-segregation-is.yaml"


@pytest.fixture
def env(database: TestDatabase, session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return {"LT_DATABASE_URL": database.url, "LT_LOG_LEVEL": "WARNING"}


def _counts(url: str) -> tuple[int, int, int]:
    """(tracks, lessons, versions), read with an event loop of its own like the commands'."""

    async def count() -> tuple[int, int, int]:
        engine = create_engine(url)
        try:
            async with create_session_maker(engine)() as session:
                tracks, lessons, versions = [
                    await session.scalar(select(func.count()).select_from(model)) or 0
                    for model in (Track, Lesson, LessonVersion)
                ]
                return tracks, lessons, versions
        finally:
            await engine.dispose()

    return asyncio.run(count())


def test_validate_clean_curriculum_says_ok(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lessons", "validate", str(write_curriculum(tmp_path))])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ok: 1 tracks, 1 lessons"


def test_validate_broken_lesson_prints_file_line_problems_and_exits_1(tmp_path: Path) -> None:
    broken = lesson()
    broken["steps"][0]["text"]["en"] = "<b>unclosed"
    broken["steps"][1]["text"]["en"] = "y" * 5000
    broken["quiz"]["questions"][0]["options"][0]["correct"] = False
    write_curriculum(tmp_path, {LESSON_FILE: broken})
    result = runner.invoke(app, ["lessons", "validate", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        file, number, message = line.split(":", 2)
        assert file == str(tmp_path / "demo" / LESSON_FILE)
        assert number.isdigit()
        assert message.strip()
    assert "Traceback" not in result.output


def test_import_then_reimport_is_unchanged(tmp_path: Path, env: dict[str, str]) -> None:
    folder = write_curriculum(tmp_path / "lessons")
    first = runner.invoke(app, ["lessons", "import", str(folder)], env=env)
    assert first.exit_code == 0, first.output
    assert "added     track demo" in first.stdout
    assert "added     lesson what-segregation-is" in first.stdout
    second = runner.invoke(app, ["lessons", "import", str(folder)], env=env)
    assert second.stdout.strip().splitlines()[-1] == "0 added, 0 changed, 2 unchanged"
    assert _counts(env["LT_DATABASE_URL"]) == (1, 1, 1)


def test_changed_lesson_makes_exactly_one_new_version(tmp_path: Path, env: dict[str, str]) -> None:
    folder = write_curriculum(tmp_path / "lessons")
    runner.invoke(app, ["lessons", "import", str(folder)], env=env)
    write_curriculum(folder, {LESSON_FILE: lesson(minutes=6)})
    result = runner.invoke(app, ["lessons", "import", str(folder)], env=env)
    assert "changed   lesson what-segregation-is" in result.stdout
    assert _counts(env["LT_DATABASE_URL"]) == (1, 1, 2)


def test_failed_import_changes_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    folder = write_curriculum(tmp_path / "lessons")
    runner.invoke(app, ["lessons", "import", str(folder)], env=env)
    good_change = lesson(minutes=9)
    write_curriculum(folder, {LESSON_FILE: good_change, "02-broken.yaml": lesson(minutes=0)})
    result = runner.invoke(app, ["lessons", "import", str(folder)], env=env)
    assert result.exit_code == 1
    assert "02-broken.yaml" in result.stdout
    assert result.stderr.strip() == "error: 1 problem(s) found; nothing was imported"
    assert _counts(env["LT_DATABASE_URL"]) == (1, 1, 1)


def test_export_then_import_is_unchanged(tmp_path: Path, env: dict[str, str]) -> None:
    folder = write_curriculum(tmp_path / "lessons")
    runner.invoke(app, ["lessons", "import", str(folder)], env=env)
    exported = tmp_path / "exported"
    result = runner.invoke(app, ["lessons", "export", str(exported)], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote 2 files to {exported}"
    assert runner.invoke(app, ["lessons", "validate", str(exported)]).exit_code == 0
    reimport = runner.invoke(app, ["lessons", "import", str(exported)], env=env)
    assert reimport.stdout.strip().splitlines()[-1] == "0 added, 0 changed, 2 unchanged"
    data = yaml.safe_load((exported / "demo" / LESSON_FILE).read_text())
    assert "track" not in data
    assert "position" not in data


def test_validate_warns_about_a_stale_translation_and_stamp_makes_it_current(
    tmp_path: Path,
) -> None:
    stale = lesson(translated_from={"bg": "0123456789ab"})
    write_curriculum(tmp_path, {LESSON_FILE: stale})
    file = tmp_path / "demo" / LESSON_FILE

    warned = runner.invoke(app, ["lessons", "validate", str(tmp_path)])
    assert warned.exit_code == 0, warned.output
    assert f"{file}:" in warned.stdout
    assert "warning: translated_from.bg:" in warned.stdout
    assert warned.stdout.strip().endswith("ok: 1 tracks, 1 lessons, 1 stale translation(s)")

    stamped = runner.invoke(app, ["lessons", "stamp", str(file), "--locale", "bg"])
    assert stamped.exit_code == 0, stamped.output
    assert stamped.stdout.strip() == f"{file}: bg up to date"
    again = runner.invoke(app, ["lessons", "validate", str(tmp_path)])
    assert again.stdout.strip() == "ok: 1 tracks, 1 lessons"


def _media_count(url: str) -> int:
    async def count() -> int:
        engine = create_engine(url)
        try:
            async with create_session_maker(engine)() as session:
                return await session.scalar(select(func.count()).select_from(Media)) or 0
        finally:
            await engine.dispose()

    return asyncio.run(count())


def _recorded_curriculum(folder: Path) -> Path:
    data = lesson()
    data["steps"][1]["audio"] = {"bg": "audio/court.bg.ogg", "rom": "audio/court.rom.ogg"}
    write_curriculum(folder, {LESSON_FILE: data})
    (folder / "demo" / "audio").mkdir()
    (folder / "demo" / "audio" / "court.bg.ogg").write_bytes(ogg_opus(3))
    (folder / "demo" / "audio" / "court.rom.ogg").write_bytes(ogg_opus(4))
    return folder


def test_recordings_travel_with_the_lessons_through_import_and_export(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = _recorded_curriculum(tmp_path / "lessons")
    first = runner.invoke(app, ["lessons", "import", str(folder)], env=env)
    assert first.exit_code == 0, first.output
    assert _media_count(env["LT_DATABASE_URL"]) == 2

    exported = tmp_path / "exported"
    result = runner.invoke(app, ["lessons", "export", str(exported)], env=env)
    assert result.stdout.strip() == f"wrote 4 files to {exported}"
    data = yaml.safe_load((exported / "demo" / LESSON_FILE).read_text())
    audio = data["steps"][1]["audio"]
    assert audio["bg"]["file"] == "audio/what-segregation-is-step-2.bg.ogg"
    assert audio["bg"]["sha256"] == hashlib.sha256(ogg_opus(3)).hexdigest()
    assert len(audio["bg"]["recorded_from"]) == 12
    assert (exported / "demo" / audio["rom"]["file"]).read_bytes() == ogg_opus(4)

    reimport = runner.invoke(app, ["lessons", "import", str(exported)], env=env)
    assert reimport.stdout.strip().splitlines()[-1] == "0 added, 0 changed, 2 unchanged"
    assert _counts(env["LT_DATABASE_URL"]) == (1, 1, 1)
    assert _media_count(env["LT_DATABASE_URL"]) == 2


def test_an_unfit_recording_stops_the_import_at_its_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = _recorded_curriculum(tmp_path / "lessons")
    (folder / "demo" / "audio" / "court.rom.ogg").write_bytes(b"ID3 an mp3 file")

    result = runner.invoke(app, ["lessons", "import", str(folder)], env=env)

    assert result.exit_code == 1
    file, line, message = result.stdout.strip().split(":", 2)
    assert (file, line.isdigit()) == (str(folder / "demo" / LESSON_FILE), True)
    assert message.strip().startswith(
        "steps[1].audio.rom: 'audio/court.rom.ogg' is refused: not an OGG/Opus voice recording"
    )
    assert _counts(env["LT_DATABASE_URL"]) == (0, 0, 0)
    assert _media_count(env["LT_DATABASE_URL"]) == 0
