"""Step recordings through the API: uploaded as OGG/Opus bodies, each change a new draft,
refused whole when unfit, listed per language beside translations, and played back."""

from __future__ import annotations

import copy
import hashlib

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.models import LessonVersion, Media, TokenRole
from tests.content.samples import TRACK, lesson
from tests.factories import create_api_token
from tests.oggopus import ogg_opus

SLUG = "what-segregation-is"
AUDIO = f"/api/v1/lessons/{SLUG}/steps/1/audio"
OGG = {"Content-Type": "audio/ogg"}


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None)


@pytest.fixture
async def headers(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {await create_api_token(session_maker, name='author')}"}
    await client.put("/api/v1/tracks/demo", json={**TRACK, "slug": "demo"}, headers=headers)
    created = await client.put(
        f"/api/v1/lessons/{SLUG}", json=lesson(slug=SLUG, track="demo"), headers=headers
    )
    assert created.status_code == 201, created.text
    assert (await client.post(f"/api/v1/lessons/{SLUG}/publish", headers=headers)).is_success
    return headers


async def _stored(session_maker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with session_maker() as session:
        media = await session.scalar(select(func.count()).select_from(Media))
        versions = await session.scalar(select(func.count()).select_from(LessonVersion))
    return media or 0, versions or 0


async def test_an_uploaded_recording_makes_a_draft_that_names_it_and_plays_back(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    recording = ogg_opus(4)

    saved = await client.put(f"{AUDIO}/bg", content=recording, headers={**headers, **OGG})

    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["latest_version"], body["published_version"]) == (2, 1)
    audio = body["document"]["steps"][1]["audio"]
    assert audio["bg"]["sha256"] == hashlib.sha256(recording).hexdigest()
    assert len(audio["bg"]["recorded_from"]) == 12
    assert body["audio"] == {"bg": {"recorded": 1, "stale": 0, "steps": 2}}
    played = await client.get(f"{AUDIO}/bg", headers=headers)
    assert played.status_code == 200
    assert played.headers["content-type"] == "audio/ogg"
    assert played.content == recording
    # The published version has no recording yet.
    assert (await client.get(f"{AUDIO}/bg?version=1", headers=headers)).status_code == 404


async def test_a_romani_recording_needs_no_romani_text(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    saved = await client.put(f"{AUDIO}/rom", content=ogg_opus(2), headers={**headers, **OGG})

    assert saved.status_code == 200, saved.text
    assert saved.json()["audio"] == {"rom": {"recorded": 1, "stale": 0, "steps": 2}}


async def test_a_recording_goes_stale_when_its_steps_english_changes(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    saved = await client.put(f"{AUDIO}/bg", content=ogg_opus(2), headers={**headers, **OGG})
    document = copy.deepcopy(saved.json()["document"])
    document["steps"][1]["text"]["en"] = "The European court ruled in 2007."
    document["steps"][1]["text"]["bg"] = "Европейският съд реши през 2007 г."

    changed = await client.put(f"/api/v1/lessons/{SLUG}", json=document, headers=headers)

    assert changed.status_code == 200, changed.text
    assert changed.json()["audio"] == {"bg": {"recorded": 1, "stale": 1, "steps": 2}}
    assert changed.json()["stale"] == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html>not audio</html>", "not an OGG/Opus voice recording (no 'OggS' page at byte 0)"),
        (ogg_opus(181), "3 min 1 s is longer than the 3 minutes a step recording may last"),
        (b"\0" * (1536 * 1024 + 1), "1.6 MB is more than the 1.5 MB a step recording may take"),
    ],
)
async def test_unfit_audio_is_a_problem_with_its_reason_and_nothing_is_stored(
    client: AsyncClient,
    headers: dict[str, str],
    session_maker: async_sessionmaker[AsyncSession],
    body: bytes,
    detail: str,
) -> None:
    before = await _stored(session_maker)

    refused = await client.put(f"{AUDIO}/bg", content=body, headers={**headers, **OGG})

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["detail"] == detail
    assert problem["errors"] == [{"path": "$", "message": detail}]
    assert await _stored(session_maker) == before


async def test_a_body_over_the_apis_limit_is_refused_before_it_is_read(
    client: AsyncClient, headers: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    before = await _stored(session_maker)

    refused = await client.put(f"{AUDIO}/bg", content=b"\0" * (3 * 1024 * 1024), headers=headers)

    assert refused.status_code == 413
    assert await _stored(session_maker) == before


@pytest.mark.parametrize(
    ("url", "status", "path"),
    [
        (f"/api/v1/lessons/{SLUG}/steps/2/audio/bg", 404, None),
        (f"{AUDIO}/xx", 422, "path.locale"),
        (f"/api/v1/lessons/{SLUG}/steps/-1/audio/bg", 422, "path.step"),
        ("/api/v1/lessons/no-such-lesson/steps/0/audio/bg", 404, None),
    ],
)
async def test_a_step_or_language_that_does_not_exist_is_a_problem(
    client: AsyncClient, headers: dict[str, str], url: str, status: int, path: str | None
) -> None:
    refused = await client.put(url, content=ogg_opus(1), headers={**headers, **OGG})

    assert refused.status_code == status, refused.text
    if path is not None:
        assert [error["path"] for error in refused.json()["errors"]] == [path]


async def test_a_document_naming_audio_never_uploaded_is_refused_at_its_path(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    document = lesson(slug=SLUG, track="demo")
    document["steps"][0]["audio"] = {"bg": {"sha256": "ab" * 32}, "es": "audio/a.ogg"}

    refused = await client.put(f"/api/v1/lessons/{SLUG}", json=document, headers=headers)

    assert refused.status_code == 422
    errors = {error["path"]: error["message"] for error in refused.json()["errors"]}
    assert errors["$.steps[0].audio.bg"].startswith("no audio with sha256 abab")
    assert (
        "PUT /api/v1/lessons/what-segregation-is/steps/0/audio/bg" in errors["$.steps[0].audio.bg"]
    )
    assert errors["$.steps[0].audio.es"].startswith("give the sha256 of an uploaded recording")


async def test_removing_a_recording_makes_a_draft_without_it(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    await client.put(f"{AUDIO}/bg", content=ogg_opus(2), headers={**headers, **OGG})

    removed = await client.delete(f"{AUDIO}/bg", headers=headers)

    assert removed.status_code == 200, removed.text
    assert removed.json()["audio"] == {}
    assert "audio" not in removed.json()["document"]["steps"][1]
    assert (await client.delete(f"{AUDIO}/bg", headers=headers)).status_code == 404


async def test_viewers_may_listen_but_not_record(
    client: AsyncClient, headers: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await client.put(f"{AUDIO}/bg", content=ogg_opus(2), headers={**headers, **OGG})
    viewer = {"Authorization": f"Bearer {await create_api_token(session_maker, TokenRole.VIEWER)}"}

    assert (await client.get(f"{AUDIO}/bg", headers=viewer)).status_code == 200
    refused = await client.put(f"{AUDIO}/bg", content=ogg_opus(2), headers={**viewer, **OGG})
    assert refused.status_code == 403
