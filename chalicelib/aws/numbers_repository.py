"""Per-job numbers on the application table: one item per (employer, job, day) and per (employer, day).

Items: PK `NUMBERS#{employer_id}`, SK `JOB#{job_id}#DAY#{yyyy-mm-dd}` (a job's day; `job_title` too) or
`ALL#DAY#{yyyy-mm-dd}` (the employer's total that day); the counters `views`, `apply_starts`,
`applications`, `embloy_clicks`; `expires_at` (TTL) `retention_days` after the day. Board job ids are
URL-safe base64 (no `#`), so a job's days are one key range.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import AwsErrors
from chalicelib.models.numbers import COUNTERS
from chalicelib.services.numbers import NumbersRow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_NUMBERS = AwsErrors("numbers_unavailable", "The numbers are unavailable right now; try again shortly.")


def numbers_key(employer_id: str, job_id: str | None, day: date) -> dict[str, str]:
    sort_key = f"JOB#{job_id}#DAY#{day.isoformat()}" if job_id is not None else f"ALL#DAY#{day.isoformat()}"
    return {"PK": f"NUMBERS#{employer_id}", "SK": sort_key}


class DynamoDBNumbers:
    """NumbersStore over the application table."""

    def __init__(self, table: Table, *, retention_days: int) -> None:
        self._table = table
        self._retention = timedelta(days=retention_days)

    def add(
        self, employer_id: str, job_id: str | None, day: date, counts: Mapping[str, int], title: str | None
    ) -> None:
        """One UpdateItem: ADD each non-zero counter (creating the item), refresh its expiry."""
        names = [name for name in COUNTERS if counts.get(name)]
        if not names:
            return
        expires = int(datetime.combine(day + self._retention, time.min, tzinfo=UTC).timestamp())
        values: dict[str, Any] = {f":{name}": int(counts[name]) for name in names}
        values[":expires"] = expires
        values[":day"] = day.isoformat()
        sets = ["expires_at = :expires", "#day = :day"]
        if title:
            sets.append("job_title = :title")
            values[":title"] = title
        # Attribute names through placeholders: `views` and `day` are DynamoDB reserved words.
        attribute_names = {f"#{name}": name for name in names} | {"#day": "day"}
        additions = ", ".join(f"#{name} :{name}" for name in names)
        with _NUMBERS:
            self._table.update_item(
                Key=numbers_key(employer_id, job_id, day),
                UpdateExpression=f"ADD {additions} SET {', '.join(sets)}",
                ExpressionAttributeNames=attribute_names,
                ExpressionAttributeValues=values,
            )

    def totals(self, employer_id: str, start: date, end: date) -> list[NumbersRow]:
        """The employer's daily totals from `start` to `end` (inclusive)."""
        return self._query(employer_id, f"ALL#DAY#{start.isoformat()}", f"ALL#DAY#{end.isoformat()}")

    def jobs(self, employer_id: str, start: date, end: date, job_id: str | None = None) -> list[NumbersRow]:
        """Every job's days (or one job's) from `start` to `end` (inclusive)."""
        if job_id is not None:
            return self._query(
                employer_id, f"JOB#{job_id}#DAY#{start.isoformat()}", f"JOB#{job_id}#DAY#{end.isoformat()}"
            )
        # All jobs' days sort by job first: read them all (at most the retention) and keep the range.
        rows = self._query(employer_id, "JOB#", "JOB$")
        return [row for row in rows if start <= row.day <= end]

    def _query(self, employer_id: str, low: str, high: str) -> list[NumbersRow]:
        from boto3.dynamodb.conditions import Key

        condition = Key("PK").eq(f"NUMBERS#{employer_id}") & Key("SK").between(low, high)
        rows: list[NumbersRow] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
        while True:
            with _NUMBERS:
                page = self._table.query(**kwargs)
            rows.extend(_row(item) for item in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last:
                return rows
            kwargs["ExclusiveStartKey"] = last


def _row(item: Mapping[str, Any]) -> NumbersRow:
    sort_key = str(item["SK"])
    job_id = sort_key.split("#", 2)[1] if sort_key.startswith("JOB#") else None
    return NumbersRow(
        day=date.fromisoformat(sort_key.rsplit("#", 1)[1]),
        job_id=job_id,
        counts={name: int(item.get(name, 0)) for name in COUNTERS},
        title=str(item["job_title"]) if item.get("job_title") else None,
    )
