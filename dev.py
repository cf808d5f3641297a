#!/usr/bin/env python3
"""Set up and run To Learn Together with nothing but Python 3.11+.

    python3 dev.py run      create .venv, install, migrate, run the product (SQLite, polling, scheduler)
    python3 dev.py test     create .venv with the test tools, run the whole test suite, one
                            process per CPU (pytest-xdist; ``-n 0`` runs it in one)
    python3 dev.py check    ruff, ruff format --check, mypy and the import contracts, as CI runs them
    python3 dev.py setup    only create or refresh .venv (add --dev for the test tools)

Extra arguments after ``test`` go to pytest, after ``run`` to ``learntogether``.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"
MIN_PYTHON = (3, 11)


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def setup(dev: bool) -> None:
    """Create .venv and install the pinned dependencies; does nothing when already up to date."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            f"error: Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed, this is {sys.version.split()[0]}"
        )
    extras = ".[dev]" if dev else "."
    wanted = _fingerprint(extras)
    installed = STAMP.read_text().split() if STAMP.exists() else []
    # A dev install also serves a plain run.
    if wanted in installed or (not dev and _fingerprint(".[dev]") in installed):
        return
    if not PYTHON.exists():
        print("creating the virtual environment in .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"installing {extras} with the versions pinned in constraints.txt", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-c", "constraints.txt", "-e", extras], check=True, cwd=ROOT)
    STAMP.write_text(" ".join([*installed, wanted]))


def link_command(root: Path = ROOT) -> str:
    """The command that prints a console sign-in link, to paste in any terminal: it runs in the
    project's folder, whose .env and ./data database ``run`` uses (from another folder it would
    open an empty database of its own)."""
    folder = f'"{root}"' if os.name == "nt" else shlex.quote(str(root))
    program = Path(".venv") / BIN.name / "learntogether"
    return f"cd {folder} && {program} console link --role admin --name YOUR-NAME"


def side_by_side(pytest_args: list[str]) -> list[str]:
    """Tests in one process per CPU, a test file's tests in the same one (its module fixtures
    are made once), unless the arguments say how many processes (``-n``) already.

    Most tests wait more than they compute (the bot's replies, processes starting, a browser):
    side by side, the suite takes about half the time on two CPUs."""
    asked = any(arg.startswith(("-n", "--numprocesses", "--dist")) for arg in pytest_args)
    return [] if asked else ["-n", "auto", "--dist", "loadfile"]


def main(argv: list[str]) -> int:
    command, *rest = argv or ["help"]
    if command == "setup":
        setup(dev="--dev" in rest)
        return 0
    if command == "run":
        setup(dev=False)
        print(
            "web console: http://127.0.0.1:8000/ (or LT_PUBLIC_URL); once it runs, get a sign-in "
            f"link in another terminal with\n  {link_command()}",
            flush=True,
        )
        return subprocess.call([str(BIN / "learntogether"), "run", *rest], cwd=ROOT)
    if command == "test":
        setup(dev=True)
        return subprocess.call([str(PYTHON), "-m", "pytest", *side_by_side(rest), *rest], cwd=ROOT)
    if command == "check":
        setup(dev=True)
        steps = [
            [str(BIN / "ruff"), "check", "."],
            [str(BIN / "ruff"), "format", "--check", "."],
            [str(BIN / "mypy")],
            [str(BIN / "lint-imports")],
        ]
        return max(subprocess.call(step, cwd=ROOT) for step in steps)
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as error:
        sys.exit(f"error: {' '.join(map(str, error.cmd))} failed with status {error.returncode}")
    except KeyboardInterrupt:
        sys.exit(130)
