"""What a serving process does once it has started."""

from __future__ import annotations

import gc
import weakref

from learntogether.runtime import keep_startup_objects


class _Node:
    link: _Node | None = None


def test_startup_garbage_is_collected_and_what_lives_is_kept_out_of_full_collections() -> None:
    garbage = _Node()
    garbage.link = garbage  # a cycle: only the collector frees it
    collected = weakref.ref(garbage)
    del garbage
    living = _Node()
    living.link = living
    try:
        kept = keep_startup_objects()
        assert collected() is None
        assert kept == gc.get_freeze_count() > 0
        assert not any(item is living for item in gc.get_objects())
    finally:
        gc.unfreeze()
