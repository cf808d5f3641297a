"""Moved to ``learntogether.csvout``, which the console's CSV downloads share with the API."""

from learntogether.csvout import (
    CSV,
    CSV_MEDIA_TYPE,
    attachment,
    cell,
    csv_line,
    csv_table,
    wants_csv,
)

__all__ = ["CSV", "CSV_MEDIA_TYPE", "attachment", "cell", "csv_line", "csv_table", "wants_csv"]
