"""The judged query set over the generated corpus (`bench/search_corpus.py`): what a person typing each
query means, read from what each posting *is* (its roles, technologies, city, seniority, part or full
time), never from the engine's answer.

Each query has a class (technical tokens, abbreviations, places in other languages, phrases, plurals
versus prefixes, multi-word), the postings it must return and those that are acceptable either way
(`may`: e.g. a posting that only mentions the word in passing). Every other posting returned is wrong.
Recall = share of `must` returned; precision = returned `must` / returned (`may` not counted).
`typing` queries are sent as the search box sends them while a word is being typed (`typing=1`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bench.search_corpus import CITIES, JudgedPosting
from chalicelib.services.board.text import fold

Test = Callable[[JudgedPosting], bool]


@dataclass(frozen=True)
class JudgedQuery:
    q: str
    kind: str
    must: Test
    may: Test | None = None
    typing: bool = False


def _never(_: JudgedPosting) -> bool:
    return False


def tech(*keys: str) -> Test:
    return lambda posting: bool(posting.techs & set(keys))


def role(*keys: str) -> Test:
    return lambda posting: bool(posting.roles & set(keys))


def city(*keys: str) -> Test:
    return lambda posting: posting.city in keys


def both(first: Test, second: Test) -> Test:
    return lambda posting: first(posting) and second(posting)


def either(first: Test, second: Test) -> Test:
    return lambda posting: first(posting) or second(posting)


def title_word(*patterns: str) -> Test:
    """The title holds one of the words (regular expressions over folded words)."""
    found = re.compile(r"\b(" + "|".join(patterns) + r")\b")
    return lambda posting: bool(found.search(fold(posting.title)))


def text_word(*patterns: str) -> Test:
    """The posting mentions one of the words anywhere (title, company, department, place, content)."""
    found = re.compile(r"\b(" + "|".join(patterns) + r")\b")

    def test(posting: JudgedPosting) -> bool:
        text = " ".join(
            (posting.title, posting.company, posting.department, posting.location, posting.content)
        )
        return bool(found.search(fold(text)))

    return test


def senior(posting: JudgedPosting) -> bool:
    return posting.seniority == "senior"


def junior(posting: JudgedPosting) -> bool:
    return posting.seniority == "junior"


def part_time(posting: JudgedPosting) -> bool:
    return posting.part_time


def full_time(posting: JudgedPosting) -> bool:
    return not posting.part_time


def remote(posting: JudgedPosting) -> bool:
    return posting.remote


ENGINEER = title_word("engineers?")
DATA_ANALYST = title_word("data analysts?")
FRONTEND = title_word("front ?end", "front-end")
UX_DESIGNER = both(role("ux"), title_word("designers?"))


def department(name: str) -> Test:
    return lambda posting: posting.department == name


DEVELOPER = title_word("developers?")


def _tokens() -> list[JudgedQuery]:
    kind = "tech-token"
    js_family = tech("javascript", "typescript", "react", "vue", "nodejs")
    return [
        JudgedQuery("c#", kind, tech("csharp"), tech("dotnet", "aspnet")),
        JudgedQuery("C#", kind, tech("csharp"), tech("dotnet", "aspnet")),
        JudgedQuery("c# developer", kind, both(tech("csharp"), DEVELOPER), tech("csharp")),
        JudgedQuery("senior c#", kind, both(tech("csharp"), senior), tech("csharp")),
        JudgedQuery("c++", kind, tech("cpp")),
        JudgedQuery("C++ engineer", kind, both(tech("cpp"), ENGINEER), tech("cpp")),
        JudgedQuery("embedded c++", kind, both(tech("cpp"), text_word("embedded")), tech("cpp")),
        JudgedQuery("f#", kind, tech("fsharp"), tech("dotnet", "csharp")),
        JudgedQuery(".net", kind, tech("dotnet"), tech("aspnet", "csharp", "fsharp")),
        JudgedQuery(
            ".NET developer", kind, both(tech("dotnet"), DEVELOPER), tech("dotnet", "aspnet", "csharp")
        ),
        JudgedQuery("asp.net", kind, tech("aspnet"), tech("dotnet")),
        JudgedQuery("node.js", kind, tech("nodejs")),
        JudgedQuery("nodejs", kind, tech("nodejs")),
        JudgedQuery("node", kind, tech("nodejs")),
        JudgedQuery("node.js developer", kind, both(tech("nodejs"), DEVELOPER), tech("nodejs")),
        JudgedQuery("go", kind, tech("go")),
        JudgedQuery("golang", kind, tech("go")),
        JudgedQuery("go developer", kind, both(tech("go"), DEVELOPER), tech("go")),
        JudgedQuery("go engineer", kind, both(tech("go"), ENGINEER), tech("go")),
        JudgedQuery("senior go", kind, both(tech("go"), senior), tech("go")),
        JudgedQuery("objective-c", kind, tech("objc")),
        JudgedQuery("objective c", kind, tech("objc")),
        JudgedQuery("vue.js", kind, tech("vue")),
        JudgedQuery("vue", kind, tech("vue")),
        JudgedQuery("react.js", kind, tech("react")),
        JudgedQuery("react", kind, tech("react")),
        JudgedQuery("reactjs", kind, tech("react")),
        JudgedQuery("react developer", kind, both(tech("react"), DEVELOPER), tech("react")),
        JudgedQuery("r", kind, tech("r")),
        JudgedQuery(
            "data analyst r", kind, both(tech("r"), DATA_ANALYST), both(tech("r"), role("data_analyst"))
        ),
        JudgedQuery("data scientist r", kind, both(tech("r"), title_word("data scientists?")), tech("r")),
        JudgedQuery("c", kind, tech("c"), tech("cpp")),
        JudgedQuery(
            "embedded c", kind, both(tech("c"), text_word("embedded")), both(tech("cpp"), role("embedded"))
        ),
        JudgedQuery("java", kind, tech("java")),
        JudgedQuery("java developer", kind, both(tech("java"), DEVELOPER), tech("java")),
        JudgedQuery("javascript", kind, tech("javascript"), js_family),
        JudgedQuery("typescript", kind, tech("typescript")),
        JudgedQuery("kotlin", kind, tech("kotlin")),
        JudgedQuery("swift", kind, tech("swift")),
        JudgedQuery("scala", kind, tech("scala")),
        JudgedQuery("rust", kind, tech("rust")),
        JudgedQuery("python", kind, tech("python")),
        JudgedQuery("php", kind, tech("php")),
        JudgedQuery("ruby", kind, tech("ruby")),
        JudgedQuery("sql", kind, tech("sql")),
        JudgedQuery("kubernetes", kind, tech("kubernetes"), role("platform")),
        JudgedQuery("terraform", kind, tech("terraform")),
        JudgedQuery("pytorch", kind, tech("pytorch")),
    ]


def _abbreviations() -> list[JudgedQuery]:
    kind = "abbreviation"
    nurse_text = text_word("nurses?", "nursing", "rn")
    return [
        JudgedQuery("sre", kind, role("sre")),
        JudgedQuery("SRE", kind, role("sre")),
        JudgedQuery("senior sre", kind, both(role("sre"), senior), role("sre")),
        JudgedQuery("site reliability engineer", kind, role("sre")),
        JudgedQuery("rn", kind, role("rn"), nurse_text),
        JudgedQuery("registered nurse", kind, role("rn")),
        JudgedQuery("rn icu", kind, both(role("rn"), title_word("icu")), role("rn")),
        JudgedQuery("ml", kind, role("ml"), text_word("machine learning")),
        JudgedQuery("ml engineer", kind, role("ml")),
        JudgedQuery("machine learning", kind, role("ml")),
        JudgedQuery("machine learning engineer", kind, role("ml")),
        JudgedQuery("ai", kind, role("ai")),
        JudgedQuery("ai engineer", kind, both(role("ai"), ENGINEER), role("ai")),
        JudgedQuery("artificial intelligence", kind, role("ai")),
        JudgedQuery("js", kind, tech("javascript"), tech("typescript", "react", "vue", "nodejs")),
        JudgedQuery(
            "js developer",
            kind,
            both(tech("javascript"), DEVELOPER),
            either(tech("javascript"), both(DEVELOPER, tech("typescript", "react", "vue", "nodejs"))),
        ),
        JudgedQuery("ts", kind, tech("typescript")),
        JudgedQuery("k8s", kind, tech("kubernetes"), role("platform")),
        JudgedQuery("qa", kind, role("qa")),
        JudgedQuery("qa engineer", kind, both(role("qa"), ENGINEER), role("qa")),
        JudgedQuery("quality assurance", kind, role("qa")),
        JudgedQuery("ux", kind, role("ux")),
        JudgedQuery("ux designer", kind, UX_DESIGNER, role("ux")),
        JudgedQuery("user experience", kind, role("ux")),
        JudgedQuery("ui", kind, role("ui")),
        JudgedQuery("ui designer", kind, role("ui")),
        JudgedQuery("pm", kind, role("product_manager", "project_manager"), role("product_marketing")),
        JudgedQuery("devops", kind, role("devops")),
        JudgedQuery("dev ops", kind, role("devops")),
        JudgedQuery("sr engineer", kind, both(senior, ENGINEER)),
        JudgedQuery("sr. engineer", kind, both(senior, ENGINEER)),
        JudgedQuery("senior engineer", kind, both(senior, ENGINEER)),
        JudgedQuery("jr developer", kind, both(junior, DEVELOPER)),
        JudgedQuery("junior developer", kind, both(junior, DEVELOPER)),
        JudgedQuery("sr data scientist", kind, both(senior, role("data_scientist"))),
        JudgedQuery("bi analyst", kind, title_word("bi", "business intelligence")),
        JudgedQuery("business intelligence", kind, title_word("bi", "business intelligence")),
        JudgedQuery("hr", kind, role("hr")),
        JudgedQuery("human resources", kind, role("hr")),
        JudgedQuery("sdr", kind, role("sdr")),
        JudgedQuery("cto", kind, title_word("cto", "chief technology officer")),
        JudgedQuery("chief technology officer", kind, title_word("cto", "chief technology officer")),
        JudgedQuery("lpn", kind, role("lpn")),
    ]


def _places() -> list[JudgedQuery]:
    kind = "place"
    queries = []
    for key, (english, others, _) in sorted(CITIES.items()):
        if not others:
            continue
        for name in (english, *others):
            queries.append(JudgedQuery(name, kind, city(key)))
    queries += [
        JudgedQuery("muenchen", kind, city("munich")),
        JudgedQuery("koeln", kind, city("cologne")),
        JudgedQuery("zurich", kind, city("zurich")),
        JudgedQuery("krakow", kind, city("krakow")),
        JudgedQuery("python münchen", kind, both(tech("python"), city("munich"))),
        JudgedQuery("nurse wien", kind, both(role("nurse"), city("vienna"))),
        JudgedQuery("java praha", kind, both(tech("java"), city("prague"))),
    ]
    return queries


def _phrases() -> list[JudgedQuery]:
    kind = "phrase"
    return [
        JudgedQuery("site reliability", kind, role("sre")),
        JudgedQuery("part time", kind, part_time),
        JudgedQuery("part-time", kind, part_time),
        JudgedQuery("part time barista", kind, both(part_time, title_word("barista")), title_word("barista")),
        JudgedQuery("full time", kind, full_time),
        JudgedQuery("product manager", kind, role("product_manager")),
        JudgedQuery("project manager", kind, role("project_manager")),
        JudgedQuery("machine learning python", kind, both(role("ml"), tech("python"))),
        JudgedQuery("data scientist", kind, role("data_scientist")),
        JudgedQuery("data engineer", kind, role("data_engineer")),
        JudgedQuery("data analyst", kind, DATA_ANALYST, role("data_analyst")),
        JudgedQuery("full stack", kind, role("fullstack")),
        JudgedQuery("full stack developer", kind, both(role("fullstack"), DEVELOPER), role("fullstack")),
        JudgedQuery("customer success", kind, role("csm"), department("Customer Success")),
        JudgedQuery("customer success manager", kind, title_word("customer success managers?"), role("csm")),
        JudgedQuery("business development", kind, role("bdr")),
        JudgedQuery("account executive", kind, role("ae")),
        JudgedQuery("sales manager", kind, role("sales_manager")),
        JudgedQuery("technical writer", kind, title_word("technical writers?"), role("tech_writer")),
        JudgedQuery("engineering manager", kind, role("engineering_manager")),
        JudgedQuery("marketing manager", kind, title_word("marketing manager")),
        JudgedQuery("product marketing", kind, role("product_marketing")),
        JudgedQuery("warehouse associate", kind, title_word("warehouse associate")),
        JudgedQuery("delivery driver", kind, title_word("delivery driver")),
        JudgedQuery("software engineer", kind, title_word("software engineers?"), ENGINEER),
        JudgedQuery("front end", kind, FRONTEND, role("frontend")),
        JudgedQuery("frontend", kind, FRONTEND, role("frontend")),
        JudgedQuery("ui/ux designer", kind, role("uiux"), role("ux", "ui")),
    ]


def _plurals_and_prefixes() -> list[JudgedQuery]:
    kind = "plural-prefix"
    designer = title_word("designers?")
    manager = title_word("managers?")
    return [
        JudgedQuery("engineer", kind, ENGINEER, text_word("engineers?")),
        JudgedQuery("engineers", kind, ENGINEER, text_word("engineers?")),
        JudgedQuery("developer", kind, DEVELOPER, text_word("developers?")),
        JudgedQuery("developers", kind, DEVELOPER, text_word("developers?")),
        JudgedQuery("designer", kind, designer),
        JudgedQuery("designers", kind, designer),
        JudgedQuery("manager", kind, manager, text_word("managers?")),
        JudgedQuery("managers", kind, manager, text_word("managers?")),
        JudgedQuery("nurse", kind, role("nurse"), text_word("nurses?", "nursing")),
        JudgedQuery("nurses", kind, role("nurse"), text_word("nurses?", "nursing")),
        JudgedQuery("data scientists", kind, role("data_scientist")),
        JudgedQuery("analysts", kind, title_word("analysts?")),
        JudgedQuery("recruiters", kind, title_word("recruiters?")),
        JudgedQuery("teachers", kind, title_word("teachers?")),
        JudgedQuery("mechanics", kind, title_word("mechanics?")),
        JudgedQuery("java developers", kind, both(tech("java"), DEVELOPER), tech("java")),
        JudgedQuery("scala developers", kind, both(tech("scala"), DEVELOPER), tech("scala")),
        # Typing: the last word is completed while the box has focus (the suggest endpoint's semantics).
        JudgedQuery("pyth", kind, tech("python"), typing=True),
        JudgedQuery(
            "kube", kind, text_word("kubernetes"), either(tech("kubernetes"), role("platform")), typing=True
        ),
        JudgedQuery("terra", kind, tech("terraform"), typing=True),
        JudgedQuery(
            "senior eng",
            kind,
            both(senior, title_word("engineers?", "engineering")),
            both(senior, text_word("engineers?", "engineering")),
            typing=True,
        ),
        JudgedQuery(
            "data sci", kind, role("data_scientist"), text_word("science", "scientists?"), typing=True
        ),
        JudgedQuery("registered nur", kind, title_word("registered nurses?"), role("rn"), typing=True),
        JudgedQuery("typescr", kind, tech("typescript"), typing=True),
        JudgedQuery("recruit", kind, title_word("recruiters?"), text_word("recruit[a-z]*"), typing=True),
    ]


def _multi_word() -> list[JudgedQuery]:
    kind = "multi-word"
    return [
        JudgedQuery("python berlin", kind, both(tech("python"), city("berlin"))),
        JudgedQuery("java munich", kind, both(tech("java"), city("munich"))),
        JudgedQuery("nurse hamburg", kind, both(role("nurse"), city("hamburg"))),
        JudgedQuery("react amsterdam", kind, both(tech("react"), city("amsterdam"))),
        JudgedQuery("devops remote", kind, both(role("devops"), remote), role("devops")),
        JudgedQuery("senior data engineer", kind, both(senior, role("data_engineer"))),
        JudgedQuery("product manager berlin", kind, both(role("product_manager"), city("berlin"))),
        JudgedQuery("ux designer paris", kind, both(UX_DESIGNER, city("paris"))),
        JudgedQuery("kubernetes terraform", kind, both(tech("kubernetes"), tech("terraform"))),
        JudgedQuery("recruiter new york", kind, both(title_word("recruiters?"), city("new_york"))),
        JudgedQuery("barista madrid", kind, both(title_word("barista"), city("madrid"))),
        JudgedQuery(
            "data analyst sql", kind, both(DATA_ANALYST, tech("sql")), both(role("data_analyst"), tech("sql"))
        ),
    ]


def judged_queries() -> list[JudgedQuery]:
    """Every judged query, in a stable order."""
    return [*_tokens(), *_abbreviations(), *_places(), *_phrases(), *_plurals_and_prefixes(), *_multi_word()]


def judge(query: JudgedQuery, postings: list[JudgedPosting]) -> tuple[frozenset[str], frozenset[str]]:
    """(must, may) posting ids of `query` over `postings`."""
    may_test = query.may or _never
    must = frozenset(p.id for p in postings if query.must(p))
    may = frozenset(p.id for p in postings if p.id not in must and may_test(p))
    return must, may
