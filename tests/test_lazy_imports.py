"""Heavy libraries load when first used, not when a process starts; charts drawn in threads at
once come out as drawn one at a time."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from learntogether import charts
from learntogether.services.progress import TrackProgress

HEAVY = {"matplotlib", "numpy", "fpdf", "segno", "PIL", "fontTools"}


def _top_level_modules_after(statement: str) -> set[str]:
    code = (
        f"import sys\n{statement}\nprint(*sorted({{name.split('.')[0] for name in sys.modules}}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(loaded.stdout.split())


def test_starting_the_product_loads_no_heavy_library() -> None:
    loaded = _top_level_modules_after("import learntogether.cli, learntogether.runtime, bot.app")
    assert {"aiogram", "fastapi", "learntogether", "bot"} <= loaded
    assert not loaded & HEAVY


def test_the_first_chart_certificate_and_qr_code_load_them() -> None:
    loaded = _top_level_modules_after(
        "from datetime import date\n"
        "from learntogether import charts, deeplinks\n"
        "from learntogether.documents import certificate\n"
        "from learntogether.services.progress import TrackProgress\n"
        "charts.progress_chart([TrackProgress('Track', 1, 2)], done_label='d', left_label='l')\n"
        "deeplinks.qr_png('https://t.me/bot?start=c-SLV1')\n"
        "texts = certificate.CertificateTexts('C', 'to', 'for', 'on', 'code')\n"
        "certificate.render_certificate_pdf(name='Ana', track_title='T', issued_on=date(2026, 1, 5),"
        " code='X', locale='bg', verify_url=None, texts=texts)"
    )
    assert {"matplotlib", "numpy", "fpdf", "segno"} <= loaded


def test_charts_drawn_in_threads_at_once_are_the_charts_drawn_one_by_one() -> None:
    def draw(index: int) -> bytes:
        tracks = [TrackProgress(f"Track {index}", index % 4, 4), TrackProgress("Other", 1, 3)]
        return charts.progress_chart(tracks, done_label="Done", left_label="Left")

    one_by_one = [draw(index) for index in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        at_once = list(pool.map(draw, range(8)))
    assert at_once == one_by_one
    assert all(png.startswith(b"\x89PNG") for png in at_once)
