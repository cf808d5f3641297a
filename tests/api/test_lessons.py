"""The authoring API for lessons: drafts, versions, publishing, preview, roles and errors."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import AuditLog, LessonVersion, TokenRole
from tests.content.samples import TRACK, lesson, survey
from tests.factories import create_api_token, create_cohort

SLUG = "what-segregation-is"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    headers = _bearer(await create_api_token(session_maker, name="author"))
    response = await client.put(
        "/api/v1/tracks/demo", json={**TRACK, "slug": "demo"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return headers


def _document(**changes: Any) -> dict[str, Any]:
    return lesson(slug=SLUG, track="demo", **changes)


async def test_put_new_lesson_creates_a_draft_version_1(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["latest_version"], body["published_version"], body["status"]) == (1, None, "draft")
    assert body["document"]["position"] == 0


async def test_put_same_document_adds_no_version(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    again = await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    assert again.status_code == 200
    versions = await client.get(f"/api/v1/lessons/{SLUG}/versions", headers=admin)
    assert [version["number"] for version in versions.json()] == [1]


async def test_draft_changes_in_place_until_published_then_a_new_version_starts(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(minutes=6), headers=admin)
    published = await client.post(f"/api/v1/lessons/{SLUG}/publish", headers=admin)
    assert published.status_code == 200
    assert (published.json()["published_version"], published.json()["status"]) == (1, "published")
    changed = await client.put(f"/api/v1/lessons/{SLUG}", json=_document(minutes=7), headers=admin)
    assert (changed.json()["latest_version"], changed.json()["published_version"]) == (2, 1)
    versions = (await client.get(f"/api/v1/lessons/{SLUG}/versions", headers=admin)).json()
    assert [(v["number"], v["status"]) for v in versions] == [(2, "draft"), (1, "published")]
    old = await client.get(f"/api/v1/lessons/{SLUG}/versions/1", headers=admin)
    assert old.json()["document"]["minutes"] == 6


async def test_publish_without_a_draft_is_409(client: AsyncClient, admin: dict[str, str]) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    await client.post(f"/api/v1/lessons/{SLUG}/publish", headers=admin)
    again = await client.post(f"/api/v1/lessons/{SLUG}/publish", headers=admin)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "no draft to publish" in again.json()["detail"]


async def test_publishing_a_draft_the_rules_now_refuse_is_422_and_leaves_it_a_draft(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    # A draft stored before a rule existed: written straight into the database.
    async with session_maker() as session:
        version = await session.scalar(select(LessonVersion))
        assert version is not None
        version.document = {**version.document, "steps": [{"text": {"en": "Only English."}}]}
        await session.commit()
    refused = await client.post(f"/api/v1/lessons/{SLUG}/publish", headers=admin)
    assert refused.status_code == 422, refused.text
    assert "$.steps[0].text.bg" in [error["path"] for error in refused.json()["errors"]]
    detail = (await client.get(f"/api/v1/lessons/{SLUG}", headers=admin)).json()
    assert (detail["status"], detail["published_version"]) == ("draft", None)


async def test_archive_then_archive_again_is_409(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    archived = await client.post(f"/api/v1/lessons/{SLUG}/archive", headers=admin)
    assert archived.json()["status"] == "archived"
    assert (await client.post(f"/api/v1/lessons/{SLUG}/archive", headers=admin)).status_code == 409


async def test_unknown_lesson_is_404(client: AsyncClient, admin: dict[str, str]) -> None:
    for path in ("", "/versions", "/versions/1", "?locale=bg"):
        response = await client.get(f"/api/v1/lessons/nope{path}", headers=admin)
        assert response.status_code == 404, path
    assert (await client.post("/api/v1/lessons/nope/publish", headers=admin)).status_code == 404


async def test_invalid_lesson_is_422_with_every_problem_as_json_path(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    document = _document()
    document["steps"][0]["text"]["en"] = "<div>no</div>"
    document["steps"][1]["text"]["en"] = "z" * 5000
    document["quiz"]["questions"][1]["options"][0]["correct"] = False
    response = await client.put(f"/api/v1/lessons/{SLUG}", json=document, headers=admin)
    assert response.status_code == 422
    paths = [error["path"] for error in response.json()["errors"]]
    assert paths == ["$.steps[0].text.en", "$.steps[1].text.en", "$.quiz.questions[1].options"]


async def test_structurally_wrong_lesson_is_422_with_json_paths(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    document = _document(minutes="soon")
    document["steps"][0]["colour"] = "red"
    response = await client.put(f"/api/v1/lessons/{SLUG}", json=document, headers=admin)
    assert response.status_code == 422
    assert {error["path"] for error in response.json()["errors"]} == {
        "$.minutes",
        "$.steps[0].colour",
    }


async def test_unknown_track_and_slug_mismatch_are_422(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    unknown = await client.put(
        f"/api/v1/lessons/{SLUG}", json=lesson(slug=SLUG, track="nowhere"), headers=admin
    )
    assert unknown.json()["errors"] == [{"path": "$.track", "message": "unknown track 'nowhere'"}]
    mismatch = await client.put("/api/v1/lessons/other-slug", json=_document(), headers=admin)
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"][0]["path"] == "$.slug"


async def test_post_survey_must_match_the_tracks_pre_survey(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    pre = {**survey("pre", ["a", "b"]), "slug": "before", "track": "demo"}
    assert (await client.put("/api/v1/lessons/before", json=pre, headers=admin)).status_code == 201
    post = {**survey("post", ["a"]), "slug": "after", "track": "demo"}
    response = await client.put("/api/v1/lessons/after", json=post, headers=admin)
    assert response.status_code == 422
    assert "missing after: b" in response.json()["errors"][0]["message"]


async def test_preview_falls_back_string_by_string_and_says_so(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    document = _document(locales=["en"], partial=["bg"])
    del document["steps"][1]["text"]["bg"]
    await client.put(f"/api/v1/lessons/{SLUG}", json=document, headers=admin)
    response = await client.get(f"/api/v1/lessons/{SLUG}", params={"locale": "bg"}, headers=admin)
    assert response.status_code == 200
    preview = response.json()["lesson"]
    assert (preview["requested_locale"], preview["locale"], preview["fallback_locales"]) == (
        "bg",
        "bg",
        ["en"],
    )
    assert preview["steps"][0]["text"] == "<b>Сегрегацията</b> разделя децата."
    assert preview["steps"][1]["text"] == "The court ruled in 2007."


async def test_preview_in_a_missing_locale_uses_the_cohort_locale_first(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    response = await client.get(
        f"/api/v1/lessons/{SLUG}", params={"locale": "rom", "fallback": "bg"}, headers=admin
    )
    preview = response.json()["lesson"]
    assert (preview["locale"], preview["fallback_locales"]) == ("bg", ["bg"])
    assert preview["title"] == "Какво е сегрегация"


async def test_list_filters_by_track_role_locale_and_status(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    parents = {
        **_document(audience=["parent"], locales=["en"], partial=["bg"]),
        "slug": "for-parents",
    }
    await client.put("/api/v1/lessons/for-parents", json=parents, headers=admin)
    await client.post("/api/v1/lessons/for-parents/publish", headers=admin)

    async def slugs(**params: str) -> list[str]:
        body = (await client.get("/api/v1/lessons", params=params, headers=admin)).json()
        assert body["total"] == len(body["items"])
        return [item["slug"] for item in body["items"]]

    assert await slugs() == [SLUG, "for-parents"]
    assert await slugs(role="parent") == ["for-parents"]
    assert await slugs(locale="bg") == [SLUG]
    assert await slugs(status="published") == ["for-parents"]
    assert await slugs(track="other") == []


@pytest.mark.parametrize("role", [TokenRole.MEDIATOR, TokenRole.VIEWER])
async def test_mediator_and_viewer_read_but_cannot_write(
    client: AsyncClient,
    admin: dict[str, str],
    session_maker: async_sessionmaker[AsyncSession],
    role: TokenRole,
) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    cohorts = None
    if role is TokenRole.MEDIATOR:
        async with session_maker() as session:
            await create_cohort(session, code="C1")
            await session.commit()
        cohorts = ["C1"]
    reader = _bearer(
        await create_api_token(session_maker, role, name=f"reader-{role.value}", cohorts=cohorts)
    )
    assert (await client.get(f"/api/v1/lessons/{SLUG}", headers=reader)).status_code == 200
    assert (await client.get("/api/v1/tracks", headers=reader)).status_code == 200
    assert (
        await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=reader)
    ).status_code == 403
    assert (await client.post(f"/api/v1/lessons/{SLUG}/publish", headers=reader)).status_code == 403
    assert (
        await client.put("/api/v1/tracks/demo", json={**TRACK, "slug": "demo"}, headers=reader)
    ).status_code == 403


async def test_writes_without_a_token_are_401(client: AsyncClient) -> None:
    assert (await client.put(f"/api/v1/lessons/{SLUG}", json=_document())).status_code == 401
    assert (await client.post(f"/api/v1/lessons/{SLUG}/publish")).status_code == 401


async def test_every_write_is_audited_with_versions(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(), headers=admin)
    await client.post(f"/api/v1/lessons/{SLUG}/publish", headers=admin)
    await client.put(f"/api/v1/lessons/{SLUG}", json=_document(minutes=8), headers=admin)
    await client.post(f"/api/v1/lessons/{SLUG}/archive", headers=admin)
    async with session_maker() as session:
        entries = (
            await session.scalars(
                select(AuditLog).where(AuditLog.entity == "lesson").order_by(AuditLog.id)
            )
        ).all()
    assert [(e.actor, e.action, e.before, e.after) for e in entries] == [
        ("token:author", "create", None, {"version": 1}),
        ("token:author", "publish", None, {"version": 1}),
        ("token:author", "new_draft", {"version": 1}, {"version": 2}),
        ("token:author", "archive", {"version": 2}, {"version": 2}),
    ]
