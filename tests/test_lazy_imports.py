"""Heavy libraries load when first used, not when a process starts; charts drawn in threads at
once come out as drawn one at a time."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from learntogether import charts
from learntogether.services.progress import TrackProgress

HEAVY = {"matplotlib", "numpy", "fpdf", "segno", "PIL", "fontTools"}


@pytest.fixture(scope="module")
def loaded() -> tuple[set[str], set[str]]:
    """The top-level modules a new process has loaded once it has imported the product, then
    once it has drawn its first chart, certificate and QR code (one process: importing the
    product takes seconds)."""
    code = (
        "import sys\n"
        "def loaded():\n"
        "    print(*sorted({name.split('.')[0] for name in sys.modules}))\n"
        "import learntogether.cli, learntogether.runtime, bot.app\n"
        "loaded()\n"
        "from datetime import date\n"
        "from learntogether import charts, deeplinks\n"
        "from learntogether.documents import certificate\n"
        "from learntogether.services.progress import TrackProgress\n"
        "charts.progress_chart([TrackProgress('Track', 1, 2)], done_label='d', left_label='l')\n"
        "deeplinks.qr_png('https://t.me/bot?start=c-SLV1')\n"
        "texts = certificate.CertificateTexts('C', 'to', 'for', 'on', 'code')\n"
        "certificate.render_certificate_pdf(name='Ana', track_title='T', issued_on=date(2026, 1, 5),"
        " code='X', locale='bg', verify_url=None, texts=texts)\n"
        "loaded()\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    started, drawn = output.stdout.splitlines()
    return set(started.split()), set(drawn.split())


def test_starting_the_product_loads_no_heavy_library(loaded: tuple[set[str], set[str]]) -> None:
    started, _ = loaded
    assert {"aiogram", "fastapi", "learntogether", "bot"} <= started
    assert not started & HEAVY


def test_the_first_chart_certificate_and_qr_code_load_them(
    loaded: tuple[set[str], set[str]],
) -> None:
    _, drawn = loaded
    assert {"matplotlib", "numpy", "fpdf", "segno"} <= drawn


def test_charts_drawn_in_threads_at_once_are_the_charts_drawn_one_by_one() -> None:
    def draw(index: int) -> bytes:
        tracks = [TrackProgress(f"Track {index}", index % 4, 4), TrackProgress("Other", 1, 3)]
        return charts.progress_chart(tracks, done_label="Done", left_label="Left")

    one_by_one = [draw(index) for index in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        at_once = list(pool.map(draw, range(8)))
    assert at_once == one_by_one
    assert all(png.startswith(b"\x89PNG") for png in at_once)
