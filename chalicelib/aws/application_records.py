"""Application records and duplicate guards in the application table.

- record: PK `EMPLOYER#{employer_id}`, SK `APPLICATION#{submitted_at}#{record_id}`,
  GSI1 `JOBAPPS#{job_id}` / `{submitted_at}#{record_id}`, TTL `expires_at`.
- duplicate guard: PK `APPLYGUARD#{job_id}#{sha256(email)}`, SK `GUARD`, `guard_until` and TTL
  `expires_at` (epoch s). No raw email in any key.
- upload claim: PK `UPLOADCLAIM#{upload key}`, SK `CLAIM`, the claiming `email_hash` and `application`,
  `delivered_at` once the ATS has the file, TTL `expires_at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import TABLE, ConditionFailedError
from chalicelib.clock import isoformat
from chalicelib.models.applications import ApplicationRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_STATUS_FIELDS = (
    "application_status",
    "application_stage",
    "rejected",
    "hired",
    "status_checked_at",
    "stackone_application_id",  # learnt later when the create's 201 named no id
)


# A filtered page of the applications list reads at most this many query pages, each ahead by this many.
_QUERIES_PER_PAGE = 10
_READ_AHEAD = 100


def record_key(record: ApplicationRecord) -> dict[str, str]:
    at = isoformat(record.submitted_at)
    return {"PK": f"EMPLOYER#{record.employer_id}", "SK": f"APPLICATION#{at}#{record.record_id}"}


def _guard_key(job_id: str, email_hash: str) -> dict[str, str]:
    return {"PK": f"APPLYGUARD#{job_id}#{email_hash}", "SK": "GUARD"}


def _claim_key(upload: str) -> dict[str, str]:
    return {"PK": f"UPLOADCLAIM#{upload}", "SK": "CLAIM"}


def _to_item(record: ApplicationRecord) -> dict[str, Any]:
    key = record_key(record)
    document = record.model_dump(mode="json", exclude_none=True)
    return {
        **document,
        **key,
        "submitted_at": isoformat(record.submitted_at),
        "GSI1PK": f"JOBAPPS#{record.job_id}",
        "GSI1SK": key["SK"].removeprefix("APPLICATION#"),
    }


def _from_item(item: dict[str, Any]) -> ApplicationRecord:
    return ApplicationRecord.model_validate(
        {
            k: (int(v) if k == "expires_at" else v)
            for k, v in item.items()
            if not k.startswith(("PK", "SK", "GSI"))
        }
    )


def _partition(employer_id: str, job_id: str | None) -> dict[str, Any]:
    """Query arguments for an employer's records: its own partition, or one job's index partition."""
    if job_id is None:
        return {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": f"EMPLOYER#{employer_id}", ":prefix": "APPLICATION#"},
        }
    return {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": f"JOBAPPS#{job_id}"},
    }


class DynamoDBApplicationRecords:
    """ApplicationRecords over the single application table; AWS failures -> typed 503 (`TABLE`)."""

    def __init__(self, table: Table) -> None:
        self._table = table

    @TABLE
    def put(self, record: ApplicationRecord) -> None:
        self._table.put_item(Item=_to_item(record))

    def update_status(self, record: ApplicationRecord) -> None:
        """Write the read-back status fields of an existing record (never recreate a deleted one)."""
        values = record.model_dump(mode="json", include=set(_STATUS_FIELDS))
        sets = [f"{name} = :{name}" for name in _STATUS_FIELDS if values.get(name) is not None]
        if not sets:
            return
        try:
            with TABLE:
                self._table.update_item(
                    Key=record_key(record),
                    UpdateExpression="SET " + ", ".join(sets),
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues={
                        f":{n}": values[n] for n in _STATUS_FIELDS if values.get(n) is not None
                    },
                )
        except ConditionFailedError:
            pass  # the record was deleted meanwhile

    def list_for_employer(
        self,
        employer_id: str,
        *,
        job_id: str | None,
        limit: int,
        start_key: dict[str, Any] | None,
        status: str | None = None,
    ) -> tuple[list[ApplicationRecord], dict[str, Any] | None]:
        """One page, newest first: the employer's partition, or the job's index partition (own rows only),
        optionally only records whose outcome or ATS status is `status`.

        DynamoDB filters after reading, so a filtered page is filled from up to `_QUERIES_PER_PAGE`
        queries; the position after the last record kept is the next start key.
        """
        kwargs: dict[str, Any] = {"ScanIndexForward": False, **_partition(employer_id, job_id)}
        filters: list[str] = []
        if job_id is not None:
            filters.append("employer_id = :me")
            kwargs["ExpressionAttributeValues"][":me"] = employer_id
        if status is not None:
            filters.append("(outcome = :status OR application_status = :status)")
            kwargs["ExpressionAttributeValues"][":status"] = status
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        key_names = ("PK", "SK") if job_id is None else ("PK", "SK", "GSI1PK", "GSI1SK")
        items: list[dict[str, Any]] = []
        position = start_key
        for _ in range(_QUERIES_PER_PAGE):
            if position:
                kwargs["ExclusiveStartKey"] = position
            # A filtered query reads ahead (the filter may drop most of what it reads).
            kwargs["Limit"] = max(limit - len(items), _READ_AHEAD) if status else limit - len(items)
            with TABLE:
                page = self._table.query(**kwargs)
            items.extend(page.get("Items", []))
            position = page.get("LastEvaluatedKey")
            if len(items) >= limit or not position:
                break
        if len(items) > limit:
            items = items[:limit]
            position = {name: items[-1][name] for name in key_names}
        return [_from_item(item) for item in items], position

    def outcomes(self, employer_id: str, *, job_id: str | None = None) -> list[tuple[str, str, str]]:
        """(account_id, job_id, outcome) of every record of the employer (or of one of its jobs)."""
        kwargs: dict[str, Any] = {
            "ProjectionExpression": "account_id, job_id, outcome, employer_id",
            **_partition(employer_id, job_id),
        }
        rows: list[tuple[str, str, str]] = []
        while True:
            with TABLE:
                page = self._table.query(**kwargs)
            rows.extend(
                (str(i["account_id"]), str(i["job_id"]), str(i["outcome"]))
                for i in page.get("Items", [])
                if i.get("employer_id") == employer_id
            )
            if "LastEvaluatedKey" not in page:
                return rows
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def submitted_between(self, employer_id: str, start: datetime, end: datetime) -> list[ApplicationRecord]:
        """The employer's records with `start <= submitted_at < end`, oldest first."""
        # Sort keys are `APPLICATION#{at}#{id}`: every key of an instant sorts after `APPLICATION#{at}`, so
        # BETWEEN the two bare instants takes `start` and leaves `end` to the next window.
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": f"EMPLOYER#{employer_id}",
                ":from": f"APPLICATION#{isoformat(start)}",
                ":to": f"APPLICATION#{isoformat(end)}",
            },
        }
        records: list[ApplicationRecord] = []
        while True:
            with TABLE:
                page = self._table.query(**kwargs)
            records.extend(_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return records
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim_guard(self, job_id: str, email_hash: str, *, now: int, until: int) -> bool:
        """Take the (job, email) guard unless a live one exists; False means a duplicate."""
        try:
            with TABLE:
                self._table.put_item(
                    Item={**_guard_key(job_id, email_hash), "guard_until": until, "expires_at": until},
                    ConditionExpression="attribute_not_exists(PK) OR guard_until < :now",
                    ExpressionAttributeValues={":now": now},
                )
        except ConditionFailedError:
            return False
        return True

    @TABLE
    def release_guard(self, job_id: str, email_hash: str) -> None:
        self._table.delete_item(Key=_guard_key(job_id, email_hash))

    def claim_upload(self, upload: str, *, email_hash: str, application: str, until: int) -> bool:
        """Bind an uploaded resume to one application; False when another application holds it.

        The first claim binds the upload to the candidate's email. Until the file is delivered, the same
        email may claim it again (a corrected resubmission); once delivered, only the same application (a
        replayed retry) passes.
        """
        try:
            with TABLE:
                self._table.update_item(
                    Key=_claim_key(upload),
                    UpdateExpression=(
                        "SET email_hash = :email, #application = :application, expires_at = :until"
                    ),
                    ConditionExpression=(
                        "attribute_not_exists(PK) OR #application = :application"
                        " OR (email_hash = :email AND attribute_not_exists(delivered_at))"
                    ),
                    ExpressionAttributeNames={"#application": "application"},
                    ExpressionAttributeValues={
                        ":email": email_hash,
                        ":application": application,
                        ":until": until,
                    },
                )
        except ConditionFailedError:
            return False
        return True

    @TABLE
    def mark_upload_delivered(self, upload: str, *, at: int) -> None:
        self._table.update_item(
            Key=_claim_key(upload),
            UpdateExpression="SET delivered_at = :at",
            ExpressionAttributeValues={":at": at},
        )
