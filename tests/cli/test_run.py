"""``learntogether run`` as a process: migrates, serves /healthz, runs the bot, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.content.samples import write_curriculum
from tests.standin import BotAPIStandIn

STARTUP_SECONDS = 30
Starter = Callable[..., Awaitable[tuple[asyncio.subprocess.Process, str]]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _start(tmp_path: Path, **extra: str) -> tuple[asyncio.subprocess.Process, str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LT_")},
        "LT_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'lt.db'}",
        "LT_API_PORT": str(port),
        **extra,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "learntogether", "run",
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


async def _wait_healthy(base: str, process: asyncio.subprocess.Process) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        for _ in range(STARTUP_SECONDS * 10):
            if process.returncode is not None:
                break
            try:
                return await http.get(f"{base}/healthz")
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    output = await process.stdout.read() if process.stdout else b""
    pytest.fail(f"learntogether run did not serve /healthz:\n{output.decode()}")


@pytest.fixture
async def run_process(tmp_path: Path) -> AsyncIterator[Starter]:
    started: list[asyncio.subprocess.Process] = []

    async def start(**extra: str) -> tuple[asyncio.subprocess.Process, str]:
        process, base = await _start(tmp_path, **extra)
        started.append(process)
        return process, base

    yield start
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    return output.decode()


async def test_run_without_bot_token_serves_api_and_says_bot_is_off(
    run_process: Starter, tmp_path: Path
) -> None:
    write_curriculum(tmp_path / "curriculum")
    process, base = await run_process(LT_LESSONS_DIR=str(tmp_path / "curriculum"))
    response = await _wait_healthy(base, process)
    assert response.status_code == 200
    output = await _stop(process)
    assert process.returncode == 0, output
    assert "LT_BOT_TOKEN is not set: the Telegram bot is off" in output
    assert "imported 1 tracks and 1 lessons from" in output
    assert "Traceback" not in output
    assert (tmp_path / "data" / "lt.db").exists()


async def test_run_with_token_answers_start_through_the_bot_api_server(
    run_process: Starter, standin: BotAPIStandIn
) -> None:
    process, base = await run_process(
        LT_BOT_TOKEN=standin.token, LT_TELEGRAM_API_URL=standin.base_url
    )
    await _wait_healthy(base, process)
    lena = standin.add_user(3001, first_name="Lena", language_code="bg")
    await lena.send("/start")
    reply = await lena.next_message(timeout=STARTUP_SECONDS)
    assert reply["text"].startswith("Здравейте, Lena!")
    output = await _stop(process)
    assert process.returncode == 0, output
    assert standin.token not in output
    assert "objects built at start kept out of garbage collection" in output
