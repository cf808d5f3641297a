"""Domain errors; the API maps them to problem details and the bot to polite messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field, named by its JSON path (``$.steps[0].text``)."""

    path: str
    message: str


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    title = "Request cannot be completed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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
