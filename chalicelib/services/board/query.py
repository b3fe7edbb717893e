"""The board's query parameters, validated at the edge and normalised into an index Plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator

from chalicelib.errors import InvalidRequestError, UnprocessableError
from chalicelib.services.board import gazetteer
from chalicelib.services.board.analysis import query_words, words
from chalicelib.services.board.engine import POSTED_WITHIN_SECONDS, Plan, near_key
from chalicelib.services.board.text import key

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 12
MAX_FILTER_VALUES = 20
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
TYPING_VALUES = ("1", "0", "true", "false")
MAX_PAY = 100_000_000  # pay_min: a whole annual amount, 0 to this
MIN_RADIUS_KM = 1
MAX_RADIUS_KM = 500
DEFAULT_RADIUS_KM = 50
POSTED_WITHIN = tuple(POSTED_WITHIN_SECONDS)  # 24h, 3d, 7d, 30d
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"

_MULTI = ("location", "remote", "employment_type", "company", "provider", "department")
_SINGLE = (
    "q", "sort", "limit", "cursor", "typing",
    "pay_min", "pay_currency", "shows_pay", "posted_within", "near", "radius_km",
)  # fmt: skip

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


def _single_values(params: Mapping[str, Sequence[str]], names: tuple[str, ...]) -> dict[str, object]:
    data: dict[str, object] = {}
    for name in names:
        values = [value for value in params.get(name, ()) if value != ""]
        if len(values) > 1:
            raise InvalidRequestError(f"{name}: give at most one value", fields={name: "repeated"})
        if values:
            data[name] = values[0]
    return data


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

    pay_min: int | None = Field(None, ge=0, le=MAX_PAY, strict=False)
    pay_currency: str | None = Field(None, pattern=CURRENCY_PATTERN)
    shows_pay: bool | None = None
    posted_within: Literal["24h", "3d", "7d", "30d"] | None = None
    near: str | None = Field(None, max_length=MAX_QUERY_LENGTH)
    radius_km: int = Field(DEFAULT_RADIUS_KM, ge=MIN_RADIUS_KM, le=MAX_RADIUS_KM)

    @field_validator("pay_min", "radius_km", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        # Digits only, as the document's pattern says ("1e5", "+5", " 5" and "5.0" are refused).
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            raise ValueError("must be a whole number")
        return value

    @field_validator("shows_pay", mode="before")
    @classmethod
    def _boolean(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip().lower()
            if text not in ("true", "false"):
                raise ValueError("must be true or false")
            return text == "true"
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
        check_filter_counts(params)
        data = _single_values(params, _SINGLE)
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
        filters.extend(self._computed_filters())
        if self.near is not None:  # the remote filter is part of `near` (see _near_filter)
            filters = [(dim, keys) for dim, keys in filters if dim != "remote"]
        filters.sort()
        relevance = bool(terms) and self.sort != "newest"
        # A submitted search matches whole words only (`java` is not JavaScript, `engineer` = `engineers`);
        # while typing (`typing=1`), "pyth" is also a prefix, unless a space follows it ("data ").
        prefix_last = self.typing and bool(terms) and not (self.q or "")[-1:].isspace()
        return Plan(terms=terms, filters=tuple(filters), relevance=relevance, prefix_last=prefix_last)

    def _computed_filters(self) -> list[tuple[str, tuple[str, ...]]]:
        filters: list[tuple[str, tuple[str, ...]]] = []
        if self.pay_min is not None or self.pay_currency is not None:
            if self.pay_currency is None:
                raise InvalidRequestError(
                    "pay_currency: give the currency of pay_min (ISO 4217, e.g. EUR); amounts in "
                    "different currencies are never compared",
                    code="pay_currency_required",
                    fields={"pay_currency": "required with pay_min"},
                )
            filters.append(("pay_min", (f"{self.pay_currency.upper()}:{self.pay_min or 0}",)))
        if self.shows_pay is not None:
            filters.append(("shows_pay", ("true" if self.shows_pay else "false",)))
        if self.posted_within is not None:
            filters.append(("posted_within", (self.posted_within,)))
        if self.near is not None:
            filters.append(("near", (self._near_filter(self.near),)))
        return filters

    def _near_filter(self, near: str) -> str:
        """`near`'s key: the place's point, the radius, and the remote rule. With `near`, postings placed
        within the radius are in (a remote posting with an office in range too); other remote postings
        are in only with `remote=true`; `remote=false` leaves every remote posting out."""
        place = gazetteer.lookup(near)
        if place is None or place.lat is None or place.lon is None:
            raise UnprocessableError(
                'near: no city of that name is known; name a city, e.g. Berlin, München or "Portland, OR"',
                code="unknown_place",
                fields={"near": "not a known city"},
            )
        remote = "" if not self.remote else "remote" if True in self.remote else "onsite"
        return near_key(place.lat, place.lon, self.radius_km, remote)


MAX_SUGGESTIONS = 10
DEFAULT_SUGGESTIONS = 5
MAX_SIMILAR = 20
DEFAULT_SIMILAR = 5


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
