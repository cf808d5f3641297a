"""Reports as small PNG charts, drawn with matplotlib's Agg renderer (no display needed).

Each function takes a report's ``ReportTable`` (the same rows the JSON and CSV carry) and returns
PNG bytes. Drawing takes a tenth of a second or more: call these from a thread in async code.
Each chart is a ``Figure`` of its own, never pyplot's: pyplot keeps global state (its figures,
its backend) that threads drawing at once would share, and saving a bare figure as PNG uses Agg
whatever backend is configured. matplotlib (and numpy) load with the first chart, not at start.
The API labels charts in English; ``cohort_progress_chart`` takes its labels from the caller, so
the bot can send it in a learner's language.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from learntogether.services.progress import TrackProgress
from learntogether.services.reports.awareness import FIGURES as AWARENESS_FIGURES
from learntogether.services.reports.participation import Figure
from learntogether.services.reports.query import Cell, ReportTable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as Canvas

GREEN, GREY, BLUE, ORANGE = "#2e7d32", "#b0bec5", "#1565c0", "#ef6c00"
PALETTE = [GREEN, BLUE, ORANGE, "#6a1b9a", "#c62828", "#00838f", "#795548", "#546e7a"]
# A chart stays readable on a phone: the largest groups only.
MAX_SERIES = 8
MAX_BARS = 30
LABEL_LENGTH = 28


def _label(value: Cell) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


def _number(value: Cell) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


@contextmanager
def _canvas(width: float, height: float) -> Iterator[tuple[Canvas, Axes]]:
    from matplotlib.figure import Figure as Canvas

    figure = Canvas(figsize=(width, height), dpi=100)
    axes = figure.subplots()
    axes.spines[["top", "right"]].set_visible(False)
    yield figure, axes


def _png(figure: Canvas) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty(axes: Axes, message: str = "No data") -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def _bars(
    axes: Axes,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    colors: Sequence[str] = PALETTE,
) -> None:
    """Horizontal bars, one row per label and one bar per series, top to bottom."""
    count = max(len(series), 1)
    height = 0.8 / count
    positions = range(len(labels))
    for index, (name, values) in enumerate(series.items()):
        axes.barh(
            [position + index * height for position in positions],
            values,
            height=height,
            color=colors[index % len(colors)],
            label=name,
        )
    axes.set_yticks([position + height * (count - 1) / 2 for position in positions])
    axes.set_yticklabels(labels)
    axes.invert_yaxis()
    if len(series) > 1:
        axes.legend(loc="best", fontsize="small", frameon=False)


def _lines(
    axes: Axes, periods: Sequence[str], series: Mapping[str, Sequence[float]], title: str
) -> None:
    for index, (name, values) in enumerate(series.items()):
        axes.plot(periods, values, marker="o", color=PALETTE[index % len(PALETTE)], label=name)
    from matplotlib.ticker import MaxNLocator

    axes.set_title(title)
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(axis="x", labelrotation=45, labelsize="small")
    axes.legend(loc="upper left", fontsize="small", frameon=False)


def _group_column(table: ReportTable) -> str | None:
    return next((c for c in table.columns if c not in _FIGURE_OR_PERIOD), None)


_FIGURE_OR_PERIOD = {"period", *(figure.value for figure in Figure)}
PARTICIPATION_SHOWN = ("active", "lessons_completed", "certificates")


def participation_chart(table: ReportTable, *, title: str = "Participation") -> bytes:
    """Bars of active learners, lessons completed and certificates per group; with periods,
    active learners over time, one line per group (the largest groups)."""
    group = _group_column(table)
    shown = [name for name in PARTICIPATION_SHOWN if name in table.columns]
    if "period" not in table.columns:
        rows = table.rows[:MAX_BARS]
        with _canvas(7, 1.2 + 0.45 * max(len(rows), 1) * max(len(shown), 1) / 2) as (
            figure,
            axes,
        ):
            if not rows or not shown:
                _empty(axes)
            else:
                labels = [_label(row[group]) if group else "All" for row in rows]
                _bars(axes, labels, {n: [_number(row[n]) for row in rows] for n in shown})
                axes.set_title(title)
            return _png(figure)
    figure_name = "active" if "active" in table.columns else shown[0] if shown else None
    periods = sorted({str(row["period"]) for row in table.rows})
    series: dict[str, list[float]] = {}
    if figure_name is not None:
        totals: dict[Cell, float] = {}
        for row in table.rows:
            key = row[group] if group else figure_name
            totals[key] = totals.get(key, 0.0) + _number(row[figure_name])
        largest = sorted(totals, key=lambda key: -totals[key])[:MAX_SERIES]
        values = {
            (row[group] if group else figure_name, str(row["period"])): _number(row[figure_name])
            for row in table.rows
        }
        series = {
            _label(key): [values.get((key, period), 0.0) for period in periods] for key in largest
        }
    with _canvas(8, 4.5) as (figure, axes):
        if not series:
            _empty(axes)
        else:
            _lines(axes, periods, series, f"{title}: {figure_name}")
        return _png(figure)


def funnel_chart(table: ReportTable, *, title: str = "Lesson funnel") -> bytes:
    """Per lesson: learners who started, finished and passed it."""
    lessons: dict[str, dict[str, float]] = {}
    for row in table.rows:
        if row["stage"] in ("started", "finished", "passed"):
            lessons.setdefault(_label(row["lesson"]), {})[str(row["stage"])] = _number(
                row["learners"]
            )
    names = list(lessons)[:MAX_BARS]
    with _canvas(7, 1.2 + 0.6 * max(len(names), 1)) as (figure, axes):
        if not names:
            _empty(axes)
        else:
            stages = ("started", "finished", "passed")
            _bars(
                axes,
                names,
                {stage: [lessons[name].get(stage, 0.0) for name in names] for stage in stages},
                colors=(GREY, BLUE, GREEN),
            )
            axes.set_title(title)
        return _png(figure)


def questions_chart(table: ReportTable, *, title: str = "Question analysis") -> bytes:
    """Facility and discrimination of each scored question."""
    questions: dict[str, tuple[float, float]] = {}
    for row in table.rows:
        if row["facility"] is not None:
            questions[_label(row["question"])] = (
                _number(row["facility"]),
                _number(row["discrimination"]),
            )
    names = list(questions)[:MAX_BARS]
    with _canvas(7, 1.2 + 0.6 * max(len(names), 1)) as (figure, axes):
        if not names:
            _empty(axes, "No scored answers")
        else:
            _bars(
                axes,
                names,
                {
                    "facility": [questions[name][0] for name in names],
                    "discrimination": [questions[name][1] for name in names],
                },
                colors=(GREEN, BLUE),
            )
            axes.axvline(0, color="black", linewidth=0.8)
            axes.set_xlim(-1, 1)
            axes.set_title(title)
        return _png(figure)


def awareness_chart(table: ReportTable, *, title: str = "Awareness before and after") -> bytes:
    """Mean before and after per item (or per group's overall row when grouped); suppressed
    rows are left out."""
    group = next((c for c in table.columns if c not in AWARENESS_FIGURES), None)
    rows = [row for row in table.rows if not row["suppressed"]]
    if group is not None:
        rows = [row for row in rows if row["item"] is None]
    rows = rows[:MAX_BARS]
    labels = [
        _label(row[group]) if group is not None else _label(row["item"] or "overall")
        for row in rows
    ]
    with _canvas(7, 1.2 + 0.6 * max(len(rows), 1)) as (figure, axes):
        if not rows:
            _empty(axes, "No group large enough")
        else:
            _bars(
                axes,
                labels,
                {
                    "before": [_number(row["pre_mean"]) for row in rows],
                    "after": [_number(row["post_mean"]) for row in rows],
                },
                colors=(GREY, GREEN),
            )
            axes.set_xlim(1, 5)
            axes.set_title(title)
        return _png(figure)


def cohort_progress_chart(table: ReportTable, *, title: str, labels: Mapping[str, str]) -> bytes:
    """A cohort's figures over time: one line per figure named in ``labels`` (figure → label in
    the reader's language), from a participation table with periods and no group, such as
    ``participation(session, period=Period.WEEK, filters=Filters(cohort=code), figures=[...])``.
    """
    if "period" not in table.columns:
        raise ValueError("cohort_progress_chart needs a participation table with periods")
    missing = [name for name in labels if name not in table.columns]
    if missing:
        raise ValueError(f"the table has no figure {', '.join(missing)}")
    periods = [str(row["period"]) for row in table.rows]
    series = {label: [_number(row[name]) for row in table.rows] for name, label in labels.items()}
    with _canvas(7, 4) as (figure, axes):
        if not periods:
            _empty(axes)
            axes.set_title(title)
        else:
            _lines(axes, periods, series, title)
        return _png(figure)


def progress_chart(tracks: Sequence[TrackProgress], *, done_label: str, left_label: str) -> bytes:
    """A learner's tracks as horizontal bars, done out of all lessons: light enough for a cheap
    phone (about 20 KB)."""
    from matplotlib.ticker import MaxNLocator

    # Room above the bars for the legend, which would otherwise cover a bar.
    with _canvas(6, 1.0 + 0.55 * len(tracks)) as (figure, axes):
        titles = [_cut_at_word(track.title, 40) for track in tracks]
        done = [track.done for track in tracks]
        left = [track.total - track.done for track in tracks]
        axes.barh(titles, done, color=GREEN, label=done_label)
        axes.barh(titles, left, left=done, color="#cfd8dc", label=left_label)
        axes.invert_yaxis()
        axes.set_xlim(0, max([track.total for track in tracks] + [1]))
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(
            loc="lower left", bbox_to_anchor=(0, 1), ncol=2, fontsize="small", frameon=False
        )
        return _png(figure)


def _cut_at_word(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut after a whole word when it is longer."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:·-")
    return (cut or text[: limit - 1]) + "…"
