"""Generated job postings of realistic shape and size for the board benchmark (deterministic)."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from chalicelib.models.posting import (
    Compensation,
    Location,
    Posting,
    Question,
    Questionnaire,
    QuestionOption,
    make_job_id,
)

PROVIDERS = ("greenhouse", "ashby", "workday", "lever", "smartrecruiters", "bamboohr")
CITIES = (
    "Berlin, Germany",
    "Munich, Germany",
    "Hamburg, Germany",
    "Zürich, Switzerland",
    "Vienna, Austria",
    "London, United Kingdom",
    "Manchester, United Kingdom",
    "Dublin, Ireland",
    "Paris, France",
    "Lyon, France",
    "Amsterdam, Netherlands",
    "Rotterdam, Netherlands",
    "Brussels, Belgium",
    "Copenhagen, Denmark",
    "Stockholm, Sweden",
    "Oslo, Norway",
    "Helsinki, Finland",
    "Madrid, Spain",
    "Barcelona, Spain",
    "Lisbon, Portugal",
    "Milan, Italy",
    "Rome, Italy",
    "Warsaw, Poland",
    "Kraków, Poland",
    "Prague, Czechia",
    "Budapest, Hungary",
    "New York, NY, United States",
    "San Francisco, CA, United States",
    "Austin, TX, United States",
    "Seattle, WA, United States",
    "Boston, MA, United States",
    "Chicago, IL, United States",
    "Denver, CO, United States",
    "Toronto, ON, Canada",
    "Montréal, QC, Canada",
    "Vancouver, BC, Canada",
    "São Paulo, Brazil",
    "Mexico City, Mexico",
    "Bangalore, India",
    "Singapore, Singapore",
    "Sydney, Australia",
    "Melbourne, Australia",
    "Tokyo, Japan",
    "Tel Aviv, Israel",
    "Dubai, United Arab Emirates",
)
SENIORITY = ("", "Junior", "Senior", "Staff", "Principal", "Lead", "Head of")
ROLES = (
    ("Backend Engineer", "Engineering"),
    ("Frontend Engineer", "Engineering"),
    ("Full Stack Developer", "Engineering"),
    ("Site Reliability Engineer", "Engineering"),
    ("Data Engineer", "Data"),
    ("Data Scientist", "Data"),
    ("Machine Learning Engineer", "Data"),
    ("Product Manager", "Product"),
    ("Product Designer", "Design"),
    ("UX Researcher", "Design"),
    ("Account Executive", "Sales"),
    ("Sales Development Representative", "Sales"),
    ("Customer Success Manager", "Customer Success"),
    ("Support Specialist", "Customer Success"),
    ("Marketing Manager", "Marketing"),
    ("Content Writer", "Marketing"),
    ("Recruiter", "People"),
    ("People Partner", "People"),
    ("Financial Analyst", "Finance"),
    ("Accountant", "Finance"),
    ("Warehouse Associate", "Operations"),
    ("Logistics Coordinator", "Operations"),
    ("Registered Nurse", "Clinical"),
    ("Pharmacist", "Clinical"),
    ("Legal Counsel", "Legal"),
    ("Security Engineer", "Security"),
    ("QA Engineer", "Engineering"),
    ("Mobile Developer", "Engineering"),
)
SKILLS = (
    "Python",
    "Go",
    "Rust",
    "Java",
    "Kotlin",
    "TypeScript",
    "React",
    "Vue",
    "PostgreSQL",
    "DynamoDB",
    "Kafka",
    "Kubernetes",
    "Terraform",
    "AWS",
    "GCP",
    "Azure",
    "Spark",
    "Airflow",
    "dbt",
    "Figma",
    "Salesforce",
    "HubSpot",
    "SQL",
    "Excel",
    "SAP",
    "Swift",
    "GraphQL",
    "Docker",
    "Linux",
    "Snowflake",
)
COMPANY_A = (
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Monarch",
    "Pied Piper",
    "Massive Dynamic",
    "Blue Sun",
    "Black Mesa",
    "Dunder",
    "Prestige",
    "Sirius",
)
COMPANY_B = (
    "Robotics",
    "Health",
    "Logistics",
    "Software",
    "Labs",
    "Systems",
    "Analytics",
    "Energy",
    "Bank",
    "Foods",
)
EMPLOYMENT = ("permanent", "permanent", "permanent", "contractor", "intern", "temporary", "freelance")
CONTRACT = ("full_time", "full_time", "full_time", "part_time", None)
FILLER = (
    "you",
    "will",
    "work",
    "with",
    "our",
    "team",
    "to",
    "build",
    "and",
    "improve",
    "the",
    "platform",
    "customers",
    "across",
    "europe",
    "we",
    "are",
    "looking",
    "for",
    "a",
    "motivated",
    "person",
    "who",
    "enjoys",
    "solving",
    "hard",
    "problems",
    "in",
    "fast",
    "growing",
    "environment",
    "collaborate",
    "closely",
    "stakeholders",
    "design",
    "deliver",
    "high",
    "quality",
    "results",
    "on",
    "time",
    "own",
    "end",
    "features",
    "mentor",
    "colleagues",
    "share",
    "knowledge",
    "continuous",
    "learning",
    "culture",
    "benefits",
    "include",
    "flexible",
    "hours",
    "remote",
    "budget",
    "equipment",
    "pension",
    "parental",
    "leave",
    "wellbeing",
    "days",
    "off",
    "per",
    "year",
    "inclusive",
    "equal",
    "opportunity",
    "employer",
)


@functools.cache
def _placed(name: str) -> Location:
    from chalicelib.services.mapping import geocode

    return geocode(name)


def _pseudo_words(count: int) -> tuple[str, ...]:
    """A long tail of distinct words, so the vocabulary is as large as real postings' (tens of thousands)."""
    rng = random.Random(3)
    syllables = ("ka", "lo", "mi", "ra", "tes", "ven", "dor", "qui", "pla", "ser", "nu", "zi", "gro", "fen")
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return tuple(sorted(words))


RARE_WORDS = _pseudo_words(30_000)


def _paragraph(rng: random.Random, words: int, extra: tuple[str, ...]) -> str:
    pool = FILLER + extra
    chosen = [rng.choice(pool) for _ in range(words)]
    for _ in range(words // 8):  # about one word in nine is from the long tail (Zipf-like: low ranks win)
        rank = int(rng.paretovariate(0.6)) if rng.random() < 0.5 else rng.randrange(len(RARE_WORDS))
        chosen[rng.randrange(words)] = RARE_WORDS[rank % len(RARE_WORDS)]
    text = " ".join(chosen)
    return text[0].upper() + text[1:] + "."


def companies(count: int = 200) -> list[str]:
    rng = random.Random(7)
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}"
        if name in names:
            name = f"{name} {len(names)}"
        names.append(name)
    return names


def generate(count: int, *, seed: int = 42, now: datetime | None = None) -> list[Posting]:
    """`count` live postings: ~3-6 KB of content each, 200 companies, 45 cities, a quarter remote."""
    return list(postings(count, seed=seed, now=now))


def postings(count: int, *, seed: int = 42, now: datetime | None = None) -> Iterator[Posting]:
    """`generate`'s postings one at a time (a million do not fit in memory at once)."""
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    company_names = companies()
    for number in range(count):
        company_index = rng.randrange(len(company_names))
        company = company_names[company_index]
        provider = PROVIDERS[company_index % len(PROVIDERS)]
        account_id = f"acc_{provider}_{company_index:03d}"
        posting_id = f"post_{number:06d}"
        role, department = rng.choice(ROLES)
        seniority = rng.choice(SENIORITY)
        title = f"{seniority} {role}".strip()
        skills = tuple(rng.sample(SKILLS, 5))
        paragraphs = [_paragraph(rng, rng.randint(60, 120), skills) for _ in range(rng.randint(4, 7))]
        bullets = [f"Experience with {skill} and {rng.choice(SKILLS)}" for skill in skills]
        html = (
            f"<h2>About {company}</h2><p>{paragraphs[0]}</p><h3>What you will do</h3>"
            + "".join(f"<p>{p}</p>" for p in paragraphs[1:])
            + "<h3>What you bring</h3><ul>"
            + "".join(f"<li>{b}</li>" for b in bullets)
            + "</ul>"
        )
        plain = "\n\n".join([f"About {company}", *paragraphs, *bullets])
        # Placed as the sync places them (the gazetteer's answers are the same for every posting of a city).
        locations = [_placed(name) for name in rng.sample(CITIES, rng.choice((1, 1, 1, 2, 3)))]
        remote = rng.random() < 0.25
        posted = now - timedelta(minutes=rng.randint(0, 60 * 24 * 90))
        low = rng.randrange(30, 150) * 1000
        compensation = (
            [
                Compensation(
                    kind="salary",
                    label="Base",
                    currency=rng.choice(("EUR", "USD", "GBP")),
                    min=low,
                    max=low + rng.randrange(5, 40) * 1000,
                    period="year",
                )
            ]
            if rng.random() < 0.6
            else []
        )
        questionnaires = (
            [
                Questionnaire(
                    id=f"qn_{number}",
                    name="Application questions",
                    questions=[
                        Question(
                            id=f"q_{number}_1",
                            text="Are you authorised to work here?",
                            type="boolean",
                            required=True,
                        ),
                        Question(
                            id=f"q_{number}_2",
                            text="Years of experience",
                            type="single_select",
                            options=[
                                QuestionOption(id=f"o{i}", text=t) for i, t in enumerate(("0-2", "3-5", "6+"))
                            ],
                        ),
                        Question(id=f"q_{number}_3", text="Why us?", type="long_text"),
                    ],
                )
            ]
            if rng.random() < 0.5
            else []
        )
        yield (
            Posting(
                job_id=make_job_id(account_id, posting_id),
                account_id=account_id,
                posting_id=posting_id,
                remote_id=f"{rng.randrange(10**8)}",
                employer_id=f"emp_{company_index:03d}",
                company=company,
                provider=provider,
                title=title,
                department=department,
                locations=locations,
                remote=remote,
                employment_type=rng.choice(EMPLOYMENT),
                contract_type=rng.choice(CONTRACT),
                compensation=compensation,
                content_html=html,
                content_plain=plain,
                questionnaires=questionnaires,
                external_url=f"https://jobs.{provider}.example/{account_id}/{posting_id}",
                external_apply_url=f"https://jobs.{provider}.example/{account_id}/{posting_id}/apply",
                created_at=posted,
                updated_at=posted + timedelta(hours=rng.randint(0, 48)),
                first_seen_at=posted,
                last_seen_at=now,
                changed_at=min(posted + timedelta(hours=1), now),
                status="live",
            )
        )
