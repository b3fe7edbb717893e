"""Country codes (ISO 3166-1 alpha-2) from the free-text locations ATSs send.

Locations arrive as "City, Region, Country", "City, ST" (US/Canadian state or province codes) or
"Remote - EU" / "Remote - US". `countries_in` turns one such name into the ISO codes it names: a country
by name, alias or code, a US state or Canadian province code, or a region we can spell out (the EU's
member states). Anything else names no country; nothing is guessed.
"""

from __future__ import annotations

import re

# ISO 3166-1 alpha-2 code -> English short name.
COUNTRY_NAMES: dict[str, str] = {
    "AD": "Andorra",
    "AE": "United Arab Emirates",
    "AF": "Afghanistan",
    "AG": "Antigua and Barbuda",
    "AL": "Albania",
    "AM": "Armenia",
    "AO": "Angola",
    "AR": "Argentina",
    "AT": "Austria",
    "AU": "Australia",
    "AZ": "Azerbaijan",
    "BA": "Bosnia and Herzegovina",
    "BB": "Barbados",
    "BD": "Bangladesh",
    "BE": "Belgium",
    "BF": "Burkina Faso",
    "BG": "Bulgaria",
    "BH": "Bahrain",
    "BI": "Burundi",
    "BJ": "Benin",
    "BN": "Brunei",
    "BO": "Bolivia",
    "BR": "Brazil",
    "BS": "Bahamas",
    "BT": "Bhutan",
    "BW": "Botswana",
    "BY": "Belarus",
    "BZ": "Belize",
    "CA": "Canada",
    "CD": "Congo (Democratic Republic)",
    "CF": "Central African Republic",
    "CG": "Congo",
    "CH": "Switzerland",
    "CI": "Côte d'Ivoire",
    "CL": "Chile",
    "CM": "Cameroon",
    "CN": "China",
    "CO": "Colombia",
    "CR": "Costa Rica",
    "CU": "Cuba",
    "CV": "Cabo Verde",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DJ": "Djibouti",
    "DK": "Denmark",
    "DM": "Dominica",
    "DO": "Dominican Republic",
    "DZ": "Algeria",
    "EC": "Ecuador",
    "EE": "Estonia",
    "EG": "Egypt",
    "ER": "Eritrea",
    "ES": "Spain",
    "ET": "Ethiopia",
    "FI": "Finland",
    "FJ": "Fiji",
    "FR": "France",
    "GA": "Gabon",
    "GB": "United Kingdom",
    "GD": "Grenada",
    "GE": "Georgia",
    "GH": "Ghana",
    "GM": "Gambia",
    "GN": "Guinea",
    "GQ": "Equatorial Guinea",
    "GR": "Greece",
    "GT": "Guatemala",
    "GW": "Guinea-Bissau",
    "GY": "Guyana",
    "HK": "Hong Kong",
    "HN": "Honduras",
    "HR": "Croatia",
    "HT": "Haiti",
    "HU": "Hungary",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IL": "Israel",
    "IN": "India",
    "IQ": "Iraq",
    "IR": "Iran",
    "IS": "Iceland",
    "IT": "Italy",
    "JM": "Jamaica",
    "JO": "Jordan",
    "JP": "Japan",
    "KE": "Kenya",
    "KG": "Kyrgyzstan",
    "KH": "Cambodia",
    "KR": "South Korea",
    "KW": "Kuwait",
    "KZ": "Kazakhstan",
    "LA": "Laos",
    "LB": "Lebanon",
    "LI": "Liechtenstein",
    "LK": "Sri Lanka",
    "LR": "Liberia",
    "LS": "Lesotho",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "LY": "Libya",
    "MA": "Morocco",
    "MC": "Monaco",
    "MD": "Moldova",
    "ME": "Montenegro",
    "MG": "Madagascar",
    "MK": "North Macedonia",
    "ML": "Mali",
    "MM": "Myanmar",
    "MN": "Mongolia",
    "MO": "Macao",
    "MR": "Mauritania",
    "MT": "Malta",
    "MU": "Mauritius",
    "MV": "Maldives",
    "MW": "Malawi",
    "MX": "Mexico",
    "MY": "Malaysia",
    "MZ": "Mozambique",
    "NA": "Namibia",
    "NE": "Niger",
    "NG": "Nigeria",
    "NI": "Nicaragua",
    "NL": "Netherlands",
    "NO": "Norway",
    "NP": "Nepal",
    "NZ": "New Zealand",
    "OM": "Oman",
    "PA": "Panama",
    "PE": "Peru",
    "PG": "Papua New Guinea",
    "PH": "Philippines",
    "PK": "Pakistan",
    "PL": "Poland",
    "PR": "Puerto Rico",
    "PS": "Palestine",
    "PT": "Portugal",
    "PY": "Paraguay",
    "QA": "Qatar",
    "RO": "Romania",
    "RS": "Serbia",
    "RU": "Russia",
    "RW": "Rwanda",
    "SA": "Saudi Arabia",
    "SC": "Seychelles",
    "SD": "Sudan",
    "SE": "Sweden",
    "SG": "Singapore",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "SL": "Sierra Leone",
    "SM": "San Marino",
    "SN": "Senegal",
    "SO": "Somalia",
    "SR": "Suriname",
    "SV": "El Salvador",
    "SY": "Syria",
    "TD": "Chad",
    "TG": "Togo",
    "TH": "Thailand",
    "TJ": "Tajikistan",
    "TN": "Tunisia",
    "TR": "Türkiye",
    "TT": "Trinidad and Tobago",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "UA": "Ukraine",
    "UG": "Uganda",
    "US": "United States",
    "UY": "Uruguay",
    "UZ": "Uzbekistan",
    "VE": "Venezuela",
    "VN": "Viet Nam",
    "YE": "Yemen",
    "ZA": "South Africa",
    "ZM": "Zambia",
    "ZW": "Zimbabwe",
}

_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "deutschland": "DE",
    "czech republic": "CZ",
    "the netherlands": "NL",
    "holland": "NL",
    "korea": "KR",
    "republic of korea": "KR",
    "turkey": "TR",
    "vietnam": "VN",
    "ivory coast": "CI",
    "cape verde": "CV",
    "russian federation": "RU",
    "uae": "AE",
    "españa": "ES",
    "österreich": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "italia": "IT",
    "polska": "PL",
}

# Regions that stand for a fixed set of countries.
EU_MEMBERS = (
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
)
_REGIONS: dict[str, tuple[str, ...]] = {"eu": EU_MEMBERS, "european union": EU_MEMBERS}

US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
    ]
)
CA_PROVINCES = frozenset(["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"])

_BY_NAME = {name.casefold(): code for code, name in COUNTRY_NAMES.items()} | _ALIASES
_REMOTE_PREFIX = re.compile(r"^\s*remote\b\s*[-\u2013\u2014:(/,]?\s*", re.IGNORECASE)


def is_remote_name(name: str) -> bool:
    """Whether a location name describes remote work ("Remote", "Remote - EU", "Remote (US)")."""
    return bool(_REMOTE_PREFIX.match(name))


def _code_of(part: str) -> tuple[str, ...]:
    text = part.strip().strip("()").strip()
    if not text:
        return ()
    folded = text.casefold()
    if folded in _REGIONS:
        return _REGIONS[folded]
    if folded in _BY_NAME:
        return (_BY_NAME[folded],)
    if len(text) == 2 and text.upper() == text and text in COUNTRY_NAMES:
        return (text,)
    return ()


def countries_in(name: str) -> tuple[str, ...]:
    """The ISO 3166-1 alpha-2 codes a location name names (empty when it names none)."""
    remote = is_remote_name(name)
    text = _REMOTE_PREFIX.sub("", name) if remote else name
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return ()
    last = parts[-1]
    found = _code_of(last)
    if found:
        # "City, CA" is California unless the name has nothing before it ("Remote - CA" is Canada).
        if len(parts) > 1 and last in US_STATES and not remote:
            return ("US",)
        return found
    if len(parts) > 1 and last.upper() == last:
        if last in US_STATES:
            return ("US",)
        if last in CA_PROVINCES:
            return ("CA",)
    return ()


def address_parts(name: str) -> tuple[str | None, str | None, str | None]:
    """(locality, region, country code) of an office location name; None where the name says nothing."""
    parts = [part.strip() for part in name.split(",") if part.strip()]
    if not parts:
        return None, None, None
    codes = countries_in(name)
    country = codes[0] if len(codes) == 1 else None
    if len(parts) == 1:
        return (None, None, country) if country else (parts[0], None, None)
    locality = parts[0]
    if country and _code_of(parts[-1]) == (country,):
        region = ", ".join(parts[1:-1]) or None
    else:
        region = ", ".join(parts[1:]) or None  # "New York, NY": the state is the region
    return locality, region, country
