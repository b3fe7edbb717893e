"""The board benchmark's query mix: distinct, deterministic queries per kind, drawn from the vocabulary
`bench.board_data` generates postings from (skills, roles, seniorities, cities, companies, filler words and
the long tail), so every engine answers the very same requests.

Kinds (each a list of distinct queries, the first ones used when a run takes fewer):
- `no_filter`: the landing page (one distinct query: its first-time figure resets the facet cache);
- `one_filter`: one dimension, one value; `several_filters`: four dimensions, one or two values each;
- `facets_heavy`: three dimensions with two or three values each (every filtered dimension needs its own
  count with the other filters applied);
- `q_one_word`, `q_three_words`: whole words (some inflected: "engineers"), with a trailing space
  sometimes (then the last word is not also matched as a prefix);
- `prefix`: the last word cut short, as the search box sends it while typing (`typing=1`: "pyth", "kube",
  "senior eng");
- `typo`: one edit away from a word of 5+ letters ("pyhton", "kuberntes", "enginer");
- `vocabulary`: abbreviations, technical terms, phrases and places in other languages ("sre", "c#",
  "site reliability", "münchen"), alone or with a city or seniority;
- `deep_cursor_q`, `deep_cursor_newest`: page 20 of a q query (by relevance) and of a no-q query;
- `pay_min`: an annual amount in a currency, alone, with a word or with a filter;
- `near`: a city and a radius (10-500 km), sometimes with `remote=true`, a word or a filter;
- `posted_within`: a date bucket, alone, with a word or with a filter.
The last three (`FILTER_KINDS`) are ours only: the baselines have no pay, date or distance filter.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from bench.board_common import DEEP_PAGE, Mix, Params, Query
from bench.board_data import (
    CITIES,
    EMPLOYMENT,
    FILLER,
    PROVIDERS,
    RARE_WORDS,
    ROLES,
    SENIORITY,
    SKILLS,
    companies,
)

KINDS = (
    "no_filter",
    "one_filter",
    "several_filters",
    "facets_heavy",
    "q_one_word",
    "q_three_words",
    "prefix",
    "typo",
    "vocabulary",
    "deep_cursor_q",
    "deep_cursor_newest",
    "pay_min",
    "near",
    "posted_within",
)
# Abbreviations, technical terms, phrases and places in other languages (the dictionary and gazetteer).
_VOCABULARY = (
    "sre",
    "k8s",
    "ml engineer",
    "c#",
    ".net developer",
    "node.js",
    "golang",
    "sr engineer",
    "js",
    "site reliability",
    "part time",
    "data scientist",
    "product manager",
    "full stack developer",
    "münchen",
    "wien",
    "köln",
    "praha",
    "zürich python",
    "senior sre berlin",
    "qa engineer",
    "ux designer",
)

FILTER_KINDS = ("pay_min", "near", "posted_within")

# Probes for the quality comparison (result counts per engine).
PROBES = (
    "engineer",
    "engineers",
    "enginer",
    "eng",
    "python",
    "pyth",
    "pyhton",
    "kubernetes",
    "kuberntes",
    "kube",
    "front-end",
    "frontend",
    "front end",
    "senior python engineer",
    "zurich",
    "Zürich",
    "data scientists",
)

_NAMED_PREFIXES = ("pyth", "kube", "eng", "terra", "mana", "desi", "reac", "sale", "senior eng", "data sci")
_NAMED_TYPOS = ("pyhton", "kuberntes", "enginer", "managr", "desinger", "reacct", "terrafrom", "analsyt")
_INFLECTED = ("engineers", "developers", "managers", "designers", "analysts", "scientists", "nurses", "leads")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def _words(text: str) -> list[str]:
    return [w.lower() for w in text.replace(",", " ").split() if w.isalpha()]


def vocabulary() -> dict[str, list[str]]:
    roles = sorted({w for role, _ in ROLES for w in _words(role)})
    cities = sorted({w for city in CITIES for w in _words(city.split(",")[0])})
    return {
        "skills": [s.lower() for s in SKILLS],
        "roles": roles,
        "seniority": [s.lower() for s in SENIORITY if s and " " not in s],
        "cities": cities,
        "filler": [w for w in FILLER if len(w) > 3],
        "rare": list(RARE_WORDS[:: max(1, len(RARE_WORDS) // 400)]),
    }


def _filter_values() -> dict[str, list[str]]:
    countries = sorted({city.rsplit(",", 1)[-1].strip() for city in CITIES})
    return {
        "location": [*CITIES, *(city.split(",")[0] for city in CITIES), *countries],
        "company": companies(),
        "provider": list(PROVIDERS),
        "department": sorted({department for _, department in ROLES}),
        "employment_type": sorted(set(EMPLOYMENT)),
        "remote": ["true", "false"],
    }


def _unique(rng: random.Random, make: Callable[[random.Random], Params], count: int) -> list[Params]:
    found: dict[str, Params] = {}
    attempts = 0
    while len(found) < count and attempts < count * 50:
        attempts += 1
        params: Params = make(rng)
        found.setdefault(repr(sorted(params.items())), params)
    return list(found.values())


def _filters(rng: random.Random, dims: list[str], values_per_dim: tuple[int, int]) -> Params:
    values = _filter_values()
    params: Params = {}
    for dim in dims:
        options = values[dim]
        count = 1 if dim == "remote" else rng.randint(*values_per_dim)  # both values filter nothing
        params[dim] = rng.sample(options, count)
    return params


def _typo(rng: random.Random, word: str, known: set[str]) -> str:
    for _ in range(100):
        at = rng.randrange(1, len(word) - 1)
        edit = rng.randrange(4)
        if edit == 0:
            candidate = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif edit == 1:
            candidate = word[:at] + word[at + 1 :]
        elif edit == 2:
            candidate = word[:at] + rng.choice(_ALPHABET) + word[at + 1 :]
        else:
            candidate = word[:at] + rng.choice(_ALPHABET) + word[at:]
        if candidate != word and candidate not in known:
            return candidate
    return word


def build_mix(distinct: int, deep_distinct: int, *, seed: int = 11) -> Mix:
    """Up to `distinct` distinct queries per kind (`deep_distinct` for the deep-cursor kinds)."""
    rng = random.Random(seed)
    vocab = vocabulary()
    known = {w for words in vocab.values() for w in words}
    common = vocab["skills"] + vocab["roles"] + vocab["seniority"] + vocab["cities"]
    dims = ["location", "employment_type", "remote", "provider", "department"]

    def one_filter(rng: random.Random) -> Params:
        dim = rng.choice(["location", "location", "company", "provider", "department", "employment_type"])
        return _filters(rng, [dim if rng.random() > 0.02 else "remote"], (1, 1))

    def several(rng: random.Random) -> Params:
        return _filters(rng, rng.sample(dims, 4), (1, 2))

    def facets_heavy(rng: random.Random) -> Params:
        return _filters(rng, rng.sample(["location", "department", "employment_type", "company"], 3), (2, 3))

    def one_word(rng: random.Random) -> Params:
        pool = rng.choice([common, common, common, list(_INFLECTED), vocab["filler"], vocab["rare"]])
        return {"q": [rng.choice(pool) + (" " if rng.random() < 0.2 else "")]}

    def three_words(rng: random.Random) -> Params:
        first = rng.choice(vocab["seniority"] + vocab["cities"] + vocab["skills"])
        second = rng.choice(vocab["skills"])
        third = rng.choice([*vocab["roles"], *_INFLECTED])
        return {"q": [f"{first} {second} {third}"]}

    prefix_source = sorted({w for w in common if len(w) >= 5})

    def prefix(rng: random.Random) -> Params:
        word = rng.choice(prefix_source)
        cut = word[: rng.randint(3, len(word) - 2)]
        if cut in known:
            cut = word[:3] if word[:3] not in known else word[:4]
        lead = rng.choice(["", "", "", *vocab["seniority"]])
        return {"q": [f"{lead} {cut}".strip()], "typing": ["1"]}

    def typo(rng: random.Random) -> Params:
        return {"q": [_typo(rng, rng.choice(prefix_source), known)]}

    deep_words = vocab["skills"] + ["engineer", "manager", "developer", "senior", "data", "team"]

    def deep_q(rng: random.Random) -> Params:
        return {"q": [rng.choice(deep_words)]}

    def deep_newest(rng: random.Random) -> Params:
        dim = rng.choice(["remote", "employment_type", "department", "provider", "location"])
        options = {
            "remote": ["true", "false"],
            "employment_type": ["permanent", "contractor"],
            "department": ["Engineering", "Data", "Sales"],
            "provider": list(PROVIDERS),
            "location": ["Germany", "United States", "United Kingdom", "France"],
        }[dim]
        return {dim: [rng.choice(options)]}

    named = [{"q": [p], "typing": ["1"]} for p in _NAMED_PREFIXES]

    def vocabulary_query(rng: random.Random) -> Params:
        first = rng.choice(_VOCABULARY)
        second = rng.choice(["", "", rng.choice(vocab["cities"]), rng.choice(vocab["seniority"])])
        return {"q": [f"{first} {second}".strip()]}

    def extra(rng: random.Random) -> Params:
        """A word or a filter beside a pay, date or distance filter, half the time."""
        roll = rng.random()
        if roll < 0.25:
            return {"q": [rng.choice(common)]}
        if roll < 0.5:
            return _filters(rng, [rng.choice(["employment_type", "department", "provider"])], (1, 1))
        return {}

    def pay_min(rng: random.Random) -> Params:
        amount = rng.randrange(20, 180) * 1000
        return {"pay_min": [str(amount)], "pay_currency": [rng.choice(["EUR", "USD", "GBP"])], **extra(rng)}

    def near(rng: random.Random) -> Params:
        params: Params = {
            "near": [rng.choice(CITIES)],
            "radius_km": [str(rng.choice((10, 25, 50, 100, 200, 500)))],
        }
        if rng.random() < 0.2:
            params["remote"] = ["true"]
        return {**params, **extra(rng)}

    def posted_within(rng: random.Random) -> Params:
        return {"posted_within": [rng.choice(["24h", "3d", "7d", "30d"])], **extra(rng)}

    typos = [{"q": [t]} for t in _NAMED_TYPOS]
    mix: dict[str, list[Params]] = {
        "no_filter": [{}] * distinct,  # one distinct query: its first-time figure resets the facet cache
        "one_filter": _unique(rng, one_filter, distinct),
        "several_filters": _unique(rng, several, distinct),
        "facets_heavy": _unique(rng, facets_heavy, distinct),
        "q_one_word": _unique(rng, one_word, distinct),
        "q_three_words": _unique(rng, three_words, distinct),
        "prefix": (named + _unique(rng, prefix, distinct * 2))[:distinct],
        "typo": (typos + _unique(rng, typo, distinct * 2))[:distinct],
        "vocabulary": ([{"q": [v]} for v in _VOCABULARY] + _unique(rng, vocabulary_query, distinct * 2))[
            :distinct
        ],
        "deep_cursor_q": [{"q": ["python"]}, *_unique(rng, deep_q, deep_distinct * 2)][: deep_distinct * 2],
        "deep_cursor_newest": [{}, *_unique(rng, deep_newest, deep_distinct * 2)][: deep_distinct * 2],
        "pay_min": _unique(rng, pay_min, distinct),
        "near": _unique(rng, near, distinct),
        "posted_within": _unique(rng, posted_within, distinct),
    }
    result: Mix = {}
    for kind in KINDS:
        unique: dict[str, Params] = {}
        for params in mix[kind]:
            unique.setdefault(repr(sorted(params.items())), params)
        chosen = mix[kind] if kind == "no_filter" else list(unique.values())
        page = DEEP_PAGE if kind.startswith("deep_") else 1
        result[kind] = [Query(params, page) for params in chosen]
    return result
