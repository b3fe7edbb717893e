"""Request and response bodies of the alert routes (the stored alert is `chalicelib.models.alerts`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.models.alerts import SEARCH_PARAMETERS, AlertSearch, Frequency
from chalicelib.models.apply import EMAIL_PATTERN, PYTHON_WHITESPACE, any_case, is_email_address

SearchValue = str | list[str]

# `remote` is true or false in any case, as `GET /jobs` reads it, or blank (ignored, like every blank
# filter value); at most two values.
_BOOLEAN_TEXT = {
    "type": "string",
    "pattern": f"^{PYTHON_WHITESPACE}*(?:{any_case('true')}|{any_case('false')})?{PYTHON_WHITESPACE}*$",
}
_SEARCH_VALUE_SCHEMAS: dict[str, dict[str, object]] = {
    "q": {"type": "string"},
    "remote": {"anyOf": [_BOOLEAN_TEXT, {"type": "array", "items": _BOOLEAN_TEXT, "maxItems": 2}]},
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
        "each a string or a list of strings, validated as `GET /jobs` validates them.",
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
