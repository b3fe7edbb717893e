"""Technical terms that keep their meaning: `c#`, `c++`, `.net`, `node.js`, Go, R and the like.

The board's analyzer splits words at every character that is not a letter or a digit, so "C#" and "C++"
would both be the word "c", ".NET" would be "net" (as in "net salary") and "Node.js" two words. Before
analysis, index and query text alike are rewritten so that each protected term is one word of its own
(`c#` -> `csharp`, `.net` -> `dotnet`, `node.js` -> `nodejs`). Languages spelt like English words are
recognised from how they are written:

- Go: "golang" anywhere; "Go" with a capital G in running text, not at the start of a sentence and not
  "Go-to-market" ("experience with Go", "Python, Go and Rust"); any "go" in a title ("Go Developer",
  "Backend Engineer (Go)"). A query's `go` is always the language: nobody searches a job board for the verb.
- R and C: a capital letter standing alone in running text ("modelling in R", "firmware in C"), not
  "R&D", "C-level" or "Series C"; in a title as well.
"""

from __future__ import annotations

import re

# Written form (case-insensitive) -> the one word it is indexed and searched as. Longest first, so
# "asp.net" is not read as "asp" + ".net".
PROTECTED: dict[str, str] = {
    "asp.net": "aspnet",
    "ado.net": "adonet",
    "vb.net": "vbnet",
    "objective-c": "objectivec",
    "node.js": "nodejs",
    "vue.js": "vuejs",
    "react.js": "reactjs",
    "next.js": "nextjs",
    "nuxt.js": "nuxtjs",
    "express.js": "expressjs",
    "angular.js": "angularjs",
    "ember.js": "emberjs",
    "three.js": "threejs",
    "d3.js": "d3js",
    "c++": "cplusplus",
    "c#": "csharp",
    "f#": "fsharp",
    ".net": "dotnet",
}
LANGUAGE_WORDS = {"go": "golang", "r": "rlang", "c": "clang"}  # a query's bare `go`, `r`, `c`
_GO_PHRASES = frozenset({"to", "live"})  # "go to market", "go live": the verb

_PROTECTED = re.compile(
    r"(?<![\w.#+])("
    + "|".join(re.escape(form) for form in sorted(PROTECTED, key=len, reverse=True))
    + r")(?![\w#+])",
    re.IGNORECASE,
)
_OBJECTIVE_C = re.compile(r"\bobjective\s+c\b", re.IGNORECASE)
_GO = re.compile(r"\bGo\b(?![-'\u2019])")
_TITLE_GO = re.compile(r"\bgo\b(?![-'\u2019])", re.IGNORECASE)
_LETTER = re.compile(r"\b([RC])\b(?![-&'\u2019+#]|\.\w)")
_SENTENCE_END = ".!?\n"  # not ":" ("Our stack: Go, Python")
# "Go Engineer", "Go Developer": a capitalised word after "Go" that does not make it a name.
_GO_ROLE_WORDS = frozenset(
    {
        "developer",
        "developers",
        "engineer",
        "engineers",
        "programmer",
        "backend",
        "back-end",
        "services",
        "microservices",
        "team",
        "lead",
        "code",
        "expert",
        "specialist",
        "architect",
        "consultant",
        "and",
        "or",
    }
)
_TIME_OF_DAY = re.compile(r"\b(\d{1,2}(?:[:.]\d\d)?)\s*([ap])\.?m\b", re.IGNORECASE)
# "Series C", "Vitamin C", "Grade C": a capital letter after these is not a language.
_NOT_LANGUAGE_BEFORE = frozenset(
    {
        "series",
        "vitamin",
        "grade",
        "class",
        "type",
        "level",
        "tier",
        "plan",
        "section",
        "part",
        "category",
        "block",
        "building",
        "hall",
        "floor",
        "wing",
        "room",
        "band",
        "team",
        "group",
        "round",
        "option",
    }
)


def _replace(match: re.Match[str]) -> str:
    return f" {PROTECTED[match.group(1).lower()]} "


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'\u201c\u2018([")
    return not before or before[-1] in _SENTENCE_END


def _go_is_a_word(match: re.Match[str]) -> bool:
    """ "Go" at the start of a sentence ("Go beyond ...") or of a name ("Go Green Logistics")."""
    if _sentence_start(match.string, match.start()):
        return True
    following = match.string[match.end() : match.end() + 24].split()
    after = following[0].strip(".,;:()") if following else ""
    return after[:1].isupper() and after.lower() not in _GO_ROLE_WORDS


def _previous_word(text: str, start: int) -> str:
    words = text[max(0, start - 24) : start].split()
    return words[-1].lower().strip(",") if words else ""


def _languages(text: str, *, title: bool) -> str:
    if title:
        text = _TITLE_GO.sub(" golang ", text)
    else:
        text = _GO.sub(lambda m: m.group(0) if _go_is_a_word(m) else " golang ", text)

    def letter(match: re.Match[str]) -> str:
        if not title and _sentence_start(match.string, match.start()):
            return match.group(0)
        if _previous_word(match.string, match.start()) in _NOT_LANGUAGE_BEFORE:
            return match.group(0)
        return " rlang " if match.group(1) == "R" else " clang "

    return _LETTER.sub(letter, text)


def protect_title(text: str) -> str:
    """A title with its technical terms as single words ("Sr. C# Developer" -> "Sr.  csharp  Developer")."""
    return _languages(_PROTECTED.sub(_replace, text), title=True) if text else text


def protect_text(text: str) -> str:
    """Running text (company, places, content) with its technical terms as single words, and times of
    day as one word ("5 pm" -> "5pm", not the abbreviation `pm`)."""
    if not text:
        return text
    return _languages(_TIME_OF_DAY.sub(r"\1\2m", _PROTECTED.sub(_replace, text)), title=False)


def protect_query(text: str) -> str:
    """A query with its technical terms as single words; a bare `go`, `r` or `c` is the language."""
    words = _OBJECTIVE_C.sub(" objectivec ", _PROTECTED.sub(_replace, text)).split()
    following = [word.lower() for word in words[1:]] + [""] * bool(words)
    return " ".join(
        word if after in _GO_PHRASES and word.lower() == "go" else LANGUAGE_WORDS.get(word.lower(), word)
        for word, after in zip(words, following, strict=True)
    )
