"""ASGI middleware: body limits, metrics, security headers and the answer to unexpected errors."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learntogether.problems import problem

log = logging.getLogger(__name__)


class HTTPMiddleware:
    """An ASGI middleware for HTTP requests; anything else (the lifespan) passes straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class BodySizeLimit(HTTPMiddleware):
    """Refuses request bodies over ``max_bytes`` with 413, whether announced or streamed.

    A streamed body that grows too large is answered with 413 at once; the app then sees the
    client as gone, and whatever it still tries to send is dropped.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        announced = headers.get(b"content-length", b"").decode() or None
        if announced is not None and (not announced.isdigit() or int(announced) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, f"The request body is larger than {self.max_bytes} bytes.")
        await response(scope, receive, send)


class RequestMetrics(HTTPMiddleware):
    """Counts requests and their durations by method, route template and status."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        super().__init__(app)
        self.requests = Counter(
            "lt_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "lt_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=registry,
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = _route_template(scope)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.requests.labels(method, route, str(status)).inc()
            self.duration.labels(method, route).observe(time.perf_counter() - started)


# Anyone may send any method name: only the ones HTTP defines get a label of their own, so made-up
# methods cannot grow the label set (20,000 of them once added 84 MB).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route_template(scope: Scope) -> str:
    """The path with its parameters named (``/api/v1/tokens/{token_id}/revoke``), so that ids do not
    explode the label set; requests that matched no route share one label."""
    if scope.get("route") is None:
        return "unmatched"
    names_by_value = {str(value): name for name, value in (scope.get("path_params") or {}).items()}
    segments = str(scope["path"]).split("/")
    return "/".join(
        f"{{{names_by_value[part]}}}" if part in names_by_value else part for part in segments
    )


# JSON answers run nothing; the documentation pages run the bundled Swagger UI and ReDoc, whose
# pages start them with an inline script. No page of ours may be framed by another site.
_API_POLICY = "default-src 'none'; frame-ancestors 'none'"
_PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)


class SecurityHeaders(HTTPMiddleware):
    """``X-Content-Type-Options``, a content security policy and no referrer on every answer."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                page = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Content-Security-Policy", _PAGE_POLICY if page else _API_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class UnexpectedErrors(HTTPMiddleware):
    """Answers an error nobody expected with a 500 problem and logs it once, with its traceback.

    Starlette's own handler for ``Exception`` answers and then raises again, so the server logged
    every such error a second time (with the request's SQL parameters, before they were hidden).
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise  # too late for an answer of our own: the server closes the connection
            response = problem(
                500, "Something went wrong on our side; it has been logged.", instance=scope["path"]
            )
            await response(scope, receive, send)
