"""schema.org JobPosting structured data, following Google's job-posting guidance.

Required: title, description, datePosted, hiringOrganization, and jobLocation, or for remote jobs
jobLocationType TELECOMMUTE with applicantLocationRequirements (countries as ISO 3166-1 alpha-2 codes).
Recommended, when known: employmentType, baseSalary (with unitText), identifier, validThrough,
directApply. Countries come from the location names (`countries.py`); a remote job whose locations name
no country ("Remote") gets no invented one. validThrough is left out: StackOne's JobPosting carries no
closing date, and a closed posting's page answers 410 instead.
"""

from __future__ import annotations

from typing import Any

from chalicelib.clock import isoformat
from chalicelib.models.posting import Posting
from chalicelib.services.board import countries, shaping
from chalicelib.services.board.markup import clean_strings

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
    """A PostalAddress from a free-text location ("City, Region, Country"), the country as ISO code."""
    locality, region, country = countries.address_parts(name)
    address: dict[str, Any] = {"@type": "PostalAddress"}
    if locality:
        address["addressLocality"] = locality
    if region:
        address["addressRegion"] = region
    if country:
        address["addressCountry"] = country
    return address


def _countries(names: list[str]) -> list[dict[str, Any]]:
    codes = dict.fromkeys(code for name in names for code in countries.countries_in(name))
    return [{"@type": "Country", "name": code} for code in codes]


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
    unit = _UNIT_TEXT.get((element.period or "").lower())
    if unit is None:  # Google needs the unit; an amount without one is left out rather than guessed
        return None
    value["unitText"] = unit
    return {"@type": "MonetaryAmount", "currency": element.currency, "value": value}


def job_posting(posting: Posting, *, url: str, direct_apply: bool) -> dict[str, Any]:
    """The JobPosting object for a posting's page (embedded with `markup.script_json` as ld+json)."""
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
    remote_names = [name for name in names if countries.is_remote_name(name)]
    offices = [name for name in names if not countries.is_remote_name(name)]
    if posting.remote:
        document["jobLocationType"] = "TELECOMMUTE"
        # "Remote - EU" + "Munich, Germany": remote from the EU, or at the Munich office (hybrid). A remote
        # posting that lists only cities may be done from those cities' countries.
        applicants = _countries(remote_names if remote_names else names)
        if applicants:
            document["applicantLocationRequirements"] = applicants
        if not remote_names:
            offices = []
    if offices:
        document["jobLocation"] = [{"@type": "Place", "address": _address(name)} for name in offices]
    types = employment_types(posting)
    if types:
        document["employmentType"] = types if len(types) > 1 else types[0]
    salary = _base_salary(posting)
    if salary:
        document["baseSalary"] = salary
    if posting.department:
        document["occupationalCategory"] = posting.department
    # Every string is XML-safe; `markup.script_json` makes the whole document safe inside a <script> element.
    cleaned: dict[str, Any] = clean_strings(document)
    return cleaned
