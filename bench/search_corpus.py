"""Generated job postings with known ground truth, for the judged search set (`bench/search_judged.py`).

Unlike the benchmark's postings (`bench/board_data.py`, random words), these read like real ones: titles
as employers write them ("Sr. C# Developer", "Site Reliability Engineer (SRE)", "RN - ICU", "Backend
Engineer (Go)"), places as they write them ("München, Germany" beside "Munich, Germany"), and content
with the traps a job board meets every day: "net salary", "Networks", "go the extra mile", "go-to-market",
"R&D", "Series C funding", "5 pm", "part of a team ... time", "our site ... reliability". Each posting
carries what it *is* (roles, technologies, seniority, city, part or full time), which the judged queries
read instead of the text. Seeded: the same seed gives the same corpus.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.models.posting import Location, Posting, make_job_id

BASE_TIME = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ACCOUNT = "acc_judged"

# Technology -> the ways employers write it.
TECH_FORMS: dict[str, tuple[str, ...]] = {
    "csharp": ("C#",),
    "cpp": ("C++",),
    "fsharp": ("F#",),
    "dotnet": (".NET", ".Net"),
    "aspnet": ("ASP.NET",),
    "nodejs": ("Node.js", "NodeJS", "Node"),
    "go": ("Go", "Go", "Golang"),
    "objc": ("Objective-C",),
    "vue": ("Vue.js", "Vue"),
    "react": ("React", "React.js", "ReactJS"),
    "r": ("R",),
    "c": ("C",),
    "java": ("Java",),
    "javascript": ("JavaScript", "JS"),
    "typescript": ("TypeScript",),
    "python": ("Python",),
    "kotlin": ("Kotlin",),
    "swift": ("Swift",),
    "scala": ("Scala",),
    "rust": ("Rust",),
    "php": ("PHP",),
    "ruby": ("Ruby",),
    "sql": ("SQL",),
    "kubernetes": ("Kubernetes", "K8s"),
    "terraform": ("Terraform",),
    "aws": ("AWS",),
    "pytorch": ("PyTorch",),
}


@dataclass(frozen=True)
class Role:
    """A kind of job: its title patterns, department, technologies and what it counts as."""

    key: str
    titles: tuple[str, ...]  # "{tech}" is the primary technology as written
    department: str
    techs: tuple[str, ...] = ()  # the pool the posting's technologies come from
    tags: tuple[str, ...] = ()  # further roles the job is (an SRE is also "engineer")
    seniority: bool = True  # titles may carry Senior/Sr./Junior/Jr./Lead
    part_time_share: float = 0.04


ROLES: tuple[Role, ...] = (
    Role(
        "backend",
        (
            "Backend Engineer ({tech})",
            "{tech} Developer",
            "{tech} Engineer",
            "Software Engineer, {tech}",
            "Backend Developer ({tech})",
        ),
        "Engineering",
        (
            "csharp",
            "dotnet",
            "java",
            "go",
            "python",
            "nodejs",
            "php",
            "ruby",
            "scala",
            "rust",
            "kotlin",
            "fsharp",
            "aspnet",
            "cpp",
        ),
        ("engineer",),
    ),
    Role(
        "frontend",
        (
            "Frontend Engineer ({tech})",
            "{tech} Developer",
            "Front-End Developer ({tech})",
            "Frontend Developer",
        ),
        "Engineering",
        ("react", "vue", "typescript", "javascript"),
        ("engineer",),
    ),
    Role(
        "fullstack",
        ("Full Stack Developer ({tech})", "Full-Stack Engineer", "Fullstack Developer ({tech})"),
        "Engineering",
        ("react", "nodejs", "typescript", "python", "php", "vue", "csharp", "dotnet"),
        ("engineer",),
    ),
    Role(
        "mobile",
        ("iOS Developer ({tech})", "Android Engineer ({tech})", "Mobile Developer ({tech})"),
        "Engineering",
        ("swift", "objc", "kotlin", "java", "react"),
        ("engineer",),
    ),
    Role(
        "embedded",
        ("Embedded Software Engineer ({tech})", "Firmware Developer ({tech})", "Embedded {tech} Developer"),
        "Engineering",
        ("c", "cpp", "rust"),
        ("engineer",),
    ),
    Role(
        "sre",
        ("Site Reliability Engineer", "SRE", "Site Reliability Engineer (SRE)", "SRE - Platform"),
        "Engineering",
        ("kubernetes", "terraform", "go", "python", "aws"),
        ("engineer",),
    ),
    Role(
        "devops",
        ("DevOps Engineer", "Dev Ops Engineer", "DevOps Engineer ({tech})"),
        "Engineering",
        ("kubernetes", "terraform", "aws", "python", "go"),
        ("engineer",),
    ),
    Role(
        "platform",
        ("Platform Engineer ({tech})", "Kubernetes Administrator", "Cloud Engineer ({tech})"),
        "Engineering",
        ("kubernetes", "terraform", "aws", "go"),
        ("engineer",),
    ),
    Role(
        "ml",
        (
            "Machine Learning Engineer",
            "ML Engineer",
            "ML Engineer ({tech})",
            "Machine Learning Engineer, {tech}",
        ),
        "Data",
        ("python", "pytorch", "scala"),
        ("engineer",),
    ),
    Role(
        "ai",
        ("AI Engineer", "Artificial Intelligence Researcher", "Applied AI Engineer"),
        "Data",
        ("python", "pytorch"),
        ("engineer",),
    ),
    Role(
        "data_scientist",
        ("Data Scientist", "Data Scientist ({tech})", "Data Scientist - Pricing"),
        "Data",
        ("python", "r", "sql"),
    ),
    Role(
        "data_engineer",
        ("Data Engineer", "Data Engineer ({tech})", "Big Data Engineer"),
        "Data",
        ("python", "scala", "sql", "java"),
        ("engineer",),
    ),
    Role(
        "data_analyst",
        ("Data Analyst", "Data Analyst ({tech})", "BI Analyst", "Business Intelligence Analyst"),
        "Data",
        ("sql", "r", "python"),
    ),
    Role(
        "qa",
        ("QA Engineer", "Quality Assurance Engineer", "QA Analyst", "Quality Assurance Specialist"),
        "Engineering",
        ("python", "java", "javascript"),
        (),
    ),
    Role("ux", ("UX Designer", "User Experience Designer", "UX Researcher"), "Design"),
    Role("ui", ("UI Designer", "User Interface Designer"), "Design"),
    Role("uiux", ("UI/UX Designer", "UX/UI Designer"), "Design", tags=("ux", "ui")),
    Role(
        "product_manager",
        ("Product Manager", "Product Manager - Payments", "Technical Product Manager"),
        "Product",
    ),
    Role(
        "project_manager",
        ("Project Manager", "IT Project Manager", "Construction Project Manager"),
        "Operations",
    ),
    Role("product_marketing", ("Product Marketing Manager",), "Marketing"),
    Role(
        "marketing",
        ("Marketing Manager", "Performance Marketing Manager", "Content Marketing Lead"),
        "Marketing",
    ),
    Role(
        "engineering_manager",
        ("Engineering Manager", "Engineering Manager ({tech})"),
        "Engineering",
        ("java", "go", "python"),
    ),
    Role(
        "rn",
        ("Registered Nurse", "RN - ICU", "Registered Nurse (RN), Emergency", "ICU Nurse (RN)"),
        "Nursing",
        tags=("nurse",),
        seniority=False,
        part_time_share=0.3,
    ),
    Role(
        "lpn",
        ("Licensed Practical Nurse", "LPN - Night Shift"),
        "Nursing",
        tags=("nurse",),
        seniority=False,
        part_time_share=0.3,
    ),
    Role(
        "nursing_assistant",
        ("Nursing Assistant", "Care Assistant"),
        "Nursing",
        seniority=False,
        part_time_share=0.4,
    ),
    Role("csm", ("Customer Success Manager", "Customer Success Lead"), "Customer Success"),
    Role(
        "support",
        ("Customer Support Specialist", "Customer Service Representative"),
        "Customer Success",
        seniority=False,
        part_time_share=0.3,
    ),
    Role("sdr", ("Sales Development Representative", "SDR - DACH"), "Sales", seniority=False),
    Role("bdr", ("Business Development Representative", "Business Development Manager"), "Sales"),
    Role("ae", ("Account Executive", "Enterprise Account Executive"), "Sales"),
    Role("sales_manager", ("Sales Manager", "Regional Sales Manager"), "Sales"),
    Role("hr", ("HR Business Partner", "Human Resources Generalist", "HR Manager"), "People"),
    Role("recruiter", ("Recruiter", "Technical Recruiter", "Talent Acquisition Partner"), "People"),
    Role("accountant", ("Accountant", "Senior Accountant", "Financial Analyst"), "Finance", seniority=False),
    Role("tech_writer", ("Technical Writer", "Documentation Engineer"), "Engineering"),
    Role(
        "warehouse",
        ("Warehouse Associate", "Forklift Operator", "Delivery Driver"),
        "Operations",
        seniority=False,
        part_time_share=0.4,
    ),
    Role(
        "barista",
        ("Barista", "Cook", "Restaurant Server"),
        "Hospitality",
        seniority=False,
        part_time_share=0.6,
    ),
    Role(
        "teacher",
        ("Teacher", "Mathematics Teacher", "Language Tutor"),
        "Education",
        seniority=False,
        part_time_share=0.4,
    ),
    Role(
        "mechanic", ("Aircraft Engine Mechanic", "Car Mechanic", "Electrician"), "Operations", seniority=False
    ),
    Role("cto", ("CTO", "Chief Technology Officer", "VP of Engineering"), "Engineering", seniority=False),
)

# City key -> (English name, other names employers use, country).
CITIES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "munich": ("Munich", ("München",), "Germany"),
    "cologne": ("Cologne", ("Köln",), "Germany"),
    "nuremberg": ("Nuremberg", ("Nürnberg",), "Germany"),
    "berlin": ("Berlin", (), "Germany"),
    "hamburg": ("Hamburg", (), "Germany"),
    "frankfurt": ("Frankfurt", ("Frankfurt am Main",), "Germany"),
    "vienna": ("Vienna", ("Wien",), "Austria"),
    "zurich": ("Zurich", ("Zürich",), "Switzerland"),
    "geneva": ("Geneva", ("Genève",), "Switzerland"),
    "prague": ("Prague", ("Praha",), "Czechia"),
    "warsaw": ("Warsaw", ("Warszawa",), "Poland"),
    "krakow": ("Krakow", ("Kraków",), "Poland"),
    "lisbon": ("Lisbon", ("Lisboa",), "Portugal"),
    "rome": ("Rome", ("Roma",), "Italy"),
    "milan": ("Milan", ("Milano",), "Italy"),
    "naples": ("Naples", ("Napoli",), "Italy"),
    "florence": ("Florence", ("Firenze",), "Italy"),
    "turin": ("Turin", ("Torino",), "Italy"),
    "brussels": ("Brussels", ("Bruxelles",), "Belgium"),
    "antwerp": ("Antwerp", ("Antwerpen",), "Belgium"),
    "the_hague": ("The Hague", ("Den Haag",), "Netherlands"),
    "amsterdam": ("Amsterdam", (), "Netherlands"),
    "copenhagen": ("Copenhagen", ("København",), "Denmark"),
    "gothenburg": ("Gothenburg", ("Göteborg",), "Sweden"),
    "stockholm": ("Stockholm", (), "Sweden"),
    "athens": ("Athens", ("Athina",), "Greece"),
    "seville": ("Seville", ("Sevilla",), "Spain"),
    "madrid": ("Madrid", (), "Spain"),
    "bucharest": ("Bucharest", ("București",), "Romania"),
    "belgrade": ("Belgrade", ("Beograd",), "Serbia"),
    "kyiv": ("Kyiv", ("Kiev",), "Ukraine"),
    "paris": ("Paris", (), "France"),
    "london": ("London", (), "United Kingdom"),
    "new_york": ("New York", (), "United States"),
    "mexico_city": ("Mexico City", ("Ciudad de México",), "Mexico"),
    "sao_paulo": ("São Paulo", (), "Brazil"),
}

COMPANIES = (
    "Acme Robotics",
    "Initech Software",
    "Globex Corporation",
    "Nordlicht Networks",
    "Reacher Media",
    "Scalable Foods",
    "Javalin Coffee",
    "Rustic Interiors",
    "Swiftly Freight",
    "Go Green Logistics",
    "Helix Health",
    "St. Mary's Hospital",
    "Bluewave Analytics",
    "Kite Payments",
    "Orbital Labs",
    "Tidewater Insurance",
    "Maple Learning",
    "Copperleaf Energy",
    "Northwind Health",
    "Brightline Retail",
    "Quartz Security",
    "Lumen Mobility",
    "Harbor Logistics",
    "Pinecone Games",
    "Atlas Consulting",
)

_INTROS = (
    "{company} is hiring a {title} for our team in {city}.",
    "Join {company} as our next {title}.",
    "As a {title} at {company} you will shape how thousands of people work.",
    "We are looking for a {title} to join {company}.",
)
_TECH_SENTENCES = (
    "You will build and run services in {a} and {b}.",
    "Our stack: {a}, {b} and a little {c}.",
    "Solid experience with {a} is required; {b} is a plus.",
    "Day to day you write {a}, review {b} code and mentor others.",
    "We mostly work in {a}, with some {b} where it fits.",
)
_SOLO_TECH = (
    "Strong {a} skills are a must.",
    "You have shipped production code in {a}.",
)
_DUTIES: dict[str, tuple[str, ...]] = {
    "Nursing": (
        "You care for patients on a busy ward and work closely with doctors.",
        "Shifts are planned four weeks ahead.",
    ),
    "Sales": (
        "You own your pipeline and close deals with mid-sized customers.",
        "Quota attainment is rewarded with a generous commission.",
    ),
    "Hospitality": ("You welcome guests and keep service running smoothly.",),
    "Operations": ("Safety comes first: full training is provided.",),
    "Education": ("You prepare lessons and support every learner.",),
}
_DISTRACTORS = (
    "Competitive net salary and stock options.",
    "Our Networks team keeps the lights on.",
    "We go the extra mile for our customers.",
    "Go beyond the usual with a yearly conference budget.",
    "Work on the go with a company phone and laptop.",
    "We are ready to go live in three new markets.",
    "Our go-to-market team is growing fast.",
    "Our site serves millions of visitors, and its reliability matters to everyone.",
    "You will be part of a friendly team and have time to learn.",
    "You take full ownership of your work across the whole stack.",
    "Every product team has a manager who supports your growth.",
    "Pick any machine you like; continuous learning is part of our culture.",
    "We trust data, and our chief scientist reviews every experiment.",
    "R&D is at the heart of what we do.",
    "We closed our Series C funding last year.",
    "Flexible hours, mostly between 9 am and 5 pm.",
    "Health insurance, 30 days of holiday and a pension plan.",
    "We value diversity and welcome applications from everyone.",
    "Apply now and let's build the future together.",
    "Our customers range from start-ups to large enterprises.",
)
_FULL_TIME = (
    "This is a full-time position.",
    "Full time, permanent contract.",
    "A full-time role, 40 hours a week.",
)
_PART_TIME = (
    "This is a part-time position (20 hours a week).",
    "Part time: three days a week.",
    "A part-time role with flexible hours.",
)
_REMOTE = ("Remote within Europe is possible.", "You can work fully remote.")
_HYBRID = ("Hybrid: three days a week in our {city} office.", "You work from our {city} office.")


@dataclass(frozen=True)
class JudgedPosting:
    """A generated posting and what it is (the truth the judged queries read)."""

    id: str
    title: str
    company: str
    department: str
    city: str  # key into CITIES
    location: str  # as the employer wrote it
    remote: bool
    part_time: bool
    roles: frozenset[str]  # the role key and its tags
    techs: frozenset[str]
    seniority: str | None  # "senior", "junior", "lead" or None
    content: str
    posted_days_ago: int

    def posting(self) -> Posting:
        posted = BASE_TIME - timedelta(days=self.posted_days_ago, minutes=int(self.id[1:]) % 600)
        return Posting(
            job_id=make_job_id(ACCOUNT, self.id),
            account_id=ACCOUNT,
            posting_id=self.id,
            employer_id="emp_judged",
            company=self.company,
            provider="greenhouse",
            title=self.title,
            department=self.department,
            locations=[Location(name=self.location)],
            remote=self.remote,
            employment_type="permanent",
            contract_type="part_time" if self.part_time else "full_time",
            content_html=f"<p>{self.content}</p>",
            content_plain=self.content,
            created_at=posted,
            updated_at=posted,
            first_seen_at=posted,
            changed_at=posted,
        )


_SENIORITY = (
    ("", None),
    ("Senior ", "senior"),
    ("Sr. ", "senior"),
    ("Sr ", "senior"),
    ("Junior ", "junior"),
    ("Jr. ", "junior"),
    ("Lead ", "lead"),
)


def _written(tech: str, rng: random.Random) -> str:
    return rng.choice(TECH_FORMS[tech])


def generate(count: int = 3000, seed: int = 25) -> list[JudgedPosting]:
    """`count` postings, deterministic for a seed."""
    rng = random.Random(seed)
    cities = sorted(CITIES)
    postings = []
    for number in range(count):
        role = ROLES[number % len(ROLES)] if number < len(ROLES) * 4 else rng.choice(ROLES)
        techs: list[str] = (
            rng.sample(role.techs, k=min(len(role.techs), rng.randint(1, 3))) if role.techs else []
        )
        title = rng.choice(role.titles)
        if "{tech}" in title:
            if not techs:
                title = title.replace(" ({tech})", "").replace(", {tech}", "").replace("{tech} ", "")
            else:
                title = title.replace("{tech}", _written(techs[0], rng))
        seniority = None
        if role.seniority and rng.random() < 0.45:
            prefix, seniority = rng.choice(_SENIORITY[1:])
            title = prefix + title
        part_time = rng.random() < role.part_time_share
        if part_time and rng.random() < 0.5:
            title += rng.choice((" (Part-Time)", " - part time", " (part-time)"))
        city = rng.choice(cities)
        english, others, country = CITIES[city]
        written_city = rng.choice(others) if others and rng.random() < 0.35 else english
        location = f"{written_city}, {country}"
        remote = rng.random() < 0.2
        company = rng.choice(COMPANIES)
        sentences = [rng.choice(_INTROS).format(company=company, title=title, city=written_city)]
        if "Kubernetes" in title and "kubernetes" not in techs:
            techs.append("kubernetes")  # the title names it
        if techs:
            written = [_written(tech, rng) for tech in techs]
            if len(written) == 1:
                sentences.append(rng.choice(_SOLO_TECH).format(a=written[0]))
            else:
                template = rng.choice(_TECH_SENTENCES)
                if len(written) < 3:
                    written.append("SQL")
                    if "{c}" in template:
                        techs.append("sql")
                sentences.append(template.format(a=written[0], b=written[1], c=written[2]))
                if "{c}" not in template and len(techs) > 2:
                    sentences.append(f"Knowing {written[2]} helps.")  # every technology is named
        sentences.extend(_DUTIES.get(role.department, ()))
        sentences.extend(rng.sample(_DISTRACTORS, k=rng.randint(2, 4)))
        sentences.append(rng.choice(_PART_TIME if part_time else _FULL_TIME))
        sentences.append(rng.choice(_REMOTE) if remote else rng.choice(_HYBRID).format(city=written_city))
        postings.append(
            JudgedPosting(
                id=f"g{number:05d}",
                title=title,
                company=company,
                department=role.department,
                city=city,
                location=location,
                remote=remote,
                part_time=part_time,
                roles=frozenset((role.key, *role.tags)),
                techs=frozenset(techs),
                seniority=seniority,
                content=" ".join(sentences),
                posted_days_ago=rng.randint(0, 60),
            )
        )
    return postings
