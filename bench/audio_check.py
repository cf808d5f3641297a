"""Audio check benchmark: the CPU the one OGG/Opus check (``content.audio.inspect_audio``) takes.

    .venv/bin/python -m bench.audio_check             # 21 rounds, a few seconds
    .venv/bin/python -m bench.audio_check --rounds 51

The file is the largest a step may be in practice: 3 minutes of 20 ms Opus packets of 160 bytes
(64 kbit/s, about 1.4 MB, 50 packets a page), written by ``tests.oggopus``. Each round times, in
CPU seconds of this process (``time.process_time``), the check and the baseline every check pays
anyway: the SHA-256 the file is kept under and one pass of ``zlib.crc32`` over the bytes. Medians
and their ratio are printed, and the per-megabyte time.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
import zlib
from collections.abc import Callable

from learntogether.content.audio import STEP_RECORDING, inspect_audio
from tests.oggopus import ogg_opus

PACKET = b"\xfc" + bytes(159)
"""A 160-byte Opus packet (64 kbit/s at 20 ms); the check reads pages, not packets."""


def _cpu(work: Callable[[], object], repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--repeat", type=int, default=10, help="calls timed together per round")
    args = parser.parse_args()
    data = ogg_opus(180, packet=PACKET)
    assert inspect_audio(data, STEP_RECORDING).duration_ms == 180_000

    def baseline() -> None:
        hashlib.sha256(data).hexdigest()
        zlib.crc32(data)

    checks, baselines = [], []
    for _ in range(args.rounds):
        checks.append(_cpu(lambda: inspect_audio(data, STEP_RECORDING), args.repeat))
        baselines.append(_cpu(baseline, args.repeat))
    check, base = statistics.median(checks), statistics.median(baselines)
    megabytes = len(data) / 1024 / 1024
    pages = data.count(b"OggS")
    print(f"file: {len(data):,} bytes ({megabytes:.2f} MB), 3 min, {pages} pages")
    print(f"check:    {check * 1000:7.2f} ms CPU ({check * 1000 / megabytes:.2f} ms per MB)")
    print(f"baseline: {base * 1000:7.2f} ms CPU (sha256 + crc32)")
    print(f"ratio:    {check / base:7.2f}x")


if __name__ == "__main__":
    main()
