"""Employers and API-key hashes in the application table.

The employer item (PK `EMPLOYER#{id}`, SK `PROFILE`) also holds the employer's notification settings:
`notification_email`, `new_applications_digest` and `notifications_updated_at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import TABLE, AwsErrors
from chalicelib.clock import isoformat
from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.services.employer_notifications import DigestRecipient, NotificationSettings
from chalicelib.services.employers import ApiKeyRecord, Employer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _employer_key(employer_id: str) -> dict[str, str]:
    return {"PK": f"EMPLOYER#{employer_id}", "SK": "PROFILE"}


def _api_key_key(key_hash: str) -> dict[str, str]:
    return {"PK": f"APIKEY#{key_hash}", "SK": "APIKEY"}


def _to_employer(item: dict[str, Any]) -> Employer:
    return Employer(
        employer_id=str(item["employer_id"]),
        name=str(item["name"]),
        created_at=datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00")),
        key_hash=str(item["key_hash"]) if item.get("key_hash") else None,
    )


class DynamoDBEmployersRepository:
    """EmployersRepository on the single application table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def put_employer(self, employer: Employer) -> None:
        """Store a new employer; ConflictError if the id is taken (an operator must not overwrite one)."""
        item: dict[str, Any] = {
            **_employer_key(employer.employer_id),
            "GSI1PK": "EMPLOYERS",
            "GSI1SK": employer.employer_id,
            "employer_id": employer.employer_id,
            "name": employer.name,
            "created_at": isoformat(employer.created_at),
        }
        if employer.key_hash:
            item["key_hash"] = employer.key_hash
        exists = ConflictError(f"Employer {employer.employer_id} already exists.", code="employer_exists")
        with AwsErrors(TABLE.code, TABLE.message, expect={"ConditionalCheckFailedException": lambda: exists}):
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(PK)")

    @TABLE
    def get_employer(self, employer_id: str) -> Employer | None:
        item = self._table.get_item(Key=_employer_key(employer_id)).get("Item")
        return _to_employer(item) if item else None

    @TABLE
    def list_employers(self) -> list[Employer]:
        employers: list[Employer] = []
        kwargs: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": "EMPLOYERS"},
        }
        while True:
            page = self._table.query(**kwargs)
            employers.extend(_to_employer(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return employers
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @TABLE
    def put_key(self, key_hash: str, employer_id: str, created_at: datetime) -> None:
        self._table.put_item(
            Item={
                **_api_key_key(key_hash),
                "key_hash": key_hash,
                "employer_id": employer_id,
                "created_at": isoformat(created_at),
            }
        )

    @TABLE
    def get_key(self, key_hash: str) -> ApiKeyRecord | None:
        # Strongly consistent: a key revoked a moment ago must not pass on a stale replica.
        item = self._table.get_item(Key=_api_key_key(key_hash), ConsistentRead=True).get("Item")
        if not item:
            return None
        stored_hash = str(item.get("key_hash") or str(item["PK"]).removeprefix("APIKEY#"))
        return ApiKeyRecord(
            key_hash=stored_hash, employer_id=str(item["employer_id"]), revoked="revoked_at" in item
        )

    @TABLE
    def revoke_key(self, key_hash: str, revoked_at: datetime) -> None:
        self._table.update_item(
            Key=_api_key_key(key_hash),
            UpdateExpression="SET revoked_at = :at",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":at": isoformat(revoked_at)},
        )

    @TABLE
    def set_current_key(self, employer_id: str, key_hash: str | None) -> None:
        if key_hash:
            self._table.update_item(
                Key=_employer_key(employer_id),
                UpdateExpression="SET key_hash = :h",
                ExpressionAttributeValues={":h": key_hash},
            )
        else:
            self._table.update_item(Key=_employer_key(employer_id), UpdateExpression="REMOVE key_hash")

    @TABLE
    def get_notification_settings(self, employer_id: str) -> NotificationSettings | None:
        item = self._table.get_item(
            Key=_employer_key(employer_id),
            ProjectionExpression="PK, notification_email, new_applications_digest, notifications_updated_at",
        ).get("Item")
        if not item:
            return None
        return _notification_settings(item)

    def put_notification_settings(self, employer_id: str, settings: NotificationSettings) -> None:
        """Update the settings on the employer item (never create one); NotFoundError without it."""
        values: dict[str, Any] = {
            ":digest": settings.new_applications_digest,
            ":at": isoformat(settings.updated_at) if settings.updated_at else None,
        }
        if settings.email:
            expression = "SET notification_email = :email, "
            values[":email"] = settings.email
        else:
            expression = "REMOVE notification_email SET "
        expression += "new_applications_digest = :digest, notifications_updated_at = :at"
        missing = NotFoundError(f"No employer {employer_id}.", code="employer_not_found")
        with AwsErrors(
            TABLE.code, TABLE.message, expect={"ConditionalCheckFailedException": lambda: missing}
        ):
            self._table.update_item(
                Key=_employer_key(employer_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=values,
            )

    @TABLE
    def digest_recipients(self) -> list[DigestRecipient]:
        recipients: list[DigestRecipient] = []
        kwargs: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "FilterExpression": "new_applications_digest = :yes AND attribute_exists(notification_email)",
            "ExpressionAttributeValues": {":pk": "EMPLOYERS", ":yes": True},
        }
        while True:
            page = self._table.query(**kwargs)
            recipients.extend(
                DigestRecipient(
                    employer_id=str(item["employer_id"]),
                    name=str(item["name"]),
                    email=str(item["notification_email"]),
                )
                for item in page.get("Items", [])
            )
            if "LastEvaluatedKey" not in page:
                return recipients
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _notification_settings(item: dict[str, Any]) -> NotificationSettings:
    updated_at = item.get("notifications_updated_at")
    return NotificationSettings(
        email=str(item["notification_email"]) if item.get("notification_email") else None,
        new_applications_digest=bool(item.get("new_applications_digest", False)),
        updated_at=datetime.fromisoformat(str(updated_at).replace("Z", "+00:00")) if updated_at else None,
    )
