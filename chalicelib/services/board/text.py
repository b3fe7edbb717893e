"""Text normalisation shared by indexing and querying: case- and accent-insensitive word tokens."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Casefolded text without accents ("Zürich" -> "zurich", "STRASSE" == "straße")."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def tokens(text: str) -> list[str]:
    """Word tokens of a text, folded, in order (duplicates kept)."""
    if not text:
        return []
    return _WORD.findall(fold(text))


def token_set(*texts: str | None) -> frozenset[str]:
    """Distinct word tokens of several texts."""
    found: set[str] = set()
    for text in texts:
        if text:
            found.update(_WORD.findall(fold(text)))
    return frozenset(found)


def key(value: str) -> str:
    """Canonical filter value: folded words joined by single spaces ("São  Paulo" -> "sao paulo")."""
    return " ".join(tokens(value))
