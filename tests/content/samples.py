"""Small, valid curriculum documents for tests, as plain data (the shape of the YAML files)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

TRACK: dict[str, Any] = {
    "position": 1,
    "title": {"en": "The mixed classroom", "bg": "Смесената класна стая"},
    "description": {"en": "For teachers.", "bg": "За учители."},
    "audience": ["teacher", "school_staff"],
    "locales": ["en", "bg"],
}

LESSON: dict[str, Any] = {
    "title": {"en": "What segregation is", "bg": "Какво е сегрегация"},
    "summary": {"en": "Forms and harms.", "bg": "Форми и вреди."},
    "audience": ["teacher"],
    "minutes": 5,
    "locales": ["en", "bg"],
    "steps": [
        {
            "text": {
                "en": "<b>Segregation</b> separates children.",
                "bg": "<b>Сегрегацията</b> разделя децата.",
            }
        },
        {
            "text": {"en": "The court ruled in 2007.", "bg": "Съдът реши през 2007 г."},
            "link": {
                "url": "https://hudoc.echr.coe.int/",
                "label": {"en": "Read", "bg": "Прочетете"},
            },
        },
    ],
    "quiz": {
        "pass_score": 50,
        "questions": [
            {
                "key": "dh-year",
                "kind": "single",
                "poll": True,
                "text": {"en": "When was D.H. decided?", "bg": "Кога е решено D.H.?"},
                "options": [
                    {"text": {"en": "2007", "bg": "2007"}, "correct": True},
                    {"text": {"en": "1997", "bg": "1997"}},
                ],
                "explanation": {"en": "Grand Chamber, 2007.", "bg": "Голямо отделение, 2007."},
            },
            {
                "key": "harm",
                "kind": "true_false",
                "text": {"en": "Segregation harms learning.", "bg": "Сегрегацията вреди."},
                "options": [
                    {
                        "text": {"en": "True", "bg": "Вярно"},
                        "correct": True,
                        "feedback": {"en": "Yes.", "bg": "Да."},
                    },
                    {
                        "text": {"en": "False", "bg": "Невярно"},
                        "feedback": {"en": "No.", "bg": "Не."},
                    },
                ],
            },
        ],
    },
    "sources": [
        {"title": "D.H. and Others v. the Czech Republic", "publisher": "ECtHR", "year": 2007}
    ],
}


def survey(kind: str, keys: list[str]) -> dict[str, Any]:
    return {
        "title": {"en": f"Survey {kind}", "bg": f"Анкета {kind}"},
        "audience": ["teacher"],
        "minutes": 2,
        "locales": ["en", "bg"],
        "survey": kind,
        "steps": [{"text": {"en": "Tell us.", "bg": "Кажете ни."}}],
        "quiz": {
            "questions": [
                {
                    "key": key,
                    "kind": "likert",
                    "text": {"en": f"Statement {key}", "bg": f"Твърдение {key}"},
                }
                for key in keys
            ]
        },
    }


def lesson(**changes: Any) -> dict[str, Any]:
    """A deep copy of the sample lesson with top-level fields replaced."""
    data = copy.deepcopy(LESSON)
    data.update(changes)
    return data


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_curriculum(root: Path, lessons: dict[str, dict[str, Any]] | None = None) -> Path:
    """``root/demo/track.yaml`` and the lessons by file name (default: one sample lesson)."""
    write_yaml(root / "demo" / "track.yaml", TRACK)
    for name, data in (lessons or {"01-what-segregation-is.yaml": LESSON}).items():
        write_yaml(root / "demo" / name, data)
    return root


def every_kind_lesson() -> dict[str, Any]:
    """A lesson whose quiz has one question of each kind, in English."""

    def text(value: str) -> dict[str, str]:
        return {"en": value}

    def option(value: str, correct: bool = False) -> dict[str, Any]:
        return {"text": text(value), "correct": correct, "feedback": text(f"About {value}.")}

    return {
        "title": text("Every kind"),
        "audience": ["teacher"],
        "minutes": 4,
        "locales": ["en"],
        "steps": [{"text": text("First step.")}, {"text": text("Second step.")}],
        "quiz": {
            "pass_score": 60,
            "questions": [
                {
                    "key": "one",
                    "kind": "single",
                    "text": text("Pick B."),
                    "options": [option("A"), option("B", True)],
                    "explanation": text("B it is."),
                },
                {
                    "key": "many",
                    "kind": "multiple",
                    "text": text("Pick A and C."),
                    "options": [option("A", True), option("B"), option("C", True)],
                },
                {
                    "key": "tf",
                    "kind": "true_false",
                    "text": text("Is it true?"),
                    "options": [option("True", True), option("False")],
                },
                {"key": "feel", "kind": "likert", "text": text("Mixed classes help everyone.")},
                {"key": "think", "kind": "open", "text": text("What will you try?")},
            ],
        },
        "sources": [{"title": "A source", "publisher": "A publisher", "year": 2024}],
    }
