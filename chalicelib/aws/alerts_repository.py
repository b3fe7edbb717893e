"""Job alerts in the application table, with the per-address cap kept atomically.

- alert: PK `ALERT#{alert_id}`, SK `ALERT`: the alert's fields (`email`, `email_hash`, `search` as a map
  of lists, `frequency`, `status`, times as ISO-8601 UTC, `watermark`), its address `slot`, and TTL
  `expires_at` while unconfirmed. Active alerts only also carry GSI1 `ALERTS#{frequency}` /
  `{last_sent_at or 0000}#{alert_id}`: the schedule reads the alerts due at a frequency with one query
  on that partition (oldest digest first), never a scan; pending and paused alerts are not in it.
- address slot: PK `ALERTADDR#{sha256(address)}`, SK `SLOT#{n}` (n < the cap), `alert_id`, `search_key`
  and the alert's `expires_at`. A new alert takes a free slot in the same transaction that writes it,
  so two concurrent sign-ups can never pass the cap; an unconfirmed alert's slot expires with it. The
  raw address lives only on alert items: deleting the last alert leaves nothing about the address.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import TABLE, AwsErrors, ConditionFailedError
from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.models.alerts import Alert, AlertSearch, Frequency

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# A transaction cancelled by a failed condition (a slot just taken, an alert id in use) is a lost race.
_WRITE = AwsErrors(
    "table_unavailable",
    "The table is unavailable; try again shortly.",
    expect={"TransactionCanceledException": ConditionFailedError},
)
_NEVER_SENT = "0000"
_DUE_INDEX = "GSI1"


def _alert_key(alert_id: str) -> dict[str, str]:
    return {"PK": f"ALERT#{alert_id}", "SK": "ALERT"}


def _address_pk(email_hash: str) -> str:
    return f"ALERTADDR#{email_hash}"


def _slot_key(email_hash: str, slot: int) -> dict[str, str]:
    return {"PK": _address_pk(email_hash), "SK": f"SLOT#{slot:03d}"}


def _due_keys(alert: Alert) -> dict[str, str]:
    """GSI1 keys of an active alert: its frequency partition, ordered by when it was last sent."""
    sent = isoformat(alert.last_sent_at) if alert.last_sent_at else _NEVER_SENT
    return {"GSI1PK": f"ALERTS#{alert.frequency}", "GSI1SK": f"{sent}#{alert.alert_id}"}


def _attributes(alert: Alert) -> dict[str, Any]:
    """The alert's own attributes (no keys); None values left out."""
    document = alert.model_dump(mode="json", exclude_none=True, exclude={"search"})
    for name in ("created_at", "confirmed_at", "last_sent_at"):
        moment = getattr(alert, name)
        if moment is not None:
            document[name] = isoformat(moment)
    document["search"] = alert.search.params
    return document


def _from_item(item: dict[str, Any]) -> Alert:
    values = {k: v for k, v in item.items() if not k.startswith(("PK", "SK", "GSI")) and k != "slot"}
    values["search"] = AlertSearch(params={k: list(v) for k, v in (item.get("search") or {}).items()})
    if values.get("expires_at") is not None:
        values["expires_at"] = int(values["expires_at"])
    return Alert.model_validate(values)


class DynamoDBAlertStore:
    """AlertStore (and the sign-up registry) over the single application table; AWS failures -> 503."""

    def __init__(self, table: Table, *, now: Clock = utcnow) -> None:
        self._table = table
        self._now = now

    def _expired(self, item: dict[str, Any]) -> bool:
        # DynamoDB's TTL deletes lazily: an item past its expiry is treated as gone already.
        expires = item.get("expires_at")
        return expires is not None and int(expires) <= int(self._now().timestamp())

    def _slots(self, email_hash: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :slot)",
            "ExpressionAttributeValues": {":pk": _address_pk(email_hash), ":slot": "SLOT#"},
        }
        items: list[dict[str, Any]] = []
        while True:
            with TABLE:
                page = self._table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _live_slots(self, email_hash: str) -> list[dict[str, Any]]:
        return [item for item in self._slots(email_hash) if not self._expired(item)]

    def create(self, alert: Alert, *, search_key: str, max_per_address: int) -> bool:
        """Store a new alert in a free slot of its address; False (nothing written) when the address
        already has `max_per_address` alerts or a concurrent sign-up took the last free slot."""
        used = {int(str(item["SK"]).removeprefix("SLOT#")) for item in self._live_slots(alert.email_hash)}
        free = next((n for n in range(max_per_address) if n not in used), None)
        if free is None:
            return False
        now = int(self._now().timestamp())
        slot: dict[str, Any] = {
            **_slot_key(alert.email_hash, free),
            "alert_id": alert.alert_id,
            "search_key": search_key,
        }
        if alert.expires_at is not None:
            slot["expires_at"] = alert.expires_at
        item: dict[str, Any] = {**_attributes(alert), **_alert_key(alert.alert_id), "slot": free}
        if alert.status == "active":
            item.update(_due_keys(alert))
        client = self._table.meta.client
        try:
            with _WRITE:
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table.name,
                                "Item": item,
                                "ConditionExpression": "attribute_not_exists(PK)",
                            }
                        },
                        {
                            "Put": {
                                "TableName": self._table.name,
                                "Item": slot,
                                # A slot is free when nobody holds it or its unconfirmed alert expired.
                                "ConditionExpression": "attribute_not_exists(PK) OR expires_at <= :now",
                                "ExpressionAttributeValues": {":now": now},
                            }
                        },
                    ]
                )
        except ConditionFailedError:
            return False
        return True

    def search_keys(self, email_hash: str) -> dict[str, str]:
        """search_key -> alert_id of the address's current alerts."""
        return {str(item["search_key"]): str(item["alert_id"]) for item in self._live_slots(email_hash)}

    def count_for_address(self, email_hash: str) -> int:
        return len(self._live_slots(email_hash))

    def get(self, alert_id: str) -> Alert | None:
        with TABLE:
            item = self._table.get_item(Key=_alert_key(alert_id)).get("Item")
        if item is None or self._expired(item):
            return None
        return _from_item(item)

    def put(self, alert: Alert) -> None:
        """Write an existing alert's new state (status, frequency, confirmation); never recreates a
        deleted one. Only active alerts are in the due index; only unconfirmed ones expire."""
        attributes = _attributes(alert)
        sets = dict(attributes)
        removes = [name for name in ("confirmed_at", "last_sent_at", "expires_at") if name not in sets]
        if alert.status == "active":
            sets.update(_due_keys(alert))
        else:
            removes += ["GSI1PK", "GSI1SK"]
        names = {f"#a{index}": name for index, name in enumerate([*sets, *removes])}
        by_name = {name: alias for alias, name in names.items()}
        expression = "SET " + ", ".join(f"{by_name[name]} = :v{index}" for index, name in enumerate(sets))
        if removes:
            expression += " REMOVE " + ", ".join(by_name[name] for name in removes)
        try:
            with TABLE:
                stored = self._table.update_item(
                    Key=_alert_key(alert.alert_id),
                    UpdateExpression=expression,
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={f":v{i}": value for i, value in enumerate(sets.values())},
                    ReturnValues="ALL_NEW",
                )["Attributes"]
        except ConditionFailedError:
            return  # deleted meanwhile (unsubscribed): stays deleted
        if alert.expires_at is None and "slot" in stored:
            # Confirmed: the slot no longer expires with the alert.
            try:
                with TABLE:
                    self._table.update_item(
                        Key=_slot_key(alert.email_hash, int(str(stored["slot"]))),
                        UpdateExpression="REMOVE expires_at",
                        ConditionExpression="alert_id = :id",
                        ExpressionAttributeValues={":id": alert.alert_id},
                    )
            except ConditionFailedError:
                pass

    def delete(self, alert_id: str) -> None:
        """Delete the alert and its slot: the address's last alert takes every trace of the address."""
        with TABLE:
            item = self._table.delete_item(Key=_alert_key(alert_id), ReturnValues="ALL_OLD").get("Attributes")
        if not item or "slot" not in item:
            return
        try:
            with TABLE:
                self._table.delete_item(
                    Key=_slot_key(str(item["email_hash"]), int(str(item["slot"]))),
                    # An expired slot may have been taken by a newer alert: that one keeps it.
                    ConditionExpression="alert_id = :id",
                    ExpressionAttributeValues={":id": alert_id},
                )
        except ConditionFailedError:
            pass

    def delete_all_for_address(self, email_hash: str) -> int:
        slots = self._slots(email_hash)
        for slot in slots:
            self.delete(str(slot["alert_id"]))
            with TABLE:  # a slot whose alert had already gone (expired) goes too
                self._table.delete_item(Key={"PK": slot["PK"], "SK": slot["SK"]})
        return len(slots)

    def due(self, frequency: Frequency, *, sent_before: datetime) -> Iterator[Alert]:
        kwargs: dict[str, Any] = {
            "IndexName": _DUE_INDEX,
            "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK < :before",
            "ExpressionAttributeValues": {":pk": f"ALERTS#{frequency}", ":before": isoformat(sent_before)},
        }
        while True:
            with TABLE:
                page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                yield _from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def advance(self, alert_id: str, *, watermark: str, sent_at: datetime) -> None:
        sent = isoformat(sent_at)
        try:
            with TABLE:
                self._table.update_item(
                    Key=_alert_key(alert_id),
                    # The due-index sort key moves with the digest; an alert paused meanwhile has no
                    # GSI1PK, so it stays out of the index until it is resumed.
                    UpdateExpression="SET watermark = :w, last_sent_at = :s, GSI1SK = :sk",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues={":w": watermark, ":s": sent, ":sk": f"{sent}#{alert_id}"},
                )
        except ConditionFailedError:
            pass  # deleted meanwhile: stays deleted
