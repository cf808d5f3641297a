"""Domain errors; the API maps them to problem details and the bot and the console to messages in
the reader's language.

A message a person may read is written ``N_("No cohort with code {code}.", code=code)``: a
``Text`` (``learntogether.i18n``, which the lesson validator shares), which is the English sentence
(``detail``, the API's words, unchanged) and keeps its template and values, so that a front end
says it in the reader's language with ``error.said(gettext)`` or ``problem.said(gettext)``. A plain
``str`` message is said as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from learntogether.i18n import N_, Gettext, Text, said

__all__ = [
    "N_",
    "Conflict",
    "DomainError",
    "FieldProblem",
    "Gettext",
    "InvalidInput",
    "InvalidToken",
    "NotAllowed",
    "NotFound",
    "Text",
    "said",
]


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field, named by its JSON path (``$.steps[0].text``)."""

    path: str
    message: str

    def said(self, gettext: Gettext) -> str:
        return said(self.message, gettext)


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    title = "Request cannot be completed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def said(self, gettext: Gettext) -> str:
        """The detail in the reader's language (the API keeps the English ``detail``)."""
        return said(self.detail, gettext)


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class NotAllowed(DomainError):
    title = "Not allowed"


class InvalidToken(DomainError):
    title = "Invalid token"


class InvalidInput(DomainError):
    """Input that breaks a rule the schema cannot express; carries every problem found."""

    title = "Invalid input"

    def __init__(self, detail: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.problems = problems or []

    def problems_said(self, gettext: Gettext) -> list[str]:
        """Each problem's message in the reader's language; the detail when there is none."""
        return [problem.said(gettext) for problem in self.problems] or [self.said(gettext)]
