"""A lesson document's problems keep their English for files, the CLI and the API, and are said
in the console reader's language: the validator's own, and pydantic's for the document's shape."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from learntogether.content import validate
from learntogether.content.files import parse_lesson_text
from learntogether.content.schema import LessonDocument
from learntogether.content.validate import Problem, document_problems, json_path, validate_lesson
from learntogether.i18n import N_, Text, create_i18n, said
from tests.content.samples import lesson

CONSOLE_LANGUAGES = ("bg", "es", "fr", "nl")


@pytest.fixture(scope="module")
def gettexts() -> dict[str, Callable[[str], str]]:
    i18n = create_i18n()
    return {code: partial(i18n.gettext, locale=code) for code in CONSOLE_LANGUAGES}


def _broken_rules() -> LessonDocument:
    """A lesson that breaks rules of many kinds, each once."""
    data = lesson(
        slug="broken", locales=["en", "bg"], partial=["bg"], translated_from={"en": "0123456789ab"}
    )
    data["title"] = {"en": "<i>Title</i>", "bg": "Заглавие", "es": "Título"}
    data["steps"][0]["text"]["en"] = "<b>Segregation separates children."
    data["steps"][1]["text"]["en"] = "x" * 5000
    data["steps"][1]["image"] = {"url": "https://example.org/a.png", "file": "a.png"}
    del data["steps"][1]["text"]["bg"]
    questions = data["quiz"]["questions"]
    questions[0]["options"][0]["correct"] = False
    questions[1]["reverse"] = True
    questions.append({**questions[1], "kind": "likert", "reverse": False})
    data["sources"] = []
    return LessonDocument.model_validate(data)


def test_every_rule_broken_keeps_its_english_and_is_said_in_each_console_language(
    gettexts: dict[str, Callable[[str], str]],
) -> None:
    problems = validate_lesson(_broken_rules())
    messages = {json_path(problem.path): problem.message for problem in problems}
    assert messages["$.steps[1].text.en"] == (
        "step text (a caption) is 5000 characters; Telegram's limit is 1024"
    )
    assert messages["$.quiz.questions[2].options"] == (
        "a likert question has no options (the agree scale is the bot's)"
    )
    assert len(problems) >= 10, problems
    for problem in problems:
        assert isinstance(problem.message, Text), problem
        for code, gettext in gettexts.items():
            assert said(problem.message, gettext) != problem.message, (code, problem)
    bulgarian = {json_path(p.path): said(p.message, gettexts["bg"]) for p in problems}
    assert bulgarian["$.steps[1].text.en"] == (
        "дължината на текста на стъпката (надпис под снимка) е 5000 знака; "
        "ограничението на Telegram е 1024"
    )
    assert bulgarian["$.title.es"] == "„es“ не е нито в locales, нито в partial"


def _pydantic_errors(data: dict[str, Any]) -> tuple[list[Problem], list[dict[str, Any]]]:
    with pytest.raises(ValidationError) as raised:
        LessonDocument.model_validate(data)
    return document_problems(raised.value), [dict(item) for item in raised.value.errors()]


def _badly_shaped() -> dict[str, Any]:
    data = lesson(
        slug="Not A Slug",
        audience=["wizard"],
        minutes="five",
        locales=[],
        partial="bg",
        title=["en"],
        colour="blue",
    )
    data.pop("summary")
    data["steps"] = [
        {
            "text": {"en": 5},
            "link": {"url": "/relative", "label": {"en": "x" * 3}},
            "image": {"url": "ftp://example.org/a.png", "file": "a.gif"},
            "audio": {"bg": "../up.ogg"},
        },
        {"text": {"en": "Fine."}},
        "not a step",
    ]
    data["quiz"] = {"pass_score": 50.5, "questions": [{"key": "k", "kind": "single"}]}
    data["sources"] = [{"title": "", "publisher": "p", "year": 3000}]
    data["steps"][1] = {"text": {"en": "Fine."}, "link": {"url": "https://x.org", "label": []}}
    data["quiz"]["questions"].append({"key": "b", "kind": "open", "text": {}, "poll": "maybe"})
    return data


def test_pydantic_problems_keep_pydantic_english_and_are_said_in_each_console_language(
    gettexts: dict[str, Callable[[str], str]],
) -> None:
    problems, errors = _pydantic_errors(_badly_shaped())
    # Too many steps: pydantic then checks none of them, so in a document of its own.
    too_many, too_long = _pydantic_errors(lesson(slug="long", steps=[{"text": {"en": "."}}] * 13))
    problems, errors = problems + too_many, errors + too_long
    kinds = {item["type"] for item in errors}
    # Every type the document can produce here, mapped: a pydantic that words one otherwise
    # fails here, not silently in the console.
    assert kinds >= {
        "string_pattern_mismatch",
        "enum",
        "int_parsing",
        "too_short",
        "too_long",
        "list_type",
        "dict_type",
        "string_type",
        "extra_forbidden",
        "missing",
        "url_parsing",
        "url_scheme",
        "int_from_float",
        "string_too_short",
        "less_than_equal",
        "bool_parsing",
        "model_type",
    }, kinds
    assert len(problems) == len(errors)
    for problem, item in zip(problems, errors, strict=True):
        assert isinstance(problem.message, Text), item
        if item["type"] == "extra_forbidden":
            assert problem.message == f"unknown field '{item['loc'][-1]}'"
        elif item["type"] == "missing":
            assert problem.message == f"'{item['loc'][-1]}' is required"
        elif item["loc"][-3:-2] == ("audio",):
            assert problem.message == validate.AUDIO_FILE_RULE
        else:
            assert problem.message == item["msg"], item
        for code, gettext in gettexts.items():
            assert said(problem.message, gettext) != problem.message, (code, item)
    bulgarian = {json_path(p.path): said(p.message, gettexts["bg"]) for p in problems}
    assert bulgarian["$.audience[0]"].startswith("Стойността трябва да е 'teacher', ")
    assert bulgarian["$.audience[0]"].endswith(" или 'community_leader'")
    assert bulgarian["$.steps[0].link.url"] == (
        "Стойността трябва да е валиден URL адрес: относителен адрес без основа "
        "(започнете с https://)"
    )
    assert bulgarian["$.locales"] == "Списъкът трябва да има поне 1 елемент, а не 0"


class _Reading(BaseModel):
    share: float


def test_a_pydantic_problem_of_a_type_not_mapped_keeps_pydantic_message() -> None:
    with pytest.raises(ValidationError) as raised:
        _Reading.model_validate({"share": "half"})
    [problem] = document_problems(raised.value)
    [item] = raised.value.errors()
    assert item["type"] not in validate._PYDANTIC_MESSAGES
    assert problem.message == item["msg"] and problem.message
    assert said(problem.message, lambda text: "translated") == item["msg"]


def test_a_pydantic_that_words_a_message_otherwise_keeps_its_own_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(validate._PYDANTIC_MESSAGES, "int_parsing", (N_("a number, please"),))
    [problem], [item] = _pydantic_errors(lesson(slug="fine", minutes="five"))
    assert (
        problem.message
        == item["msg"]
        == ("Input should be a valid integer, unable to parse string as an integer")
    )
    assert not isinstance(problem.message, Text)


def test_the_editors_yaml_problems_are_said_too(
    gettexts: dict[str, Callable[[str], str]],
) -> None:
    _document, _lines, [not_yaml] = parse_lesson_text("slug: [unclosed")
    assert not_yaml.message.startswith("not valid YAML: ")
    assert said(not_yaml.message, gettexts["fr"]).startswith("YAML invalide : ")
    _document, _lines, [not_a_mapping] = parse_lesson_text("- a list")
    assert said(not_a_mapping.message, gettexts["nl"]) == "hier horen velden (slug: …, title: …)"
