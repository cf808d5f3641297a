"""Chart details a learner sees on a cheap phone."""

from __future__ import annotations

from learntogether.charts import _cut_at_word


def test_a_long_track_title_is_cut_after_a_whole_word() -> None:
    title = "The mixed classroom: teaching children together"
    assert _cut_at_word(title, 40) == "The mixed classroom: teaching children…"
    assert _cut_at_word("Parents and school", 40) == "Parents and school"
    # One word longer than the room is cut where it must be.
    assert _cut_at_word("x" * 50, 40) == "x" * 39 + "…"
