"""Request and response bodies of the alert routes (the stored alert is `chalicelib.models.alerts`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.models.alerts import SEARCH_PARAMETERS, SINGLE_SEARCH_PARAMETERS, AlertSearch, Frequency
from chalicelib.models.apply import EMAIL_PATTERN, PYTHON_WHITESPACE, any_case, is_email_address

SearchValue = str | list[str]

# `remote` is true or false in any case, as `GET /jobs` reads it, or blank (ignored, like every blank
# filter value); at most two values.
_BOOLEAN_TEXT = {
    "type": "string",
    "pattern": f"^{PYTHON_WHITESPACE}*(?:{any_case('true')}|{any_case('false')})?{PYTHON_WHITESPACE}*$",
}


def _one_value(pattern: str) -> dict[str, object]:
    """One string: blank (no filter) or `pattern`, with the whitespace the server strips around it."""
    return {"type": "string", "pattern": f"^{PYTHON_WHITESPACE}*(?:{pattern})?{PYTHON_WHITESPACE}*$"}


_SEARCH_VALUE_SCHEMAS: dict[str, dict[str, object]] = {
    "q": {"type": "string"},
    "remote": {"anyOf": [_BOOLEAN_TEXT, {"type": "array", "items": _BOOLEAN_TEXT, "maxItems": 2}]},
    # As `GET /jobs` reads them (chalicelib/services/board/query.py): whole numbers 0-100,000,000 and
    # 1-500, an ISO 4217 code, true/false, a date bucket; `near` names a city (422 `unknown_place`).
    "pay_min": _one_value("0*(?:[0-9]{1,8}|100000000)"),
    "pay_currency": _one_value("[A-Za-z]{3}"),
    "shows_pay": _one_value(f"{any_case('true')}|{any_case('false')}"),
    "posted_within": _one_value("24h|3d|7d|30d"),
    "near": {"type": "string"},
    "radius_km": _one_value("0*(?:[1-9][0-9]?|[1-4][0-9]{2}|500)"),
}
_FILTER_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
_SEARCH_PROPERTIES: dict[str, Any] = {
    name: _SEARCH_VALUE_SCHEMAS.get(name, _FILTER_SCHEMA) for name in SEARCH_PARAMETERS
}


class AlertSubscribeRequest(BaseModel):
    """`POST /alerts`: an address, how often, and the board search (`GET /jobs`'s parameters)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str = Field(
        max_length=254,
        description="Where the alert goes (confirmed by a link first).",
        json_schema_extra={"pattern": EMAIL_PATTERN},
    )
    frequency: Frequency = Field(
        "daily", description="instant (within 15 minutes of a posting appearing), daily or weekly."
    )
    search: dict[str, SearchValue] = Field(
        default_factory=dict,
        description="`q`, `location`, `remote`, `employment_type`, `company`, `provider`, `department`: "
        "each a string or a list of strings; `pay_min`, `pay_currency`, `shows_pay`, `posted_within`, "
        "`near`, `radius_km`: one string each; validated as `GET /jobs` validates them.",
        json_schema_extra={
            # `q` is one string, as on `GET /jobs`; every filter takes one value or several.
            "properties": _SEARCH_PROPERTIES,
            "additionalProperties": False,
        },
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not is_email_address(value):
            raise ValueError("must be a valid email address")
        return value

    @field_validator("search")
    @classmethod
    def _search(cls, value: dict[str, SearchValue]) -> dict[str, SearchValue]:
        unknown = sorted(set(value) - set(SEARCH_PARAMETERS))
        if unknown:
            raise ValueError(f"unknown search parameter(s): {', '.join(unknown)}")
        for name, values in value.items():
            limit = 2 if name == "remote" else 20
            if isinstance(values, list) and len(values) > limit:
                raise ValueError(f"{name}: at most {limit} values")
        listed = sorted(
            name for name in SINGLE_SEARCH_PARAMETERS if name != "q" and isinstance(value.get(name), list)
        )
        if listed:
            raise ValueError(f"one value (a string) for: {', '.join(listed)}")
        return value

    def alert_search(self) -> AlertSearch:
        """The canonical search; InvalidRequestError (or a ValidationError) as `GET /jobs` would refuse it."""
        return AlertSearch.from_params(
            {name: [value] if isinstance(value, str) else value for name, value in self.search.items()}
        )


class AlertSubscribeResponse(BaseModel):
    """The one answer to every accepted sign-up, whatever the address's state."""

    status: Literal["accepted"] = "accepted"
    message: str = (
        "If this address can receive alerts, a confirmation email is on its way. "
        "Open its link within 7 days to start the alert."
    )


class AlertManageForm(BaseModel):
    """The manage page's forms: one button's `action`, and the chosen `frequency` with `frequency`."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["frequency", "pause", "resume", "delete"]
    frequency: Frequency | None = None
