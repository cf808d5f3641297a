"""Start-up benchmark: how long ``learntogether run`` takes to answer, and what it holds when idle.

    .venv/bin/python -m bench.startup              # 5 runs of each, about half a minute
    .venv/bin/python -m bench.startup --runs 11

Each run starts a new process and measures, from its start:

- the start time: until ``GET /healthz`` first answers 200 (polled every 5 ms), and the CPU time
  the process used until then (user and system), which a busy machine disturbs less;
- the idle memory: its resident set (``VmRSS``) once it has answered and sat idle for
  ``--settle`` seconds.

The product is ``python -m learntogether run`` without ``LT_BOT_TOKEN`` (API, scheduler and
delivery, no bot), on a SQLite database in a temporary directory that an untimed first run
migrated and filled with the shipped lessons, so every timed run is a restart. The baseline, in
the same run, is the least a process with this stack does: it imports aiogram, FastAPI and
SQLAlchemy, and uvicorn serves a one-route app whose ``/healthz`` runs ``SELECT 1`` on an
aiosqlite engine. Runs of the two alternate, so a busy moment of the machine hits both. Linux only
(``/proc``).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.005
START_TIMEOUT_SECONDS = 120.0

BASELINE = """
import sys

import aiogram
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(sys.argv[1])
app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return {"status": "ok"}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


@dataclass(frozen=True)
class Start:
    seconds: float
    cpu_seconds: float
    rss_bytes: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def cpu_seconds(pid: int) -> float:
    """User and system time of the process so far (``/proc/PID/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def measure(
    command: list[str], *, port: int, env: dict[str, str], cwd: Path, settle: float
) -> Start:
    """Start ``command``, time it to its first healthy answer, read its idle RSS, stop it."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while not healthy(port):
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"{command[2:]} exited with {process.returncode}:\n{error}")
            if time.perf_counter() - started > START_TIMEOUT_SECONDS:
                raise RuntimeError(f"{command[2:]} did not answer in {START_TIMEOUT_SECONDS} s")
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(process.pid)
        time.sleep(settle)
        return Start(seconds, cpu, resident_bytes(process.pid))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def product_environment(directory: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LT_")}
    env.update(
        LT_DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'learntogether.db'}",
        LT_API_PORT=str(port),
        LT_LESSONS_DIR=str(ROOT / "lessons"),
        LT_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def summary(name: str, starts: list[Start]) -> tuple[float, float, float]:
    """Prints min and median of each figure; returns the medians."""
    figures = {
        "start": ([start.seconds * 1000 for start in starts], "ms"),
        "CPU": ([start.cpu_seconds * 1000 for start in starts], "ms"),
        "idle RSS": ([start.rss_bytes / 2**20 for start in starts], "MiB"),
    }
    print(
        f"{name:<30}",
        "   ".join(
            f"{label} {min(values):6.0f} / {statistics.median(values):6.0f} {unit}"
            for label, (values, unit) in figures.items()
        ),
    )
    seconds, cpu, megabytes = (statistics.median(values) for values, _ in figures.values())
    return seconds, cpu, megabytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.startup", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=5, help="timed starts of each (default 5)")
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds idle before reading the RSS (default 2)"
    )
    arguments = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("error: this benchmark reads /proc (Linux)", file=sys.stderr)
        return 1
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="lt-startup-") as scratch:
        directory = Path(scratch)
        product = [sys.executable, "-m", "learntogether", "run"]
        baseline = [sys.executable, "-c", BASELINE]
        # Untimed: migrate and import the lessons, so the timed runs are restarts.
        port = free_port()
        measure(
            product, port=port, env=product_environment(directory, port), cwd=directory, settle=0
        )
        runs: dict[str, list[Start]] = {"baseline": [], "learntogether run": []}
        for _ in range(arguments.runs):
            port = free_port()
            url = f"sqlite+aiosqlite:///{directory / 'baseline.db'}"
            runs["baseline"].append(
                measure(
                    [*baseline, url, str(port)],
                    port=port,
                    env=dict(os.environ),
                    cwd=directory,
                    settle=arguments.settle,
                )
            )
            port = free_port()
            runs["learntogether run"].append(
                measure(
                    product,
                    port=port,
                    env=product_environment(directory, port),
                    cwd=directory,
                    settle=arguments.settle,
                )
            )
    print(f"{len(runs['baseline'])} runs each, min / median:")
    baseline_medians = summary("baseline (aiogram+FastAPI+SA)", runs["baseline"])
    medians = summary("learntogether run", runs["learntogether run"])
    ratios = (mine / base for mine, base in zip(medians, baseline_medians, strict=True))
    print("ratio of medians: start {:.2f}x, CPU {:.2f}x, idle RSS {:.2f}x".format(*ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main())
