"""What a query word also stands for: the curated dictionary (`synonyms.py`) and the gazetteer's other
names of a place, and which runs of query words are one phrase.

Terms are the engine's query words: folded, technical terms protected (`technical.py`), a phrase's words
joined ("site reliability" -> `sitereliability`, matched where the words stand next to each other).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.services.board import place_names, synonyms
from chalicelib.services.board.analysis import forms

LONGEST_PHRASE = 4  # words; longer runs are not looked up


@dataclass(frozen=True, slots=True)
class Alternatives:
    """Other ways a term is written: single words, two adjacent words (joined, as the index's compounds
    field holds them), and longer runs (each adjacent pair joined; all of them must be found)."""

    words: tuple[str, ...] = ()
    pairs: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()


def _joined(text: str) -> str:
    return text.replace(" ", "")


@functools.cache
def _dictionary() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """(joined term -> the members it stands for, spaced; every dictionary phrase, spaced)."""
    meaning: dict[str, set[str]] = {}
    phrases: set[str] = set(synonyms.PHRASES)
    for group in synonyms.EQUIVALENT:
        for member in group:
            meaning.setdefault(_joined(member), set()).update(group)
    for term, expanded in synonyms.EXPANDS.items():
        meaning.setdefault(_joined(term), {term}).update(expanded)
    for members in meaning.values():
        phrases.update(member for member in members if " " in member)
    return {term: frozenset(members) for term, members in meaning.items()}, frozenset(phrases)


def is_phrase(words: tuple[str, ...]) -> bool:
    """Whether adjacent query words are one dictionary phrase or one place name (the last word in
    either number: "data scientists" is the phrase "data scientist")."""
    head = " ".join(words[:-1])
    _, phrases = _dictionary()
    for last in forms(words[-1]):
        spaced = f"{head} {last}"
        if spaced in phrases or place_names.aliases(spaced):
            return True
    return False


def merge_phrases(words: list[str]) -> list[str]:
    """Query words with each phrase's words joined into one term, longest phrases first."""
    merged: list[str] = []
    position = 0
    while position < len(words):
        for size in range(min(LONGEST_PHRASE, len(words) - position), 1, -1):
            run = tuple(words[position : position + size])
            if is_phrase(run):
                merged.append("".join(run))
                position += size
                break
        else:
            merged.append(words[position])
            position += 1
    return merged


def _members(term: str) -> set[str]:
    meaning, _ = _dictionary()
    found: set[str] = set()
    for form in forms(term):
        found.update(meaning.get(form, ()))
        spaced = place_names.spaced(form) or form
        found.update(place_names.aliases(spaced))
    return found


def _written(members: Iterable[str]) -> Alternatives:
    words: set[str] = set()
    pairs: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for member in members:
        parts = member.replace("'", " ").split()
        if len(parts) == 1:
            words.update(forms(parts[0]))
        elif len(parts) == 2:
            pairs.update(forms("".join(parts)))
            words.update(forms("".join(parts)))  # written as one word ("sitereliability", "devops")
        else:
            links = tuple(first + second for first, second in itertools.pairwise(parts))
            for last in forms(links[-1]):
                phrases.add((*links[:-1], last))
    return Alternatives(tuple(sorted(words)), tuple(sorted(pairs)), tuple(sorted(phrases)))


@functools.lru_cache(maxsize=4096)
def alternatives(term: str) -> Alternatives:
    """Other ways `term` is written, without its own forms (which every query word matches anyway)."""
    members = _members(term)
    if not members:
        return Alternatives()
    found = _written(members)
    own = set(forms(term))
    return Alternatives(
        words=tuple(word for word in found.words if word not in own),
        pairs=tuple(pair for pair in found.pairs if pair not in own),
        phrases=found.phrases,
    )


@functools.cache
def _indexed() -> tuple[frozenset[str], frozenset[str]]:
    """(the indexed pairs, every word that starts one): built once per process, on first use."""
    _, phrases = _dictionary()
    found: set[str] = set()
    firsts: set[str] = set()
    for spaced in phrases:  # in either number: "data scientists"
        for first, second in itertools.pairwise(spaced.split()):
            found.update(forms(first + second))
            firsts.add(first)
    for name in place_names.names_of_several_words():  # as written: places have no plural
        for first, second in itertools.pairwise(name.replace("'", " ").split()):
            found.add(first + second)
            firsts.add(first)
    return frozenset(found), frozenset(firsts)


def indexed_pairs() -> frozenset[str]:
    """Adjacent word pairs (joined) that the index holds as words of their own: those of every dictionary
    phrase and every place name of several words ("site reliability" -> `sitereliability`), so a phrase
    is matched from the word bitmaps like any word, however common it is ("full time")."""
    return _indexed()[0]


def phrase_words(found: list[str]) -> list[str]:
    """The indexed pairs among a text's adjacent words (what the index adds to the text's words)."""
    indexed, firsts = _indexed()
    return [
        first + second
        for first, second in itertools.pairwise(found)
        if first in firsts and first + second in indexed
    ]
