"""The Bot API stand-in in a process of its own, for benchmarks: it must not share the sender's CPU.

    .venv/bin/python -m bench.standin_server --users 10000

Prints ``READY <bot api url> <control url>`` and serves until stdin closes. The control server
answers ``GET /stats`` (sends, refusals, limit violations, the busiest second) and takes
``POST /reset`` and ``POST /limits?global=30&per_chat=1&paid=1000`` (``none`` lifts a limit).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections import deque
from typing import Any

from aiohttp import web

from tests.standin import BotAPIStandIn

FIRST_USER_ID = 1


def _busiest_second(times: list[float]) -> int:
    """The most sends in any one-second window, as Telegram's limit counts them."""
    window: deque[float] = deque()
    busiest = 0
    for at in sorted(times):
        window.append(at)
        while window[0] <= at - 1.0:
            window.popleft()
        busiest = max(busiest, len(window))
    return busiest


def _stats(standin: BotAPIStandIn) -> dict[str, Any]:
    sends = standin.calls_of("sendMessage")
    delivered = [call.time for call in sends if call.ok]
    return {
        "calls": len(sends),
        "delivered": len(delivered),
        "refused": len(sends) - len(delivered),
        "violations": standin.rate_limit_violations,
        "first": min(delivered, default=None),
        "last": max(delivered, default=None),
        "busiest_second": _busiest_second(delivered),
        "paid": sum(
            1 for call in sends if str(call.params.get("allow_paid_broadcast")) in ("True", "true")
        ),
    }


def _limit(value: str | None) -> float | None:
    return None if value in (None, "none") else float(value)


def _control_app(standin: BotAPIStandIn) -> web.Application:
    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(_stats(standin))

    async def reset(_request: web.Request) -> web.Response:
        standin.calls.clear()
        standin.rate_limit_violations = 0
        return web.json_response({"ok": True})

    async def limits(request: web.Request) -> web.Response:
        limiter = standin.limiter
        global_rate = _limit(request.query.get("global"))
        paid_rate = _limit(request.query.get("paid"))
        limiter.global_rate = None if global_rate is None else int(global_rate)
        limiter.paid_global_rate = None if paid_rate is None else int(paid_rate)
        limiter.per_chat_rate = _limit(request.query.get("per_chat"))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    app.router.add_post("/limits", limits)
    return app


async def serve(users: int) -> None:
    async with BotAPIStandIn() as standin:
        for user_id in range(FIRST_USER_ID, FIRST_USER_ID + users):
            standin.add_user(user_id, first_name=f"Learner {user_id}", language_code="en")
        # The stand-in keeps every call and message: collecting that heap would pause it for a
        # tenth of a second at times, then take the queued sends all at once and count them in
        # one second. Telegram's counters do not stop; the benchmark's should not either.
        gc.freeze()
        gc.disable()
        runner = web.AppRunner(_control_app(standin), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"READY {standin.base_url} http://127.0.0.1:{port}", flush=True)
        # Serve until the parent closes our stdin (or dies).
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        await reader.read()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="chats with ids 1..N")
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.users))


if __name__ == "__main__":
    main()
