"""Canonical filter values: case- and accent-insensitive, whitespace-normalised (`key`)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
# ASCII fast path (most postings): every ASCII character that is not a letter or digit splits words.
_ASCII_SPLIT = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})


def fold(text: str) -> str:
    """Casefolded text without accents ("Zürich" -> "zurich", "STRASSE" == "straße")."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _words(folded: str) -> list[str]:
    if folded.isascii():
        return folded.translate(_ASCII_SPLIT).split()
    return _WORD.findall(folded)


def tokens(text: str) -> list[str]:
    """Word tokens of a text, folded, in order (duplicates kept)."""
    if not text:
        return []
    return _words(fold(text))


def key(value: str) -> str:
    """Canonical filter value: folded words joined by single spaces ("São  Paulo" -> "sao paulo")."""
    return " ".join(tokens(value))
