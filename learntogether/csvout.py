"""CSV for the API routes that answer it on ``Accept: text/csv`` and the console's downloads, and
the choice between JSON and another type a caller prefers (``Accept``):
whether the caller wants it, and cells a spreadsheet shows as text instead of running them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum

CSV = "text/csv"
CSV_MEDIA_TYPE = f"{CSV}; charset=utf-8"
# A spreadsheet runs a cell that starts like a formula; names, regions and municipalities come
# from learners, anyone's to set. Full-width signs count: spreadsheets read them as the plain ones.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Where ";" separates a list (bg, es, fr, nl spreadsheets), an unquoted "x;=cmd" opens as two
# cells, the second a formula: such a cell is quoted, so it stays one cell that starts with "x".
_QUOTED = (",", ";", '"', "\n", "\r")


def wants_csv(accept: str | None) -> bool:
    """Whether ``Accept`` prefers CSV to JSON (by q value; an explicit type beats a wildcard)."""
    return prefers_to_json(accept, CSV)


def prefers_to_json(accept: str | None, media_type: str) -> bool:
    """Whether ``Accept`` prefers ``media_type`` to JSON (by q value; an explicit type beats a
    wildcard, and JSON is what a bare ``*/*`` gets)."""
    wanted_q = json_q = 0.0
    json_explicit = wanted_explicit = False
    for part in (accept or "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == media_type:
            wanted_q, wanted_explicit = max(wanted_q, q), True
        elif media == "application/json":
            json_q, json_explicit = max(json_q, q), True
        elif media in ("*/*", "application/*") and not json_explicit:
            json_q = max(json_q, q)
    if not wanted_explicit or wanted_q == 0:
        return False
    return wanted_q > json_q or (wanted_q == json_q and not json_explicit)


def attachment(filename: str) -> dict[str, str]:
    """Headers that make a browser save the answer as ``filename``."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def cell(value: object) -> str:
    """One value as a CSV cell: empty for None, true/false, an enum's value, ISO 8601 for a
    moment, a tuple's items space-separated; text that starts like a formula gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        # A number is no formula: an awareness shift of -0.25 stays -0.25.
        return str(value)
    text = " ".join(map(str, value)) if isinstance(value, tuple) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(mark in text for mark in _QUOTED) else text


def csv_line(values: Iterable[object]) -> str:
    """One CSV record of these values, ended by CRLF; a cell with a comma, semicolon, quote or
    line break is quoted (RFC 4180, and ";" for spreadsheets that separate by it)."""
    return ",".join(_quoted(cell(value)) for value in values) + "\r\n"


def csv_table(columns: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A header of ``columns`` and a record per row."""
    return csv_line(columns) + "".join(csv_line(row) for row in rows)
