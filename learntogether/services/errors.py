"""Domain errors; the API maps them to problem details and the bot and the console to messages in
the reader's language.

A message a person may read is written ``N_("No cohort with code {code}.", code=code)``: a
``Text``, which is the English sentence (``detail``, the API's words, unchanged) and keeps its
template and values, so that a front end says it in the reader's language with
``error.said(gettext)`` or ``problem.said(gettext)``. A plain ``str`` message is said as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

Gettext = Callable[[str], str]


class Text(str):
    """An English message that can be said again in another language: the template (a msgid,
    extracted from ``N_`` calls) and the values put into it. Values that are ``Text`` are said in
    the same language."""

    __slots__ = ("template", "values")
    template: str
    values: dict[str, object]

    def __new__(cls, template: str, /, **values: object) -> Self:
        # Without values, the template itself: a msgid marked for the catalogs (gettext_noop).
        text = super().__new__(cls, template.format(**values) if values else template)
        text.template = template
        text.values = values
        return text

    def said(self, gettext: Gettext) -> str:
        """The message in the language ``gettext`` translates into."""
        return gettext(self.template).format(
            **{
                name: value.said(gettext) if isinstance(value, Text) else value
                for name, value in self.values.items()
            }
        )


def N_(template: str, /, **values: object) -> Text:
    """Mark a message for the catalogs (gettext's name for a mark, which extraction finds), to be
    said later in the reader's language."""
    return Text(template, **values)


def said(message: object, gettext: Gettext) -> str:
    """A message in the reader's language when it is a ``Text``; any other, as it is."""
    return message.said(gettext) if isinstance(message, Text) else str(message)


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
