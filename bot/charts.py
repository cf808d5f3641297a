"""The learner's progress as a small PNG: one bar per track, done out of all lessons."""

from __future__ import annotations

import io

from learntogether.services.progress import TrackProgress


def progress_chart(tracks: list[TrackProgress], *, done_label: str, left_label: str) -> bytes:
    """A horizontal stacked bar chart, light enough for a cheap phone (about 20 KB)."""
    # Imported here: matplotlib takes a second to load, and only /progress needs it.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    figure, axes = pyplot.subplots(figsize=(6, 0.6 + 0.55 * len(tracks)), dpi=100)
    try:
        titles = [
            track.title if len(track.title) <= 40 else track.title[:39] + "…" for track in tracks
        ]
        done = [track.done for track in tracks]
        left = [track.total - track.done for track in tracks]
        axes.barh(titles, done, color="#2e7d32", label=done_label)
        axes.barh(titles, left, left=done, color="#cfd8dc", label=left_label)
        axes.invert_yaxis()
        axes.set_xlim(0, max([track.total for track in tracks] + [1]))
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(loc="lower right", fontsize="small", frameon=False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        pyplot.close(figure)
