"""Reports over the append-only participation record: one module per report.

- ``participation``: learners joined and active, lessons and tracks completed, certificates,
  attendance, by cohort, place, role, locale and week or month;
- ``funnel``: how far learners get through each lesson;
- ``questions``: item analysis of a lesson's quiz;
- ``awareness``: a track's likert pre-survey against its post-survey.

``query`` holds what they share: the reader's reach, filters, windows, periods and the ``ReportTable`` every
report returns. No report stores or infers anything about a learner's origin.
"""

from learntogether.services.reports.awareness import awareness
from learntogether.services.reports.funnel import funnel
from learntogether.services.reports.participation import Figure, participation
from learntogether.services.reports.query import (
    Filters,
    GroupBy,
    Period,
    ReportTable,
)
from learntogether.services.reports.questions import questions

__all__ = [
    "Figure",
    "Filters",
    "GroupBy",
    "Period",
    "ReportTable",
    "awareness",
    "funnel",
    "participation",
    "questions",
]
