"""Health, metrics and the OpenAPI document."""

from __future__ import annotations

from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.app import create_app
from learntogether.config import Settings
from learntogether.leadership import leadership_for
from tests.conftest import TestDatabase


async def test_healthz_reports_database_ok(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "scheduler": "no leader"}


async def test_healthz_says_when_a_scheduler_leads(
    client: AsyncClient, database: TestDatabase
) -> None:
    leadership = leadership_for(database.engine)
    assert await leadership.hold()
    try:
        response = await client.get("/healthz")
    finally:
        await leadership.release()
    assert response.json()["scheduler"] == "leading"
    assert (await client.get("/healthz")).json()["scheduler"] == "no leader"


async def test_healthz_reports_redis_unreachable_as_degraded_not_down(
    session_maker: async_sessionmaker[AsyncSession], database: TestDatabase
) -> None:
    # Nothing listens on port 1: Redis is configured but gone. The bot carries on without it.
    settings = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings, session_maker=session_maker)
    leadership = leadership_for(database.engine)
    assert await leadership.hold()
    try:
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            response = await http.get("/healthz")
    finally:
        await leadership.release()
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "unreachable",
        "scheduler": "leading",
    }


async def test_metrics_count_requests_by_route_template(client: AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/api/v1/tokens")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'lt_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in response.text
    assert 'route="/api/v1/tokens",status="401"' in response.text


async def test_openapi_documents_bearer_auth_and_routes(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/api/v1/tokens", "/api/v1/lessons", "/healthz"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_made_up_methods_and_ids_do_not_grow_the_metrics(client: AsyncClient) -> None:
    for index in range(20):
        await client.request(f"BREW{index}", "/healthz")
        await client.get(f"/api/v1/users/{index + 1}")
    text = (await client.get("/metrics")).text
    assert "BREW" not in text
    assert 'lt_http_requests_total{method="other",route="/healthz",status="405"} 20.0' in text
    assert 'route="/api/v1/users/{user_id}",status="401"} 20.0' in text
    requests = [line for line in text.splitlines() if line.startswith("lt_http_requests_total{")]
    assert len(requests) == 2


async def test_docs_are_served_from_the_installed_package_not_a_cdn(client: AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = await client.get(page)
        assert html.status_code == 200
        assert "cdn" not in html.text.lower()
        assert "frame-ancestors 'none'" in html.headers["content-security-policy"]
    script = await client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000


async def test_every_answer_says_nosniff_and_may_not_be_framed(client: AsyncClient) -> None:
    for path in ("/healthz", "/api/v1/tokens", "/openapi.json"):
        headers = (await client.get(path)).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert headers["referrer-policy"] == "no-referrer"


async def test_every_operation_documents_its_errors_as_problem_details(
    client: AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "409", "413", "422"):
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
