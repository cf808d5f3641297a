"""The part of xAPI 1.0.3 (IEEE 9274.1.1) this platform writes: statements about activities.

Small pydantic models instead of the unmaintained ``tincan`` package (it stops at 1.0.1). They
check what a Learning Record Store checks on import (IRIs, UUIDs, language tags, a scaled score
within -1..1, a raw score within min..max) and serialize with xAPI's property names.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

XAPI_VERSION = "1.0.3"
VERSION_HEADER = "X-Experience-API-Version"

# RFC 3987 in practice: an absolute IRI has a scheme and no whitespace.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
# RFC 5646 in practice: a primary language subtag and optional subtags ("en", "en-US", "rom").
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def _iri(value: str) -> str:
    if not _IRI.match(value):
        raise ValueError(f"{value!r} is not an absolute IRI")
    return value


def is_language_tag(value: str | None) -> bool:
    return value is not None and _LANGUAGE_TAG.match(value) is not None


def _language_tag(value: str) -> str:
    if not is_language_tag(value):
        raise ValueError(f"{value!r} is not an RFC 5646 language tag")
    return value


IRI = Annotated[str, AfterValidator(_iri)]
LanguageTag = Annotated[str, AfterValidator(_language_tag)]
LanguageMap = dict[LanguageTag, str]
Extensions = dict[IRI, Any]
InteractionType = Literal[
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
]


class XapiModel(BaseModel):
    """xAPI's camelCase names on the wire, snake_case in Python; unknown properties refused."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    def to_json(self) -> str:
        """The wire form: xAPI names, and no property that has no value."""
        return self.model_dump_json(by_alias=True, exclude_none=True)


class Account(XapiModel):
    """An account on a system: here a pseudonym on this platform, never a name or Telegram id."""

    home_page: IRI
    name: Annotated[str, Field(min_length=1)]


class Agent(XapiModel):
    object_type: Literal["Agent"] = "Agent"
    account: Account


class Verb(XapiModel):
    id: IRI
    display: LanguageMap


class ActivityDefinition(XapiModel):
    name: LanguageMap | None = None
    description: LanguageMap | None = None
    type: IRI | None = None
    interaction_type: InteractionType | None = None
    extensions: Extensions | None = None


class Activity(XapiModel):
    object_type: Literal["Activity"] = "Activity"
    id: IRI
    definition: ActivityDefinition | None = None


class Score(XapiModel):
    scaled: Annotated[float, Field(ge=-1, le=1)] | None = None
    raw: float | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _raw_within_bounds(self) -> Score:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("min must be less than max")
        if self.raw is not None and (
            (self.min is not None and self.raw < self.min)
            or (self.max is not None and self.raw > self.max)
        ):
            raise ValueError("raw must lie between min and max")
        return self


class Result(XapiModel):
    score: Score | None = None
    success: bool | None = None
    completion: bool | None = None
    response: str | None = None
    extensions: Extensions | None = None


class ContextActivities(XapiModel):
    parent: list[Activity] | None = None
    grouping: list[Activity] | None = None
    category: list[Activity] | None = None
    other: list[Activity] | None = None


class Context(XapiModel):
    registration: UUID | None = None
    revision: str | None = None
    platform: str | None = None
    language: LanguageTag | None = None
    context_activities: ContextActivities | None = None
    extensions: Extensions | None = None


class Statement(XapiModel):
    """One statement; ``version`` is left to the LRS, as the specification asks of providers."""

    id: UUID
    actor: Agent
    verb: Verb
    # "object" is the xAPI name; the attribute avoids shadowing the builtin.
    object_: Activity = Field(alias="object")
    result: Result | None = None
    context: Context | None = None
    timestamp: AwareDatetime
