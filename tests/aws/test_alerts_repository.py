"""Alerts in the application table (moto): the address cap, expiry, the due index, deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import deps
from chalicelib.aws.alerts_repository import DynamoDBAlertStore
from chalicelib.aws.email_suppressions import address_hash
from chalicelib.models.alerts import Alert, AlertSearch, Frequency

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ADDRESS = "Ada@Example.org"


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def make_alert(alert_id: str, *, address: str = ADDRESS, **changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "alert_id": alert_id,
        "email": address,
        "email_hash": address_hash(address),
        "search": AlertSearch.from_params({"q": ["python"], "location": ["Berlin"]}),
        "frequency": "daily",
        "created_at": NOW,
        "expires_at": int((NOW + timedelta(days=7)).timestamp()),
    }
    return Alert(**{**fields, **changes})


def activate(store: DynamoDBAlertStore, alert: Alert, **changes: Any) -> Alert:
    active = alert.model_copy(
        update={
            "status": "active",
            "confirmed_at": NOW,
            "watermark": "2026-12-07T09:00:00.000Z",
            "expires_at": None,
            **changes,
        }
    )
    store.put(active)
    return active


class StaleReads(DynamoDBAlertStore):
    """A store that read the address's slots before a concurrent sign-up took one."""

    def _live_slots(self, email_hash: str) -> list[dict[str, Any]]:
        return []


def all_items() -> list[dict[str, Any]]:
    return deps.get_table().scan()["Items"]


def test_an_alert_round_trips_with_its_search_and_times(aws: None) -> None:
    store = DynamoDBAlertStore(deps.get_table(), now=Clock(NOW))
    alert = make_alert("a1")

    assert store.create(alert, search_key="k1", max_per_address=3)

    assert store.get("a1") == alert
    assert store.count_for_address(address_hash(ADDRESS)) == 1
    assert store.search_keys(address_hash(ADDRESS)) == {"k1": "a1"}
    assert store.get("missing") is None


def test_the_cap_per_address_holds_and_a_deleted_alert_frees_its_slot(aws: None) -> None:
    store = DynamoDBAlertStore(deps.get_table(), now=Clock(NOW))

    created = [store.create(make_alert(f"a{n}"), search_key=f"k{n}", max_per_address=2) for n in range(3)]
    other = store.create(make_alert("b1", address="grace@example.org"), search_key="k0", max_per_address=2)

    assert created == [True, True, False]
    assert other
    assert store.get("a2") is None
    store.delete("a0")
    assert store.create(make_alert("a3"), search_key="k3", max_per_address=2)
    assert store.search_keys(address_hash(ADDRESS)) == {"k1": "a1", "k3": "a3"}


def test_a_slot_taken_concurrently_refuses_the_second_alert(aws: None) -> None:
    # Both sign-ups read the same free slot; the transaction lets only the first one have it.
    table = deps.get_table()
    store = DynamoDBAlertStore(table, now=Clock(NOW))
    table.put_item(
        Item={
            "PK": f"ALERTADDR#{address_hash(ADDRESS)}",
            "SK": "SLOT#000",
            "alert_id": "x",
            "search_key": "kx",
        }
    )
    racing = StaleReads(table, now=Clock(NOW))
    assert not racing.create(make_alert("a1"), search_key="k1", max_per_address=1)
    assert store.get("a1") is None


def test_an_unconfirmed_alert_expires_after_seven_days_with_its_slot(aws: None) -> None:
    clock = Clock(NOW)
    store = DynamoDBAlertStore(deps.get_table(), now=clock)
    store.create(make_alert("a1"), search_key="k1", max_per_address=1)
    slot = next(item for item in all_items() if item["SK"].startswith("SLOT#"))
    assert slot["expires_at"] == int((NOW + timedelta(days=7)).timestamp())

    clock.at = NOW + timedelta(days=7, seconds=1)

    assert store.get("a1") is None
    assert store.count_for_address(address_hash(ADDRESS)) == 0
    assert store.create(make_alert("a2"), search_key="k2", max_per_address=1)


def test_a_confirmed_alert_and_its_slot_no_longer_expire(aws: None) -> None:
    clock = Clock(NOW)
    store = DynamoDBAlertStore(deps.get_table(), now=clock)
    alert = make_alert("a1")
    store.create(alert, search_key="k1", max_per_address=1)

    activate(store, alert)
    clock.at = NOW + timedelta(days=30)

    assert all("expires_at" not in item for item in all_items())
    stored = store.get("a1")
    assert stored is not None and stored.status == "active" and stored.confirmed_at == NOW
    assert not store.create(make_alert("a2"), search_key="k2", max_per_address=1)


def test_put_never_recreates_a_deleted_alert(aws: None) -> None:
    store = DynamoDBAlertStore(deps.get_table(), now=Clock(NOW))
    alert = make_alert("a1")
    store.create(alert, search_key="k1", max_per_address=1)
    store.delete("a1")

    activate(store, alert)

    assert all_items() == []


def test_the_last_alert_takes_every_trace_of_the_address(aws: None) -> None:
    store = DynamoDBAlertStore(deps.get_table(), now=Clock(NOW))
    for n in range(2):
        store.create(make_alert(f"a{n}"), search_key=f"k{n}", max_per_address=5)

    store.delete("a0")
    assert any("Ada" in str(item) or address_hash(ADDRESS) in str(item) for item in all_items())
    store.delete("a1")

    assert all_items() == []


def test_delete_all_for_address_leaves_other_addresses(aws: None) -> None:
    store = DynamoDBAlertStore(deps.get_table(), now=Clock(NOW))
    for n in range(3):
        store.create(make_alert(f"a{n}"), search_key=f"k{n}", max_per_address=5)
    store.create(make_alert("b1", address="grace@example.org"), search_key="k1", max_per_address=5)

    assert store.delete_all_for_address(address_hash(ADDRESS)) == 3

    assert {item["PK"] for item in all_items()} == {
        "ALERT#b1",
        f"ALERTADDR#{address_hash('grace@example.org')}",
    }


def test_due_reads_only_active_alerts_of_the_frequency_sent_before_the_cut(aws: None) -> None:
    store = DynamoDBAlertStore(deps.get_table(), now=Clock(NOW))
    frequencies: dict[str, Frequency] = {
        "never": "daily",
        "old": "daily",
        "fresh": "daily",
        "weekly": "weekly",
    }
    for alert_id, frequency in frequencies.items():
        alert = make_alert(alert_id, address=f"{alert_id}@example.org", frequency=frequency)
        store.create(alert, search_key="k", max_per_address=5)
        activate(store, alert, frequency=frequency)
    store.create(make_alert("pending", address="p@example.org"), search_key="k", max_per_address=5)
    paused = make_alert("paused", address="q@example.org")
    store.create(paused, search_key="k", max_per_address=5)
    activate(store, paused, status="paused")
    store.advance("old", watermark="2026-12-06T08:00:00.000Z", sent_at=NOW - timedelta(days=1))
    store.advance("fresh", watermark="2026-12-07T08:00:00.000Z", sent_at=NOW - timedelta(hours=1))

    due = list(store.due("daily", sent_before=NOW - timedelta(hours=23)))

    assert [alert.alert_id for alert in due] == ["never", "old"]
    old = store.get("old")
    assert old is not None
    assert (old.watermark, old.last_sent_at) == ("2026-12-06T08:00:00.000Z", NOW - timedelta(days=1))
    assert [a.alert_id for a in store.due("weekly", sent_before=NOW)] == ["weekly"]


def test_pausing_takes_an_alert_out_of_the_due_index_and_resuming_puts_it_back(aws: None) -> None:
    store = DynamoDBAlertStore(deps.get_table(), now=Clock(NOW))
    alert = make_alert("a1")
    store.create(alert, search_key="k1", max_per_address=1)
    active = activate(store, alert)

    store.put(active.model_copy(update={"status": "paused"}))
    assert list(store.due("daily", sent_before=NOW)) == []
    store.put(active.model_copy(update={"frequency": "instant"}))

    assert [a.alert_id for a in store.due("instant", sent_before=NOW)] == ["a1"]
    assert list(store.due("daily", sent_before=NOW)) == []
