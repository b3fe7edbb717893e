"""Place names -> places, from the embedded gazetteer (`data/gazetteer.json.gz`, written by
`make gazetteer` from GeoNames' cities of 15,000+ people, with their Latin-script alternate names,
country names and US states). No network: the file ships with the code and loads on first use.

API:
- `lookup(name) -> Place | None`: the place a location name or a search names. "Berlin",
  "Berlin, Germany", "San Francisco, CA", "München", "Paris, France", "Texas", "Germany". A city is
  the most populous one with that name (or alternate name) in the country or US state the name gives;
  a name that is only a country or a US state is that region (no coordinates). Remote work
  ("Remote", "Remote - EU") is no place: None.
- `aliases(name) -> set[str]`: every folded name of the city `name` resolves to ("münchen" ->
  {"munchen", "munich", "muenchen", ...}); empty when it names no city.
"""

from __future__ import annotations

import functools
import gzip
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from chalicelib.services.board.countries import COUNTRY_NAMES, countries_in, is_remote_name
from chalicelib.services.board.text import key

DATA_FILE = Path(__file__).resolve().parent / "data" / "gazetteer.json.gz"
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved place. Cities have coordinates; a country or US state has none."""

    name: str
    kind: Literal["city", "state", "country"]
    country: str  # ISO 3166-1 alpha-2
    lat: float | None = None
    lon: float | None = None
    admin1: str = ""  # for US cities, the state's two-letter code
    population: int = 0


@dataclass(frozen=True, slots=True)
class _City:
    place: Place
    names: frozenset[str]  # folded name and alternate names


class _Gazetteer:
    """The file's rows, indexed by every folded name; a row becomes a Place only when it is asked for."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.rows: list[list[Any]] = data["cities"]  # most populous first
        self.by_name: dict[str, list[int]] = {}
        for number, row in enumerate(self.rows):
            for folded in row[1]:
                found = self.by_name.get(folded)
                if found is None:
                    self.by_name[folded] = [number]
                else:
                    found.append(number)
        us_states: dict[str, str] = data["us_states"]
        self.state_names = us_states
        self.states: dict[str, str] = {}  # folded code or name -> code
        for code, state in us_states.items():
            self.states[key(code)] = code
            self.states[key(state)] = code

    def city(self, name: str, *, country: str | None, state: str | None) -> _City | None:
        for number in self.by_name.get(key(name), ()):
            name_, names, lat, lon, country_, admin1, population = self.rows[number]
            if (country and country_ != country) or (state and admin1 != state):
                continue
            return _City(Place(name_, "city", country_, lat, lon, admin1, population), frozenset(names))
        return None


@functools.cache
def _gazetteer() -> _Gazetteer:
    return _Gazetteer(orjson.loads(gzip.decompress(DATA_FILE.read_bytes())))


def _resolve(name: str) -> _City | Place | None:
    if not name or len(name) > 200 or is_remote_name(name):
        return None
    parts = [part.strip() for part in name.split(",") if part.strip()]
    if not parts:
        return None
    gazetteer = _gazetteer()
    codes = countries_in(name)
    country = codes[0] if len(codes) == 1 else None
    last = parts[-1]
    state = gazetteer.states.get(key(last)) if len(parts) > 1 and country in (None, "US") else None
    if len(parts) == 1:
        city = gazetteer.city(parts[0], country=None, state=None)
        if city is not None:
            return city
        if key(parts[0]) in gazetteer.states and len(parts[0]) > 2:
            code = gazetteer.states[key(parts[0])]
            return Place(gazetteer.state_names[code], "state", "US", admin1=code)
        if country:
            return Place(COUNTRY_NAMES.get(country, country), "country", country)
        return None
    # "City, Region, Country": the first part is the city; the others narrow it down.
    city = gazetteer.city(parts[0], country=country or ("US" if state else None), state=state)
    if city is None and country:
        city = gazetteer.city(parts[0], country=country, state=None)
    if city is not None:
        return city
    if country:
        return Place(COUNTRY_NAMES.get(country, country), "country", country)
    return None


def lookup(name: str) -> Place | None:
    """The place `name` names (see the module docstring), or None."""
    found = _resolve(name)
    return found.place if isinstance(found, _City) else found


def aliases(name: str) -> set[str]:
    """Every folded name of the city `name` names (itself included); empty for no city."""
    found = _resolve(name)
    return set(found.names) if isinstance(found, _City) else set()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
