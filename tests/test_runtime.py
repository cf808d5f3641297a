"""What a serving process does once it has started."""

from __future__ import annotations

import gc
import weakref

from sqlalchemy.pool import QueuePool

from learntogether.config import Settings
from learntogether.runtime import KEPT_CONNECTIONS, keep_startup_objects, serving_engine


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


async def test_a_serving_process_keeps_its_postgresql_connections_when_busy() -> None:
    engine = serving_engine(Settings(database_url="postgresql://postgres@127.0.0.1:5432/lt"))
    try:
        # Not the default (5 kept, 10 more opened and closed again): each opened one logged in,
        # set up its types and prepared every statement anew.
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() == KEPT_CONNECTIONS
        assert pool._max_overflow == 0
    finally:
        await engine.dispose()
