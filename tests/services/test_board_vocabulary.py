"""The board's vocabulary: protected technical terms, the curated dictionary and the gazetteer."""

from __future__ import annotations

import re

import pytest

from chalicelib.services.board import expansion, place_names, synonyms
from chalicelib.services.board.analysis import query_words, words
from chalicelib.services.board.technical import PROTECTED, protect_query, protect_text, protect_title

_ENTRY = re.compile(r"^[a-z0-9]+( [a-z0-9]+)*$")


def _entries() -> list[str]:
    found = [member for group in synonyms.EQUIVALENT for member in group]
    found += [*synonyms.EXPANDS, *(member for members in synonyms.EXPANDS.values() for member in members)]
    return found + list(synonyms.PHRASES)


def test_every_dictionary_entry_is_well_formed() -> None:
    bad = [entry for entry in _entries() if not _ENTRY.match(entry)]
    assert not bad, f"entries must be lower-case words separated by single spaces: {bad}"
    assert all(len(group) >= 2 for group in synonyms.EQUIVALENT)
    assert all(len(set(group)) == len(group) for group in synonyms.EQUIVALENT)
    assert all(expanded and term not in expanded for term, expanded in synonyms.EXPANDS.items())
    assert all(" " in phrase for phrase in synonyms.PHRASES), "a phrase has several words"
    assert len(set(synonyms.PHRASES)) == len(synonyms.PHRASES)


def test_the_dictionary_has_the_required_entries() -> None:
    entries = set(_entries())
    required = {"sre", "rn", "ml", "ai", "js", "ts", "k8s", "sr", "jr", "qa", "ux", "ui", "pm", "devops"}
    assert required <= entries
    assert len(synonyms.EQUIVALENT) + len(synonyms.EXPANDS) >= 60


def test_a_member_is_in_one_group_only() -> None:
    seen: dict[str, int] = {}
    for number, group in enumerate(synonyms.EQUIVALENT):
        for member in group:
            assert seen.setdefault(member, number) == number, f"{member!r} is in two groups"


def test_dictionary_entries_are_written_as_the_engine_reads_queries() -> None:
    """Every entry survives query analysis as written (technical terms in their protected form)."""
    for entry in _entries():
        assert " ".join(words(protect_query(entry))) == entry, entry


@pytest.mark.parametrize(
    ("written", "word"),
    [
        ("C#", "csharp"),
        ("c++", "cplusplus"),
        ("F#", "fsharp"),
        (".NET", "dotnet"),
        ("ASP.NET", "aspnet"),
        ("Node.js", "nodejs"),
        ("Vue.js", "vuejs"),
        ("React.js", "reactjs"),
        ("Objective-C", "objectivec"),
    ],
)
def test_technical_terms_are_one_word_in_titles_text_and_queries(written: str, word: str) -> None:
    assert word in words(protect_title(f"Senior {written} Developer"))
    assert word in words(protect_text(f"Experience with {written}, and more."))
    assert query_words(written) == [word]
    assert PROTECTED[written.lower()] == word


def test_net_salary_and_networks_are_not_dotnet() -> None:
    text = words(protect_text("Competitive net salary. Our Networks team. We use .NET daily."))
    assert text.count("dotnet") == 1
    assert "net" in text and "networks" in text


def test_go_is_the_language_only_where_it_is_written_as_one() -> None:
    assert "golang" in words(protect_title("Backend Engineer (Go)"))
    assert "golang" in words(protect_title("Go Developer"))
    assert "golang" not in words(protect_title("Go-To-Market Manager"))
    text = "We go the extra mile. Go beyond. Join Go Green Logistics. Our go-to-market team."
    assert "golang" not in words(protect_text(text))
    for running in ("Experience with Go and Python.", "Our stack: Python, Go and SQL.", "We use Golang."):
        assert "golang" in words(protect_text(running)), running
    assert query_words("go") == query_words("golang") == ["golang"]
    assert query_words("go to market manager")[0] == "go"  # the verb, as in "go live"
    assert query_words("") == query_words("  ") == []


def test_r_and_c_are_languages_only_standing_alone() -> None:
    assert "rlang" in words(protect_text("Statistical modelling in R and SQL."))
    assert "clang" in words(protect_text("Firmware written in C, some C++."))
    for text in ("R&D is at our heart.", "We closed our Series C funding.", "A C-level role."):
        found = words(protect_text(text))
        assert "rlang" not in found and "clang" not in found, text


def test_times_of_day_are_not_the_abbreviation_pm() -> None:
    assert "pm" not in words(protect_text("Office hours 9 am to 5 pm, or 5.30 p.m."))


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("site reliability engineer", ["sitereliabilityengineer"]),
        ("part-time barista", ["parttime", "barista"]),
        ("data scientists", ["datascientists"]),
        ("ui/ux designer", ["ui", "ux", "designer"]),
        ("Den Haag", ["denhaag"]),
        ("frankfurt am main", ["frankfurtammain"]),
        ("python berlin", ["python", "berlin"]),
    ],
)
def test_phrases_and_place_names_are_one_term(query: str, terms: list[str]) -> None:
    assert query_words(query) == terms


def test_abbreviations_find_what_they_stand_for() -> None:
    assert "sitereliability" in expansion.alternatives("sre").words
    assert "sre" in expansion.alternatives("sitereliability").words
    assert {"productmanager", "projectmanager"} <= set(expansion.alternatives("pm").words)
    assert "pm" not in expansion.alternatives("productmanager").words  # one way: not every "PM"
    assert "kubernetes" in expansion.alternatives("k8s").words


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("München", "munich"),
        ("Köln", "cologne"),
        ("Wien", "vienna"),
        ("Praha", "prague"),
        ("Zürich", "zurich"),
        ("Den Haag", "the hague"),
        ("Warszawa", "warsaw"),
        ("Lisboa", "lisbon"),
        ("København", "copenhagen"),
    ],
)
def test_the_gazetteer_knows_other_names_of_places(name: str, other: str) -> None:
    assert other in place_names.aliases(name)
    assert place_names.normalise(name) in place_names.aliases(other)


def test_the_gazetteer_looks_up_coordinates_country_and_population() -> None:
    munich = place_names.lookup("München")
    assert munich is not None
    assert (munich.name, munich.country) == ("Munich", "DE")
    assert abs(munich.lat - 48.14) < 0.05 and abs(munich.lon - 11.58) < 0.05
    assert munich.population > 1_000_000
    assert place_names.lookup("Nowhere-on-earth") is None
    assert place_names.aliases("mobile") == set()  # an everyday word first
