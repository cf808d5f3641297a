"""A lesson typed as YAML (the console's editor): problems at their lines, JSON paths both ways."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from learntogether.content.files import locate, parse_lesson_text, to_yaml
from learntogether.content.validate import field_path, json_path
from tests.content.samples import lesson

TEXT = to_yaml(lesson(slug="what-segregation-is", track="demo", position=1))


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.split("\n"), 1) if needle in line)


@given(
    st.lists(
        st.one_of(st.integers(0, 99), st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)),
        max_size=6,
    )
)
def test_field_path_reads_back_what_json_path_writes(path: list[str | int]) -> None:
    assert field_path(json_path(tuple(path))) == tuple(path)


def test_field_path_stops_where_the_path_stops_making_sense() -> None:
    assert field_path("$.steps[1].text.bg") == ("steps", 1, "text", "bg")
    assert field_path("$.steps[x]") == ("steps",)
    assert field_path("slug") == ()


def test_a_valid_text_gives_the_document_and_every_line() -> None:
    document, lines, problems = parse_lesson_text(TEXT)
    assert problems == []
    assert document is not None and document.slug == "what-segregation-is"
    assert lines[("minutes",)] == _line_of(TEXT, "minutes:")


def test_broken_yaml_names_its_line() -> None:
    broken = TEXT.replace("minutes: 5", "minutes: [5")
    document, _lines, [problem] = parse_lesson_text(broken)
    assert document is None
    assert problem.message.startswith("not valid YAML")
    assert problem.line >= _line_of(broken, "minutes: [5")


def test_a_list_instead_of_a_mapping_is_refused() -> None:
    _document, _lines, [problem] = parse_lesson_text("- one\n- two\n")
    assert (problem.line, problem.path) == (1, "")


def test_schema_and_lesson_rules_are_at_their_fields_lines() -> None:
    text = TEXT.replace("minutes: 5", "minutes: 5\ncolour: red")
    _document, _lines, problems = parse_lesson_text(text)
    assert [(p.line, p.path) for p in problems] == [(_line_of(text, "colour"), "$.colour")]
    text = TEXT.replace("    bg: Съдът реши през 2007 г.\n", "")
    document, _lines, problems = parse_lesson_text(text)
    assert document is None
    assert (problems[0].line, problems[0].path) == (
        _line_of(text, "en: The court ruled in 2007.") - 1,
        "$.steps[1].text.bg",
    )


def test_a_services_problem_is_located_at_the_nearest_field_the_text_has() -> None:
    _document, lines, _problems = parse_lesson_text(TEXT)
    assert locate(lines, "$.track", "unknown").line == _line_of(TEXT, "track:")
    # A field the text lacks points at its nearest ancestor.
    assert locate(lines, "$.quiz.pass_rule", "x").line == _line_of(TEXT, "quiz:")
    assert locate(lines, "$", "x").line == 1
