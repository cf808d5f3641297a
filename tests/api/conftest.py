from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.app import create_app
from learntogether.config import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, api_max_body_bytes=16384)


@pytest.fixture
async def client(
    settings: Settings, session_maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, session_maker=session_maker)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http
