"""Column helpers the models share: enums stored as text, update timestamps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import String, func
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from learntogether.db.base import UTCDateTime, utcnow

ENUM_LENGTH = 32

E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A ``StrEnum`` kept as its value in a VARCHAR and loaded back as the member.

    The database guards the values with a CHECK constraint (``enum_check`` in ``__table_args__``);
    this type refuses unknown values before they reach it and hands services real members.
    """

    impl = String(ENUM_LENGTH)
    cache_ok = True

    def __init__(self, enum_class: type[E]) -> None:
        longest = max(len(member.value) for member in enum_class)
        if longest > ENUM_LENGTH:
            raise ValueError(f"{enum_class.__name__} has a value longer than {ENUM_LENGTH}")
        super().__init__(ENUM_LENGTH)
        self.enum_class = enum_class

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum_class(value)


def enum_column(
    enum_class: type[E], *, default: E | None = None, nullable: bool = False
) -> Mapped[Any]:
    """A column of ``enum_class`` values, with the default also known to the database."""
    if default is None:
        return mapped_column(StrEnumType(enum_class), nullable=nullable)
    return mapped_column(
        StrEnumType(enum_class), nullable=nullable, default=default, server_default=default.value
    )


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(
        UTCDateTime,
        default=utcnow,
        onupdate=utcnow,
        server_default=func.current_timestamp(),
    )
