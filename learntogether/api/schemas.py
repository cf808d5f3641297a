"""What every route shares: a request body's strictness, the page of a list, the slug of a PUT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from learntogether.services.errors import FieldProblem, InvalidInput

# Items are pydantic models or the services' dataclasses; FastAPI serializes both.
Item = TypeVar("Item")


class StrictBody(BaseModel):
    """A request body: a field the route does not read is refused (422 naming it), never ignored."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[Item]):
    """One page of a list; every list endpoint answers this shape."""

    items: list[Item]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[Item], *, total: int, limit: int, offset: int) -> Page[Item]:
        return cls(items=list(items), total=total, limit=limit, offset=offset)


def same_slug(*, url: str, document: str) -> None:
    """A PUT names its resource twice, in the URL and in the document; they must agree."""
    if url != document:
        raise InvalidInput(
            "The document's slug differs from the URL's.",
            [FieldProblem("$.slug", f"is '{document}' but the URL says '{url}'")],
        )
