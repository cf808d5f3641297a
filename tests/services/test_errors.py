"""Refusals keep their English for the API and are said in the reader's language elsewhere."""

from __future__ import annotations

from learntogether.i18n import create_i18n
from learntogether.services.errors import N_, Conflict, FieldProblem, InvalidInput, said

I18N = create_i18n()


def bulgarian(message: str) -> str:
    return I18N.gettext(message, locale="bg")


def test_a_marked_refusal_is_english_for_the_api_and_bulgarian_when_said() -> None:
    error = Conflict(N_("Lesson '{slug}' is already archived.", slug="court"))
    assert error.detail == "Lesson 'court' is already archived."
    assert str(error) == error.detail
    assert error.said(bulgarian) == "Урокът „court“ вече е архивиран."


def test_values_that_are_marked_are_said_in_the_same_language() -> None:
    message = N_(
        "Recording {id} is {status}; only a pending one is reviewed.", id=4, status=N_("approved")
    )
    assert message == "Recording 4 is approved; only a pending one is reviewed."
    assert said(message, bulgarian) == "Запис 4 е одобрен; преглежда се само запис, който чака."


def test_each_field_problem_is_said_and_the_detail_stands_in_for_none() -> None:
    error = InvalidInput(
        N_("A token needs a name."), [FieldProblem("$.name", N_("must not be empty"))]
    )
    assert error.problems_said(bulgarian) == ["не може да е празно"]
    assert InvalidInput(N_("Unknown language.")).problems_said(bulgarian) == ["Непознат език."]


def test_an_unmarked_message_is_said_as_it_is() -> None:
    # Lesson validation problems are not marked: they are said in English everywhere.
    error = InvalidInput("The lesson has 1 problem(s).", [FieldProblem("$.title", "is empty")])
    assert error.said(bulgarian) == "The lesson has 1 problem(s)."
    assert error.problems_said(bulgarian) == ["is empty"]
