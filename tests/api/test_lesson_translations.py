"""Through the API, a translation goes stale when a draft changes the English alone."""

from __future__ import annotations

import copy
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.content.samples import TRACK, lesson
from tests.factories import create_api_token

SLUG = "what-segregation-is"


def _with_english_step(data: dict[str, Any], text: str) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    changed["steps"][0]["text"]["en"] = text
    return changed


async def test_an_api_draft_that_changes_only_the_english_lists_translations_as_stale(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Authorization": f"Bearer {await create_api_token(session_maker, name='author')}"}
    await client.put("/api/v1/tracks/demo", json={**TRACK, "slug": "demo"}, headers=headers)
    first = lesson(slug=SLUG, track="demo")
    created = await client.put(f"/api/v1/lessons/{SLUG}", json=first, headers=headers)
    assert created.status_code == 201, created.text
    assert (created.json()["locales"], created.json()["stale"]) == (["en", "bg"], [])

    # A client that knows nothing of fingerprints edits the English only.
    english_only = _with_english_step(first, "<b>Segregation</b> hurts.")
    changed = await client.put(f"/api/v1/lessons/{SLUG}", json=english_only, headers=headers)
    assert (changed.json()["locales"], changed.json()["stale"]) == (["en"], ["bg"])
    listed = await client.get("/api/v1/lessons", params={"locale": "bg"}, headers=headers)
    assert listed.json()["items"] == []

    # Updating the Bulgarian makes it current again.
    updated = copy.deepcopy(english_only)
    updated["steps"][0]["text"]["bg"] = "<b>Сегрегацията</b> вреди."
    fixed = await client.put(f"/api/v1/lessons/{SLUG}", json=updated, headers=headers)
    assert (fixed.json()["locales"], fixed.json()["stale"]) == (["en", "bg"], [])
