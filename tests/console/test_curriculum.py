"""The curriculum pages: lessons in order, the Telegram preview, the translation matrix, editing a
draft as YAML with problems at their lines, the diff, publishing and archiving; roles and CSRF."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import AuditLog, Lesson, LessonVersion, TokenRole, VersionStatus
from tests.conftest import TestDatabase
from tests.console.conftest import Programme, sign_in
from tests.content.samples import every_kind_lesson, lesson
from tests.factories import import_sample_curriculum
from tests.oggopus import ogg_opus

SLUG = "what-segregation-is"
PAGE = f"/curriculum/lessons/{SLUG}"
EDIT = f"{PAGE}/edit"


def _partly_spanish() -> dict[str, object]:
    """An English lesson with its title alone in Spanish, not yet reviewed."""
    data = every_kind_lesson()
    data.update(title={"en": "Partly Spanish", "es": "En parte español"}, partial=["es"])
    data.pop("quiz")
    return data


@pytest.fixture
async def curriculum(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    """The sample track: the sample lesson (en, bg), one with a question of every kind (en), and
    one partly in Spanish."""
    await import_sample_curriculum(
        session_maker,
        tmp_path,
        {
            "01-what-segregation-is.yaml": lesson(),
            "02-every-kind.yaml": every_kind_lesson(),
            "03-partly-spanish.yaml": _partly_spanish(),
        },
    )


def _textarea(page: Response) -> str:
    found = re.search(r'<textarea id="document"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert found is not None, page.text
    return html.unescape(found.group(1))


async def _editor_text(client: AsyncClient) -> str:
    page = await client.get(EDIT)
    assert page.status_code == 200, page.text
    return _textarea(page)


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.split("\n"), 1) if needle in line)


def _problems(page: Response) -> list[str]:
    found = re.search(r'<ul class="errors">(.*?)</ul>', page.text, re.S)
    assert found is not None, page.text
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


async def _refused(client: AsyncClient, csrf: str, text: str) -> tuple[Response, list[str]]:
    """Post ``text`` to the editor, which must refuse it and give every letter of it back."""
    page = await client.post(EDIT, data={"csrf": csrf, "document": text})
    assert page.status_code == 422, page.text
    assert _textarea(page) == text
    return page, _problems(page)


async def test_lessons_in_curriculum_order_with_their_status(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = await _editor_text(client)
    await client.post(
        EDIT, data={"csrf": csrf, "document": text.replace("minutes: 5", "minutes: 6")}
    )
    page = await client.get("/curriculum")
    assert page.status_code == 200
    body = page.text
    assert body.index("What segregation is") < body.index("Every kind") < body.index("Partly")
    assert "draft pending" in body
    assert 'href="/curriculum" aria-current="page"' in body


async def test_preview_shows_each_screen_with_its_buttons_beside_english(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    await sign_in(client, session_maker)
    page = await client.get(f"{PAGE}?locale=bg")
    assert page.status_code == 200, page.text
    body = page.text
    # Step texts, the bot's own header and buttons, in both languages.
    assert "<b>Сегрегацията</b> разделя децата." in body
    assert "<b>Segregation</b> separates children." in body
    assert "стъпка 1 от 2" in body and "step 1 of 2" in body
    assert '<li class="key">Напред ▶</li>' in body and '<li class="key">Next ▶</li>' in body
    assert "Прочетете" in body and "(opens https://hudoc.echr.coe.int/)" in body
    # The poll question shows its options as a poll; the other its buttons and each feedback.
    assert "Отговорете в теста по-долу." in body or "Answer in the quiz below." in body
    assert '<ul class="poll" lang="bg"' in body
    assert '<li class="key">Вярно</li>' in body
    assert "✅ Right!\nYes." in body and "❌ Not quite.\nNo." in body
    assert "Голямо отделение, 2007." in body


async def test_preview_of_a_question_of_every_kind_and_its_feedback(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    await sign_in(client, session_maker)
    page = await client.get("/curriculum/lessons/every-kind?locale=en")
    assert page.status_code == 200, page.text
    body = html.unescape(page.text)
    assert "Choose all that apply, then press Submit." in body
    assert "☐ A" in body and "Submit" in body
    assert "Strongly agree" in body and "How much do you agree?" in body
    assert "Write your answer in a message, or skip this question." in body
    # The right set of a multiple-choice question, then every option ticked.
    assert "✅ <b>A</b> — About A." in body
    assert "❌ <b>B</b> — About B." in body
    assert "The right answers: <b>A</b>, <b>C</b>" in body
    # A lesson only in English, previewed in Bulgarian, says what learners read instead.
    bulgarian = await client.get("/curriculum/lessons/every-kind?locale=bg")
    assert "some texts are not translated: learners read them in English" in bulgarian.text


async def test_preview_in_romani_takes_the_learners_chain_and_unknown_languages_are_ignored(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    await sign_in(client, session_maker)
    romani = await client.get(f"{PAGE}?locale=rom")
    assert romani.status_code == 200
    assert '<div class="bubble" lang="rom">' in romani.text
    assert "learners read them in English" in romani.text
    # A Romani learner in a Bulgarian cohort reads what Romani lacks in Bulgarian, not English.
    in_bulgaria = await client.get(f"{PAGE}?locale=rom&fallback=bg")
    assert "learners read them in Български" in in_bulgaria.text
    assert '<div class="bubble" lang="rom"><b>Какво е сегрегация</b>' in in_bulgaria.text
    assert '<option value="bg" lang="bg" selected>' in in_bulgaria.text
    unknown = await client.get(f"{PAGE}?locale=xx")
    assert unknown.status_code == 200
    # The reader's own language (English here) is not shown twice: the first translation is.
    assert '<option value="bg" lang="bg" selected>' in unknown.text
    assert (await client.get(f"{PAGE}?version=9")).status_code == 404


async def test_translation_matrix_complete_partial_stale_missing(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = (await _editor_text(client)).replace("2007 г.", "2007 година.")
    # A Bulgarian text changed: the Bulgarian counts as translated from this English.
    saved = await client.post(EDIT, data={"csrf": csrf, "document": text})
    assert saved.status_code == 303, saved.text
    before = await client.get("/curriculum/translations")
    assert re.search(
        rf'{SLUG}">.*?<td class="status-source">.*?<td class="status-complete">', before.text, re.S
    )
    # Then the English changes and the Bulgarian does not: the Bulgarian goes stale.
    changed = text.replace("The court ruled in 2007.", "The European court ruled in 2007.")
    saved = await client.post(EDIT, data={"csrf": csrf, "document": changed})
    assert saved.status_code == 303, saved.text
    page = await client.get("/curriculum/translations")
    assert page.status_code == 200

    def cells(slug: str) -> list[str]:
        row = re.search(rf'<a href="/curriculum/lessons/{slug}">.*?</tr>', page.text, re.S)
        assert row is not None
        return re.findall(r'<td class="status-(\w+)">', row.group(0))

    # Columns: en bg es fr nl ro rom.
    assert cells(SLUG) == ["source", "stale", *["missing"] * 5]
    assert cells("every-kind") == ["source", *["missing"] * 6]
    assert cells("partly-spanish")[:3] == ["source", "missing", "partial"]
    assert "1 of" in page.text


async def test_saving_the_yaml_makes_a_draft_audited_as_the_api(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = await _editor_text(client)
    saved = await client.post(
        EDIT, data={"csrf": csrf, "document": text.replace("minutes: 5", "minutes: 7")}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGE}?done=saved"
    async with session_maker() as session:
        lesson_id = await session.scalar(select(Lesson.id).where(Lesson.slug == SLUG))
        versions = (
            await session.scalars(
                select(LessonVersion)
                .where(LessonVersion.lesson_id == lesson_id)
                .order_by(LessonVersion.number)
            )
        ).all()
        audit = await session.scalar(
            select(AuditLog).where(AuditLog.entity_id == SLUG).order_by(AuditLog.id.desc())
        )
    assert [(v.number, v.status) for v in versions] == [
        (1, VersionStatus.PUBLISHED),
        (2, VersionStatus.DRAFT),
    ]
    assert versions[1].document["minutes"] == 7
    assert audit is not None
    assert (audit.action, audit.actor) == ("new_draft", "staff:Ana")


async def test_invalid_yaml_comes_back_with_the_text_and_its_line(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = await _editor_text(client)
    _page, [problem] = await _refused(client, csrf, text.replace("minutes: 5", "minutes: [5"))
    assert problem.startswith("Line ") and "not valid YAML" in problem


async def test_validator_problem_is_shown_at_its_line_and_nothing_is_lost(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = await _editor_text(client)
    # Bulgarian is a complete locale: a step without its Bulgarian text breaks that rule.
    broken = re.sub(r"\n *bg: Съдът реши през 2007 г\.", "", text)
    assert broken != text
    page, problems = await _refused(client, csrf, broken)
    line = _line_of(broken, "en: The court ruled in 2007.") - 1  # the step's ``text:`` line
    assert any(problem.startswith(f"Line {line} $.steps[1].text") for problem in problems), problems
    assert f'<li id="line-{line}" class="bad-line">' in page.text
    async with session_maker() as session:
        newest = await session.scalar(
            select(LessonVersion.number)
            .join(Lesson)
            .where(Lesson.slug == SLUG)
            .order_by(LessonVersion.number.desc())
        )
    assert newest == 1


async def test_unknown_field_and_wrong_slug_are_refused_at_their_lines(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = await _editor_text(client)
    extra = text.replace("minutes: 5", "minutes: 5\ncolour: red")
    _page, problems = await _refused(client, csrf, extra)
    assert problems == [f"Line {_line_of(extra, 'colour')} $.colour: unknown field 'colour'"]
    renamed = text.replace(f"slug: {SLUG}", "slug: another-lesson")
    _page, [problem] = await _refused(client, csrf, renamed)
    assert problem.startswith(f"Line {_line_of(renamed, 'slug:')} $.slug")
    assert "another-lesson" in problem


async def test_track_rules_from_the_service_are_shown_at_their_lines(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = await _editor_text(client)
    moved = text.replace("track: demo", "track: nowhere")
    _page, problems = await _refused(client, csrf, moved)
    assert problems == [
        f"Line {_line_of(moved, 'track: nowhere')} $.track: unknown track 'nowhere'"
    ]


async def test_publish_a_draft_then_publishing_again_is_refused_with_the_reason(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = await _editor_text(client)
    await client.post(
        EDIT, data={"csrf": csrf, "document": text.replace("minutes: 5", "minutes: 8")}
    )
    published = await client.post(f"{PAGE}/publish", data={"csrf": csrf})
    assert published.status_code == 303
    assert published.headers["location"] == f"{PAGE}?done=published"
    shown = await client.get(published.headers["location"])
    assert "Published: new learners start this version." in shown.text
    again = await client.post(f"{PAGE}/publish", data={"csrf": csrf})
    assert again.status_code == 409
    assert "has no draft to publish" in again.text


async def test_publishing_a_draft_the_rules_now_refuse_is_refused_with_the_reason(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    """A draft stored before a rule existed (written here straight into the database)."""
    csrf = await sign_in(client, session_maker)
    async with session_maker() as session:
        version = await session.scalar(
            select(LessonVersion).join(Lesson).where(Lesson.slug == SLUG)
        )
        assert version is not None
        document = dict(version.document)
        document["steps"] = [{"text": {"en": "Only English.", "bg": ""}}]
        session.add(
            LessonVersion(
                lesson_id=version.lesson_id,
                number=2,
                document=document,
                content_hash="0" * 64,
                status=VersionStatus.DRAFT,
            )
        )
        await session.commit()
    refused = await client.post(f"{PAGE}/publish", data={"csrf": csrf})
    assert refused.status_code == 422
    assert "$.steps[0].text.bg" in refused.text
    async with session_maker() as session:
        status = await session.scalar(select(LessonVersion.status).where(LessonVersion.number == 2))
    assert status is VersionStatus.DRAFT


async def test_archive_then_archive_again_is_refused(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    archived = await client.post(f"{PAGE}/archive", data={"csrf": csrf})
    assert archived.headers["location"] == f"{PAGE}?done=archived"
    again = await client.post(f"{PAGE}/archive", data={"csrf": csrf})
    assert again.status_code == 409
    assert "already archived" in again.text


@pytest.mark.parametrize("action", ["edit", "publish", "archive"])
async def test_a_form_without_its_csrf_token_is_refused(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    curriculum: None,
    action: str,
) -> None:
    await sign_in(client, session_maker)
    text = await _editor_text(client)
    refused = await client.post(f"{PAGE}/{action}", data={"document": text + "\n"})
    assert refused.status_code == 403
    forged = await client.post(f"{PAGE}/{action}", data={"csrf": "forged", "document": text})
    assert forged.status_code == 403
    async with session_maker() as session:
        audit = await session.scalar(select(AuditLog.id).where(AuditLog.actor == "staff:Ana"))
    assert audit is None


async def test_diff_between_two_versions_shows_removed_and_added_lines(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    text = await _editor_text(client)
    await client.post(
        EDIT, data={"csrf": csrf, "document": text.replace("minutes: 5", "minutes: 9")}
    )
    page = await client.get(f"{PAGE}/diff?from=1&to=2")
    assert page.status_code == 200
    assert '<del><span class="visually-hidden">removed: </span>' in page.text
    assert re.search(r"<ins>.*?minutes: 9</ins>", page.text)
    assert re.search(r"<del>.*?minutes: 5</del>", page.text)
    same = await client.get(f"{PAGE}/diff?from=2&to=2")
    assert "The two versions are the same." in same.text
    missing = await client.get(f"{PAGE}/diff?from=1&to=7")
    assert missing.status_code == 404


@pytest.mark.parametrize("role", [TokenRole.MEDIATOR, TokenRole.VIEWER])
async def test_mediators_and_viewers_read_but_never_write(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    curriculum: None,
    programme: Programme,
    role: TokenRole,
) -> None:
    """As ``GET /api/v1/lessons`` lets every token read and only admins write."""
    cohorts = [programme.sliven] if role is TokenRole.MEDIATOR else None
    csrf = await sign_in(client, session_maker, role, name="Reader", cohorts=cohorts)
    for path in ("/curriculum", "/curriculum/translations", PAGE, f"{PAGE}/diff?from=1&to=1"):
        page = await client.get(path)
        assert page.status_code == 200, path
    lesson_page = await client.get(PAGE)
    assert "/publish" not in lesson_page.text and "/edit" not in lesson_page.text
    assert (await client.get(EDIT)).status_code == 403
    for action in ("edit", "publish", "archive"):
        refused = await client.post(f"{PAGE}/{action}", data={"csrf": csrf, "document": "x"})
        assert refused.status_code == 403, action
    async with session_maker() as session:
        audit = await session.scalar(select(AuditLog.id).where(AuditLog.actor == "staff:Reader"))
    assert audit is None


async def test_unknown_lesson_and_signed_out_reader(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    signed_out = await client.get("/curriculum")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/signin?next=/curriculum"
    await sign_in(client, session_maker)
    assert (await client.get("/curriculum/lessons/no-such-lesson")).status_code == 404
    assert (await client.get("/curriculum/lessons/no-such-lesson/edit")).status_code == 404


async def _statements(client: AsyncClient, database: TestDatabase, path: str) -> int:
    statements: list[str] = []

    def remember(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        assert (await client.get(path)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return len(statements)


async def test_pages_run_as_many_queries_for_a_long_curriculum_as_for_a_short_one(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    database: TestDatabase,
    tmp_path: Path,
) -> None:
    """No query per lesson or per version: the counts stay put when the curriculum grows."""
    await import_sample_curriculum(session_maker, tmp_path / "short", {"01-one.yaml": lesson()})
    await sign_in(client, session_maker)
    pages = ("/curriculum", "/curriculum/translations", "/curriculum/lessons/one?locale=bg")
    short = [await _statements(client, database, path) for path in pages]
    longer = {f"{n:02d}-more-{n}.yaml": lesson() for n in range(2, 12)}
    await import_sample_curriculum(
        session_maker, tmp_path / "long", {"01-one.yaml": lesson(minutes=6), **longer}
    )
    long = [await _statements(client, database, path) for path in pages]
    assert long == short, (short, long)
    assert max(short) <= 12, short


async def test_translation_matrix_shows_recordings_per_language_and_when_they_are_stale(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    recorded = lesson()
    recorded["steps"][1]["audio"] = {"bg": "audio/court.bg.ogg", "rom": "audio/court.rom.ogg"}
    (tmp_path / "demo" / "audio").mkdir(parents=True)
    (tmp_path / "demo" / "audio" / "court.bg.ogg").write_bytes(ogg_opus(2))
    (tmp_path / "demo" / "audio" / "court.rom.ogg").write_bytes(ogg_opus(3))
    await import_sample_curriculum(
        session_maker, tmp_path, {"01-what-segregation-is.yaml": recorded}
    )
    csrf = await sign_in(client, session_maker)

    def row(page: Response) -> str:
        found = re.search(rf'<a href="/curriculum/lessons/{SLUG}">.*?</tr>', page.text, re.S)
        assert found is not None
        return found.group(0)

    page = await client.get("/curriculum/translations")
    assert row(page).count("recorded: 1 of 2</small>") == 2
    # Romani has no text, only the recording.
    assert re.search(r'status-missing">.*?recorded: 1 of 2', row(page), re.S)
    listed = await client.get("/curriculum")
    assert "recorded: bg, rom" in listed.text
    assert "stale recordings" not in listed.text

    text = (await _editor_text(client)).replace(
        "The court ruled in 2007.", "The European court ruled in 2007."
    )
    saved = await client.post(EDIT, data={"csrf": csrf, "document": text})
    assert saved.status_code == 303, saved.text

    page = await client.get("/curriculum/translations")
    assert row(page).count("recorded: 1 of 2, 1 stale</small>") == 2
    assert "stale recordings: bg, rom" in (await client.get("/curriculum")).text


async def test_a_bulgarian_reader_reads_every_kind_of_problem_in_bulgarian_at_its_line(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    csrf = await sign_in(client, session_maker)
    client.headers["accept-language"] = "bg"
    text = await _editor_text(client)
    # The shape of the document (pydantic's problems and an unknown field) comes first.
    shapeless = text.replace("minutes: 5", "minutes: 0\ncolour: red")
    _page, problems = await _refused(client, csrf, shapeless)
    assert problems == [
        f"Ред {_line_of(shapeless, 'minutes: 0')} $.minutes: Стойността трябва да е поне 1",
        f"Ред {_line_of(shapeless, 'colour: red')} $.colour: непознато поле „colour“",
    ]
    # Then the validator's rules: a complete locale without a step's text.
    untranslated = re.sub(r"\n *bg: Съдът реши през 2007 г\.", "", text)
    _page, problems = await _refused(client, csrf, untranslated)
    line = _line_of(untranslated, "en: The court ruled in 2007.") - 1
    assert problems == [
        f"Ред {line} $.steps[1].text.bg: текста на стъпката: липсва текст на „bg“ "
        "(добавете го или впишете „bg“ в partial)"
    ]
    _page, [not_yaml] = await _refused(client, csrf, text.replace("minutes: 5", "minutes: [5"))
    assert not_yaml.startswith(f"Ред {_line_of(text, 'minutes: 5') + 1}: невалиден YAML: ")
    # And a rule only the service knows (the track).
    _page, problems = await _refused(client, csrf, text.replace("track: demo", "track: nowhere"))
    assert problems == [f"Ред {_line_of(text, 'track: demo')} $.track: непознат курс „nowhere“"]
