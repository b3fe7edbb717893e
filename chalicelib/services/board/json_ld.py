"""schema.org JobPosting structured data, following Google's job-posting guidance.

Required: title, description, datePosted, hiringOrganization, and jobLocation, or for remote jobs
jobLocationType TELECOMMUTE with applicantLocationRequirements. Recommended, when known: employmentType,
baseSalary, identifier, validThrough, directApply.
"""

from __future__ import annotations

from typing import Any

from chalicelib.clock import isoformat
from chalicelib.models.posting import Posting
from chalicelib.services.board import shaping
from chalicelib.services.board.markup import clean_strings, script_json

# StackOne employment_type / employment_contract_type values -> Google's employmentType values.
_EMPLOYMENT_TYPES = {
    "permanent": "FULL_TIME",
    "contractor": "CONTRACTOR",
    "freelance": "CONTRACTOR",
    "employer_of_record": "CONTRACTOR",
    "intern": "INTERN",
    "apprentice": "INTERN",
    "programme": "INTERN",
    "temporary": "TEMPORARY",
    "seasonal": "TEMPORARY",
    "casual": "PER_DIEM",
    "volunteer": "VOLUNTEER",
}
_CONTRACT_TYPES = {"full_time": "FULL_TIME", "part_time": "PART_TIME", "shifts": "PER_DIEM"}
_UNIT_TEXT = {"hour": "HOUR", "day": "DAY", "week": "WEEK", "month": "MONTH", "year": "YEAR"}


def employment_types(posting: Posting) -> list[str]:
    """Google employmentType values for a posting (contract type first: it says full or part time)."""
    found: list[str] = []
    contract = _CONTRACT_TYPES.get((posting.contract_type or "").lower())
    if contract:
        found.append(contract)
    employment = (posting.employment_type or "").lower()
    if employment:
        mapped = _EMPLOYMENT_TYPES.get(employment, "OTHER")
        # "permanent" only says FULL_TIME when the contract type did not already say otherwise.
        if not (employment == "permanent" and contract):
            found.append(mapped)
    return list(dict.fromkeys(found))


def _address(name: str) -> dict[str, Any]:
    """A PostalAddress from a free-text location ("City, Region, Country")."""
    parts = [part.strip() for part in name.split(",") if part.strip()]
    address: dict[str, Any] = {"@type": "PostalAddress"}
    if len(parts) == 1:
        address["addressLocality"] = parts[0]
    elif parts:
        address["addressLocality"] = parts[0]
        address["addressCountry"] = parts[-1]
        if len(parts) > 2:
            address["addressRegion"] = ", ".join(parts[1:-1])
    return address


def _base_salary(posting: Posting) -> dict[str, Any] | None:
    element = shaping.pay_element(posting)
    if element is None or not element.currency:
        return None
    value: dict[str, Any] = {"@type": "QuantitativeValue"}
    if element.min is not None and element.max is not None and element.min != element.max:
        value["minValue"] = element.min
        value["maxValue"] = element.max
    else:
        value["value"] = element.min if element.min is not None else element.max
    if element.period in _UNIT_TEXT:
        value["unitText"] = _UNIT_TEXT[element.period]
    return {"@type": "MonetaryAmount", "currency": element.currency, "value": value}


def job_posting(posting: Posting, *, url: str, direct_apply: bool) -> dict[str, Any]:
    """The JobPosting object for a posting's page (embed it with `script_text`, as application/ld+json)."""
    posted = shaping.posted_at(posting)
    document: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": posting.title,
        "description": posting.content_html or posting.content_plain or posting.title,
        "datePosted": isoformat(posted) if posted else None,
        "hiringOrganization": {"@type": "Organization", "name": posting.company},
        "identifier": {"@type": "PropertyValue", "name": posting.company, "value": posting.job_id},
        "url": url,
        "directApply": direct_apply,
    }
    if document["datePosted"] is None:
        del document["datePosted"]
    names = [location.name for location in posting.locations if location.name]
    if posting.remote:
        document["jobLocationType"] = "TELECOMMUTE"
        countries = list(dict.fromkeys(name.split(",")[-1].strip() for name in names))
        if countries:
            document["applicantLocationRequirements"] = [
                {"@type": "Country", "name": country} for country in countries
            ]
    elif names:
        document["jobLocation"] = [{"@type": "Place", "address": _address(name)} for name in names]
    types = employment_types(posting)
    if types:
        document["employmentType"] = types if len(types) > 1 else types[0]
    salary = _base_salary(posting)
    if salary:
        document["baseSalary"] = salary
    if posting.department:
        document["occupationalCategory"] = posting.department
    # Every string is XML-safe; `script_text` makes the whole document safe inside a <script> element.
    cleaned: dict[str, Any] = clean_strings(document)
    return cleaned


def script_text(document: dict[str, Any]) -> str:
    """The JSON-LD as the text of a `<script type="application/ld+json">` element (cannot close it)."""
    return script_json(document)
