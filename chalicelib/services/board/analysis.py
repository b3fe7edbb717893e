"""How the board's search reads text: words, their singular/plural forms, typos and compounds.

Index and queries use the same tantivy analyzer (Unicode words, lower-cased, ASCII-folded: "Zürich" =
"zurich"). Words are indexed as written; other forms are looked up at query time: a plural and its
singular find each other (`engineers` = `engineer`, `companies` = `company`) without a full stemmer's
conflations (Porter maps "engine", "engineer" and "engineering" to one stem, "developer" and
"development" to another, which costs precision on a job board).
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tantivy

WORD_TOKENIZER = "board_word"
PAIR_TOKENIZER = "board_pair"
_WORD_PATTERN = r"[^\W_]+"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_SIBILANT = re.compile(r"(s|x|z|ch|sh)$")
_CONSONANT_Y = re.compile(r"[^aeiou]y$")
_NOT_PLURAL = ("ss", "us", "is")  # "business", "status", "analysis"


@functools.cache
def word_analyzer() -> tantivy.TextAnalyzer:
    import tantivy

    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(_WORD_PATTERN))
    return builder.filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()).build()


@functools.cache
def pair_analyzer() -> tantivy.TextAnalyzer:
    """Joined word pairs arrive folded and space-separated."""
    import tantivy

    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def register(index: tantivy.Index) -> None:
    index.register_tokenizer(WORD_TOKENIZER, word_analyzer())
    index.register_tokenizer(PAIR_TOKENIZER, pair_analyzer())


def words(text: str) -> list[str]:
    return [str(word) for word in word_analyzer().analyze(text)] if text else []


def joined(found: list[str]) -> str:
    """Adjacent words joined ("front end role" -> "frontend endrole"), so compounds find each other."""
    return " ".join(first + second for first, second in itertools.pairwise(found))


def hyphen_compounds(text: str) -> str:
    """The joined pairs of hyphenated words only ("a front-end role" -> "frontend"): how long text
    writes compounds, at a fraction of the cost of every pair. (Split on spaces first: a regular
    expression looking for hyphenated words tries every position of the text.)"""
    if "-" not in text and "\u2010" not in text and "\u2011" not in text:
        return ""
    text = text.replace("\u2010", "-").replace("\u2011", "-")
    return " ".join(pair for chunk in text.split() if "-" in chunk and (pair := joined(words(chunk))))


def query_words(text: str) -> list[str]:
    """The words of a query. Technical terms are one word (`c#` -> `csharp`, `.net` -> `dotnet`, a bare
    `go` -> `golang`); a hyphenated or dotted word is one compound: `front-end` -> `frontend` (found as
    "front-end", "front end" and "frontend" alike); a slash separates (`ui/ux` = `ui ux`); a dictionary
    phrase or a place name of several words is one term (`site reliability` -> `sitereliability`, matched
    where its words stand next to each other)."""
    from chalicelib.services.board.expansion import merge_phrases
    from chalicelib.services.board.technical import protect_query

    found: list[str] = []
    for chunk in protect_query(text.replace("/", " ")).split():
        parts = words(chunk)
        if parts:
            found.append("".join(parts))
    return list(dict.fromkeys(merge_phrases(found)))


def forms(word: str) -> list[str]:
    """The word and its singular or plural (English regular forms; digits and short words as they are)."""
    if len(word) < 3 or not word.isalpha():
        return [word]
    found = {word}
    if word.endswith("ies") and len(word) > 4:
        found.add(word[:-3] + "y")
    elif word.endswith("es") and _SIBILANT.search(word[:-2]):
        found.update((word[:-2], word[:-1]))  # "boxes" -> box, "nurses" -> nurse
    elif word.endswith("s") and not word.endswith(_NOT_PLURAL):
        found.add(word[:-1])
    else:
        if _CONSONANT_Y.search(word):
            found.add(word[:-1] + "ies")
        elif _SIBILANT.search(word):
            found.add(word + "es")
        else:
            found.add(word + "s")
    return sorted(found)


def one_edit(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {left + right[1:] for left, right in splits if right}
    edits.update(left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1)
    edits.update(left + char + right[1:] for left, right in splits if right for char in _ALPHABET)
    edits.update(left + char + right for left, right in splits for char in _ALPHABET)
    edits.discard(word)
    return edits
