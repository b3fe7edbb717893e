"""The board's query parameters, validated at the edge and normalised into an index Plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.errors import InvalidRequestError, UnprocessableError
from chalicelib.services.board import gazetteer
from chalicelib.services.board.analysis import query_words
from chalicelib.services.board.engine import POSTED_WITHIN_SECONDS, Plan, near_key
from chalicelib.services.board.text import key

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 12
MAX_FILTER_VALUES = 20
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAY = 100_000_000  # pay_min: a whole annual amount, 0 to this
MIN_RADIUS_KM = 1
MAX_RADIUS_KM = 500
DEFAULT_RADIUS_KM = 50
POSTED_WITHIN = tuple(POSTED_WITHIN_SECONDS)  # 24h, 3d, 7d, 30d
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"

_MULTI = ("location", "remote", "employment_type", "company", "provider", "department")
_SINGLE = (
    "q", "sort", "limit", "cursor",
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
        filters.extend(self._computed_filters())
        if self.near is not None:  # the remote filter is part of `near` (see _near_filter)
            filters = [(dim, keys) for dim, keys in filters if dim != "remote"]
        filters.sort()
        relevance = bool(terms) and self.sort != "newest"
        # "pyth" is matched as a prefix while it is being typed; "data " (a space after) is a whole word.
        prefix_last = bool(terms) and not (self.q or "")[-1:].isspace()
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
