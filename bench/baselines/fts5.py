"""Baseline for `make bench-board`: the same board on SQLite FTS5 (stdlib `sqlite3`), in process.

What an off-the-shelf embedded engine gives for the same GET /jobs contract, built the obvious way:
- `docs`: one narrow row per posting (sort key, display value and filter key per single-valued dimension),
  `records`: the stored list summary (the same JSON our snapshot stores), `locations` / `location_keys`:
  the multi-valued location dimension (display values for facets; filter keys, where "Berlin, Germany" is
  also found by "Berlin" and "Germany", as ours);
- `fts`: contentless FTS5 over title, company, department, locations and content with
  `tokenize="porter unicode61 remove_diacritics 2"`;
- a request: the text match with its bm25() (title weighted x3, like ours) into a temporary table once,
  then the page (by relevance with a q: OFFSET paging; newest first without: keyset on the sort key),
  the total, and one GROUP BY per dimension with the *other* dimensions' filters applied. No facet cache.
- words must all match (implicit AND); the last word is also a prefix (`"pyth"*`) from 3 letters, as
  ours does while a word is being typed; no typo tolerance, no compounds ("frontend" vs "front-end").
- tuning: bulk load in one transaction, `optimize` after; 64 MB page cache and mmap for queries.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bench.baselines.legacy_index import legacy_plan
from chalicelib.services.board import shaping
from chalicelib.services.board.cursor import BoardCursorCodec, plan_fingerprint
from chalicelib.services.board.engine import Plan, sort_key_of
from chalicelib.services.board.text import key

if TYPE_CHECKING:
    from chalicelib.services.board.query import BoardQuery
    from chalicelib.services.board.records import PostingRecord
    from chalicelib.services.board.service import BoardResponse

SINGLE = ("company", "employment_type", "remote", "provider", "department")
DIMENSIONS: tuple[str, ...] = ("company", "employment_type", "location", "remote", "provider", "department")
TITLE_WEIGHT = 3.0
PREFIX_MIN_LENGTH = 3

_SCHEMA = f"""
CREATE TABLE docs (
    id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, sort_key INTEGER NOT NULL,
    {", ".join(f"{dim} TEXT, f_{dim} TEXT" for dim in SINGLE)}
);
CREATE TABLE records (id INTEGER PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE locations (doc INTEGER NOT NULL, value TEXT NOT NULL);
CREATE TABLE location_keys (key TEXT NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (key, doc)) WITHOUT ROWID;
CREATE VIRTUAL TABLE fts USING fts5(
    title, company, department, locations, content,
    content='', tokenize="porter unicode61 remove_diacritics 2"
);
"""
_INDEXES = [
    "CREATE INDEX docs_sort ON docs (sort_key)",
    *(f"CREATE INDEX docs_{dim} ON docs (f_{dim}, {dim})" for dim in SINGLE),
    "CREATE INDEX locations_doc ON locations (doc, value)",
]


def build(path: Path, records: Iterable[PostingRecord]) -> dict[str, float]:
    """Create the database at `path` from the live records; returns counters (postings)."""
    if path.exists():
        path.unlink()
    connection = sqlite3.connect(path)
    connection.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
    count = 0
    with connection:
        for number, record in enumerate(records, start=1):
            if record.status != "live":
                continue
            posting = record.load()
            summary = shaping.summary(posting, "")
            del summary["url"]
            locations = list(dict.fromkeys(summary["locations"]))
            values = {
                "company": posting.company or None,
                "employment_type": posting.employment_type or None,
                "remote": "true" if posting.remote else "false",
                "provider": posting.provider.lower() if posting.provider else None,
                "department": posting.department or None,
            }
            connection.execute(
                f"INSERT INTO docs VALUES (?, ?, ?, {', '.join('?, ?' for _ in SINGLE)})",
                [
                    number,
                    posting.job_id,
                    sort_key_of(posting),
                    *(x for dim in SINGLE for x in (values[dim], key(values[dim] or "") or None)),
                ],
            )
            connection.execute("INSERT INTO records VALUES (?, ?)", (number, orjson.dumps(summary)))
            keys: dict[str, None] = {}
            for location in locations:
                connection.execute("INSERT INTO locations VALUES (?, ?)", (number, location))
                keys[key(location)] = None
                keys.update(dict.fromkeys(key(part) for part in location.split(",")))
            keys.pop("", None)
            connection.executemany("INSERT INTO location_keys VALUES (?, ?)", [(k, number) for k in keys])
            connection.execute(
                "INSERT INTO fts (rowid, title, company, department, locations, content) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    number,
                    posting.title,
                    posting.company,
                    posting.department or "",
                    "\n".join(locations),
                    posting.content_plain,
                ),
            )
            count += 1
    for statement in _INDEXES:
        connection.execute(statement)
    connection.execute("INSERT INTO fts (fts) VALUES ('optimize')")
    connection.commit()
    connection.execute("ANALYZE")
    connection.execute("VACUUM")
    connection.close()
    return {"postings": count}


def match_expression(terms: tuple[str, ...], *, prefix_last: bool) -> str:
    parts = [f'"{term}"' for term in terms]
    if prefix_last and len(terms[-1]) >= PREFIX_MIN_LENGTH:
        parts[-1] += "*"
    return " ".join(parts)


class FtsBoard:
    """GET /jobs over the FTS5 database (one connection, one request at a time)."""

    def __init__(
        self, path: Path, *, public_base_url: str, cursor_key: bytes, facet_limit: int = 100
    ) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.executescript(
            "PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY;"
            "CREATE TEMP TABLE hits (id INTEGER PRIMARY KEY, score REAL NOT NULL);"
        )
        self._public_base_url = public_base_url.rstrip("/")
        self._cursors = BoardCursorCodec(cursor_key)
        self._facet_limit = facet_limit

    def plan(self, query: BoardQuery) -> Plan:
        """Like `BoardQuery.plan()`, with the old folding tokenizer (FTS5 tokenizes the words itself)."""
        old = legacy_plan(query)
        prefix_last = bool(old.terms) and not (query.q or "")[-1:].isspace()
        return Plan(terms=old.terms, filters=old.filters, relevance=old.relevance, prefix_last=prefix_last)

    @staticmethod
    def _where(filters: dict[str, tuple[str, ...]], skip: str | None = None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        for dim, keys in filters.items():
            if dim == skip:
                continue
            marks = ", ".join("?" for _ in keys)
            if dim == "location":
                clauses.append(f"d.id IN (SELECT doc FROM location_keys WHERE key IN ({marks}))")
            else:
                clauses.append(f"d.f_{dim} IN ({marks})")
            args.extend(keys)
        return (" AND ".join(clauses) or "1"), args

    def list_jobs(self, query: BoardQuery) -> BoardResponse:
        from chalicelib.services.board.service import BoardResponse

        plan = self.plan(query)
        position = self._cursors.decode(query.cursor, plan) if query.cursor else None
        filters = dict(plan.filters)
        db = self._db
        text = bool(plan.terms)
        source = "docs d"
        if text:
            db.execute("DELETE FROM hits")
            db.execute(
                "INSERT INTO hits SELECT rowid, bm25(fts, ?, 1.0, 1.0, 1.0, 1.0) FROM fts WHERE fts MATCH ?",
                (TITLE_WEIGHT, match_expression(plan.terms, prefix_last=plan.prefix_last)),
            )
            source = "hits h JOIN docs d ON d.id = h.id"
        where, args = self._where(filters)
        limit = query.limit
        seen = position[2] if position else 0
        if plan.relevance and text:
            rows = db.execute(
                f"SELECT r.record, h.score, d.sort_key FROM {source} JOIN records r ON r.id = d.id "
                f"WHERE {where} ORDER BY h.score, d.sort_key DESC LIMIT ? OFFSET ?",
                [*args, limit + 1, seen],
            ).fetchall()
        else:
            after = "d.sort_key < ?" if position else "1"
            rows = db.execute(
                f"SELECT r.record, 0.0, d.sort_key FROM {source} JOIN records r ON r.id = d.id "
                f"WHERE {where} AND {after} ORDER BY d.sort_key DESC LIMIT ?",
                [*args, *([position[1]] if position else []), limit + 1],
            ).fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        data = []
        for record, _, _ in rows:
            summary = orjson.loads(record)
            data.append({**summary, "url": shaping.job_url(self._public_base_url, summary["job_id"])})
        next_cursor = None
        if has_more:
            _, score, sort_key = rows[-1]
            next_cursor = self._cursors.encode(plan, (float(score), int(sort_key), seen + len(rows)))
        total = int(db.execute(f"SELECT count(*) FROM {source} WHERE {where}", args).fetchone()[0])
        facets: dict[str, dict[str, int]] = {}
        for dim in DIMENSIONS:
            others, other_args = self._where(filters, skip=dim)
            if dim == "location":
                sql = (
                    f"SELECT l.value, count(*) AS n FROM {source} JOIN locations l ON l.doc = d.id "
                    f"WHERE {others} GROUP BY l.value"
                )
            else:
                sql = f"SELECT d.{dim}, count(*) AS n FROM {source} WHERE {others} AND d.{dim} IS NOT NULL "
                sql += f"GROUP BY d.{dim}"
            sql += " ORDER BY n DESC, 1 LIMIT ?"
            facets[dim] = {
                str(value): int(n) for value, n in db.execute(sql, [*other_args, self._facet_limit])
            }
        body = {"data": data, "next_cursor": next_cursor, "total": total, "facets": facets}
        etag_text = f"fts5|{plan_fingerprint(plan)}|{query.limit}|{query.cursor}"
        return BoardResponse('"' + hashlib.sha256(etag_text.encode()).hexdigest()[:32] + '"', body)

    def reset_query_caches(self) -> None:
        """Nothing per query is cached here (SQLite's page cache stays warm, as it would in a process)."""
