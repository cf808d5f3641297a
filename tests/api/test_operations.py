"""Health, metrics and the OpenAPI document."""

from __future__ import annotations

from httpx import AsyncClient


async def test_healthz_reports_database_ok(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


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
