"""The board's query parameters, validated at the edge and normalised into an index Plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator

from chalicelib.errors import InvalidRequestError
from chalicelib.services.board.analysis import query_words, words
from chalicelib.services.board.engine import Plan
from chalicelib.services.board.text import key

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 12
MAX_FILTER_VALUES = 20
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
TYPING_VALUES = ("1", "0", "true", "false")

_MULTI = ("location", "remote", "employment_type", "company", "provider", "department")
_SINGLE = ("q", "sort", "limit", "cursor", "typing")

FilterValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


def check_filter_counts(params: Mapping[str, Sequence[str]]) -> None:
    """At most MAX_FILTER_VALUES values per filter (2 for `remote`), blank ones included: a blank value
    matches nothing, but the document's `maxItems` counts every value sent."""
    for name in _MULTI:
        limit = 2 if name == "remote" else MAX_FILTER_VALUES
        if len(params.get(name, ())) > limit:
            raise InvalidRequestError(
                f"{name}: give at most {limit} values", fields={name: f"more than {limit} values"}
            )


class BoardQuery(BaseModel):
    """`GET /jobs` (and feed) parameters. Repeated filter parameters combine with OR."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    q: str | None = Field(None, max_length=MAX_QUERY_LENGTH)
    location: list[FilterValue] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    remote: list[bool] = Field(default_factory=list, max_length=2)
    employment_type: list[FilterValue] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    company: list[FilterValue] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    provider: list[FilterValue] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    department: list[FilterValue] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    sort: Literal["newest", "relevance"] | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, max_length=1024)
    typing: Annotated[bool, WithJsonSchema({"type": "string", "enum": list(TYPING_VALUES)})] = Field(
        False,
        description="`1` (or `true`) while the person is still typing `q` (a search-as-you-type box): "
        "its last word then also matches as a prefix (`pyth` finds Python), unless a space follows it. "
        "A submitted search (`0`, the default) matches whole words only: `java` is not JavaScript.",
        json_schema_extra={"default": "0"},
    )

    @field_validator("typing", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        if isinstance(value, str):
            if value not in TYPING_VALUES:
                raise ValueError("must be 1, 0, true or false")
            return value in ("1", "true")
        return value

    @field_validator("remote", mode="before")
    @classmethod
    def _booleans(cls, value: object) -> object:
        if isinstance(value, list):
            parsed = []
            for item in value:
                text = str(item).strip().lower()
                if text not in ("true", "false"):
                    raise ValueError("must be true or false")
                parsed.append(text == "true")
            return parsed
        return value

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> BoardQuery:
        """Build from a multi-valued query string (name -> values); unknown names are ignored."""
        data: dict[str, object] = {}
        check_filter_counts(params)
        for name in _SINGLE:
            values = [value for value in params.get(name, ()) if value != ""]
            if len(values) > 1:
                raise InvalidRequestError(f"{name}: give at most one value", fields={name: "repeated"})
            if values:
                data[name] = values[0]
        for name in _MULTI:
            values = [value for value in params.get(name, ()) if value.strip()]
            if values:
                data[name] = values
        return cls.model_validate(data)

    def plan(self) -> Plan:
        """The normalised index plan: folded words, filter keys per dimension, ordering."""
        terms = tuple(query_words(self.q or ""))
        if len(terms) > MAX_QUERY_WORDS:
            raise InvalidRequestError(
                f"q: use at most {MAX_QUERY_WORDS} words", fields={"q": f"more than {MAX_QUERY_WORDS} words"}
            )
        filters: list[tuple[str, tuple[str, ...]]] = []
        for dim in sorted(_MULTI):
            values = getattr(self, dim)
            if not values:
                continue
            if dim == "remote":
                keys = {"true" if value else "false" for value in values}
            else:
                keys = {key(value) for value in values}  # "" matches nothing
            filters.append((dim, tuple(sorted(keys))))
        relevance = bool(terms) and self.sort != "newest"
        # A submitted search matches whole words only (`java` is not JavaScript, `engineer` = `engineers`);
        # while typing (`typing=1`), "pyth" is also a prefix, unless a space follows it ("data ").
        prefix_last = self.typing and bool(terms) and not (self.q or "")[-1:].isspace()
        return Plan(terms=terms, filters=tuple(filters), relevance=relevance, prefix_last=prefix_last)


MAX_SUGGESTIONS = 10
DEFAULT_SUGGESTIONS = 5
MAX_SIMILAR = 20
DEFAULT_SIMILAR = 5


def _single_values(params: Mapping[str, Sequence[str]], names: tuple[str, ...]) -> dict[str, object]:
    data: dict[str, object] = {}
    for name in names:
        values = [value for value in params.get(name, ()) if value != ""]
        if len(values) > 1:
            raise InvalidRequestError(f"{name}: give at most one value", fields={name: "repeated"})
        if values:
            data[name] = values[0]
    return data


class SuggestQuery(BaseModel):
    """`GET /jobs/suggest` parameters: the query as typed so far."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    q: str = Field(min_length=1, max_length=MAX_QUERY_LENGTH, description="The search box's text so far.")
    limit: int = Field(
        DEFAULT_SUGGESTIONS, ge=1, le=MAX_SUGGESTIONS, description="Most suggestions per kind."
    )

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> SuggestQuery:
        return cls.model_validate(_single_values(params, ("q", "limit")))

    def terms(self) -> tuple[tuple[str, ...], list[str], bool]:
        """(the words as the search reads them, the words as typed (folded), whether the last is a
        prefix: no space after it)."""
        terms = tuple(query_words(self.q))
        if len(terms) > MAX_QUERY_WORDS:
            raise InvalidRequestError(
                f"q: use at most {MAX_QUERY_WORDS} words", fields={"q": f"more than {MAX_QUERY_WORDS} words"}
            )
        return terms, words(self.q), not self.q[-1:].isspace()


class SimilarQuery(BaseModel):
    """`GET /jobs/{job_id}/similar` parameters."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    limit: int = Field(DEFAULT_SIMILAR, ge=1, le=MAX_SIMILAR, description="Most postings to return.")

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> SimilarQuery:
        return cls.model_validate(_single_values(params, ("limit",)))
