"""The import contracts (import-linter, ``[tool.importlinter]`` in pyproject.toml): the tree keeps
them, and a forbidden import written into a copy of it breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = "Front ends over the services"
ACYCLIC = "No import cycle"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and their contracts, to write imports into."""
    for package in ("learntogether", "bot"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # The copy comes first on the path, before the editable install of the real tree.
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("learntogether/db/shortcut.py", "import learntogether.services.learners", LAYERS),
        ("learntogether/content/shortcut.py", "import learntogether.services.lessons", LAYERS),
        ("bot/shortcut.py", "import learntogether.api.errors", LAYERS),
        ("learntogether/api/shortcut.py", "import bot.views", LAYERS),
        ("learntogether/console/__init__.py", "import learntogether.api.deps", LAYERS),
        ("learntogether/services/shortcut.py", "import learntogether.delivery.worker", LAYERS),
        # The reports' awareness reads the quizzes: the quizzes reading the reports is a cycle.
        ("learntogether/services/quizzes.py", "import learntogether.services.reports", ACYCLIC),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, module: str, line: str, contract: str
) -> None:
    path = tree / module
    path.parent.mkdir(exist_ok=True)
    with path.open("a") as file:
        file.write(f"\n{line}\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    # An upward import also closes a cycle: it may break both.
    assert contract in result.stdout.split("Broken contracts", 1)[1]
