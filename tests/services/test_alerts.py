"""AlertService with in-memory collaborators: sign-up rules, double opt-in, manage, unsubscribe."""

from __future__ import annotations

import email
import email.policy
import itertools
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.aws.email_suppressions import address_hash as stored_address_hash
from chalicelib.errors import NotFoundError, ThrottledError
from chalicelib.models.alerts import Alert, AlertSearch, Frequency
from chalicelib.models.messages import EmailRequested
from chalicelib.services.alert_links import AlertLinks
from chalicelib.services.alerts import (
    AlertPolicy,
    AlertService,
    address_hash,
    describe_search,
    search_key,
    search_url,
)
from chalicelib.services.email import EmailRenderer, to_mime

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BOARD = "https://jobs.example.org/board"
SEARCH = AlertSearch.from_params({"q": ["python"], "location": ["Berlin", "Munich"], "remote": ["true"]})


class InMemoryAlertStore:
    def __init__(self) -> None:
        self.alerts: dict[str, Alert] = {}
        self.keys: dict[str, str] = {}

    def create(self, alert: Alert, *, search_key: str, max_per_address: int) -> bool:
        if self.count_for_address(alert.email_hash) >= max_per_address:
            return False
        self.alerts[alert.alert_id] = alert
        self.keys[alert.alert_id] = search_key
        return True

    def search_keys(self, email_hash: str) -> dict[str, str]:
        return {self.keys[a.alert_id]: a.alert_id for a in self.alerts.values() if a.email_hash == email_hash}

    def put(self, alert: Alert) -> None:
        if alert.alert_id in self.alerts:
            self.alerts[alert.alert_id] = alert

    def get(self, alert_id: str) -> Alert | None:
        return self.alerts.get(alert_id)

    def delete(self, alert_id: str) -> None:
        self.alerts.pop(alert_id, None)

    def count_for_address(self, email_hash: str) -> int:
        return sum(1 for alert in self.alerts.values() if alert.email_hash == email_hash)

    def delete_all_for_address(self, email_hash: str) -> int:
        doomed = [a.alert_id for a in self.alerts.values() if a.email_hash == email_hash]
        for alert_id in doomed:
            self.delete(alert_id)
        return len(doomed)

    def due(self, frequency: Frequency, *, sent_before: datetime) -> Iterator[Alert]:
        return iter([])

    def advance(self, alert_id: str, *, watermark: str, sent_at: datetime) -> None:
        return None


class InMemoryOutbox:
    def __init__(self) -> None:
        self.sent: list[EmailRequested] = []

    def enqueue(self, messages: Sequence[EmailRequested]) -> int:
        self.sent.extend(messages)
        return len(messages)


class InMemoryCounters:
    def __init__(self) -> None:
        self.hits: dict[tuple[str, str, int], int] = {}

    def hit(self, scope: str, subject: str, *, window_start: int, window_seconds: int, limit: int) -> bool:
        key = (scope, subject, window_start)
        if self.hits.get(key, 0) >= limit:
            return False
        self.hits[key] = self.hits.get(key, 0) + 1
        return True


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


class World:
    def __init__(self, **policy: int) -> None:
        self.store = InMemoryAlertStore()
        self.outbox = InMemoryOutbox()
        self.counters = InMemoryCounters()
        self.clock = Clock()
        self.links = AlertLinks(b"k" * 32, pages_base_url=BOARD)
        ids = (f"alert{n}" for n in itertools.count(1))
        self.service = AlertService(
            self.store,
            self.outbox,
            self.links,
            self.counters,
            AlertPolicy(board_url=BOARD, salt="s", **policy),
            now=self.clock,
            new_id=lambda: next(ids),
        )

    def subscribe(
        self, email: str = "Ada@Example.org", search: AlertSearch = SEARCH, client: str = "198.51.100.7"
    ) -> None:
        self.service.subscribe(email, search, "daily", client=client)

    def token(self, message: EmailRequested) -> str:
        return parse_qs(urlsplit(str(message.context["confirm_url"])).query)["token"][0]


def test_a_sign_up_stores_a_pending_alert_and_queues_one_confirmation() -> None:
    world = World()

    world.subscribe()

    alert = world.store.alerts["alert1"]
    assert (alert.status, alert.email, alert.frequency) == ("pending", "Ada@Example.org", "daily")
    assert alert.email_hash == stored_address_hash("ada@example.org") == address_hash(" ADA@example.org ")
    assert alert.expires_at == int((NOW + timedelta(days=7)).timestamp())
    [message] = world.outbox.sent
    assert (message.key, message.template, message.to) == (
        "alert-confirm:alert1",
        "alert_confirm",
        "Ada@Example.org",
    )
    assert world.links.alert_id("confirm", world.token(message)) == "alert1"
    assert message.context["search_url"] == f"{BOARD}?q=python&location=Berlin&location=Munich&remote=true"
    assert (
        message.subject
        == "Confirm your job alert: \u201cpython\u201d \u00b7 Remote \u00b7 Location: Berlin, Munich"
    )


def test_the_confirmation_email_has_both_parts_with_absolute_links() -> None:
    world = World()
    world.subscribe()
    [message] = world.outbox.sent
    rendered = EmailRenderer(board_name="Jobs", public_base_url=BOARD).render(
        message.template, to=message.to, subject=message.subject, context=message.context
    )

    mime = email.message_from_bytes(
        to_mime(rendered, sender="Jobs <jobs@example.org>", at=NOW), policy=email.policy.default
    )

    assert isinstance(mime, EmailMessage)
    assert (mime["To"], mime["Subject"]) == ("Ada@Example.org", message.subject)
    text, html = (part.get_content() for part in mime.iter_parts())
    confirm_url = message.context["confirm_url"]
    hrefs = re.findall(r'href="([^"]+)"', html.replace("&amp;", "&"))
    assert hrefs == [message.context["search_url"], confirm_url, BOARD]
    assert f"Confirm the alert: {confirm_url}" in text
    assert "\u201cpython\u201d \u00b7 Remote" in text and "deleted after 7 days" in text
    assert "Confirm the alert" in html and 'style="' in html


def test_confirming_activates_once_with_the_watermark_at_confirmation() -> None:
    world = World()
    world.subscribe()
    token = world.token(world.outbox.sent[0])
    world.clock.at = NOW + timedelta(hours=2)

    confirmed = world.service.confirm(token)
    world.clock.at = NOW + timedelta(hours=5)
    again = world.service.confirm(token)

    assert (confirmed.status, confirmed.confirmed_at, confirmed.expires_at) == (
        "active",
        NOW + timedelta(hours=2),
        None,
    )
    assert confirmed.watermark == "2026-12-07T11:00:00.000Z"
    assert again == confirmed == world.store.alerts["alert1"]


@pytest.mark.parametrize("state", ["active", "paused"])
def test_the_same_search_again_changes_nothing_and_sends_nothing(state: str) -> None:
    world = World()
    world.subscribe()
    world.service.confirm(world.token(world.outbox.sent[0]))
    if state == "paused":
        world.service.change(world.links.token("manage", "alert1"), "pause")
    before = dict(world.store.alerts)

    world.subscribe(email="ada@example.org ")

    assert world.store.alerts == before
    assert len(world.outbox.sent) == 1


def test_the_same_unconfirmed_search_again_resends_its_confirmation() -> None:
    world = World()
    world.subscribe()
    world.clock.at = NOW + timedelta(minutes=5)

    world.subscribe()

    assert list(world.store.alerts) == ["alert1"]
    first, second = world.outbox.sent
    assert second.key == f"alert-confirm:alert1:{int(world.clock.at.timestamp())}" != first.key
    assert world.links.alert_id("confirm", world.token(second)) == "alert1"


def test_over_the_cap_nothing_is_stored_or_sent() -> None:
    world = World(max_per_address=2, address_limit=10)
    searches = [AlertSearch.from_params({"q": [word]}) for word in ("a", "b", "c")]

    for search in searches:
        world.subscribe(search=search)

    assert list(world.store.alerts) == ["alert1", "alert2"]
    assert len(world.outbox.sent) == 2


def test_the_address_limit_drops_sign_ups_silently() -> None:
    world = World(address_limit=2)

    for word in ("a", "b", "c"):
        world.subscribe(search=AlertSearch.from_params({"q": [word]}), client=f"203.0.113.{len(word)}{word}")

    assert len(world.store.alerts) == len(world.outbox.sent) == 2
    world.clock.at = NOW + timedelta(days=1)
    world.subscribe(search=AlertSearch.from_params({"q": ["d"]}))
    assert len(world.store.alerts) == 3


def test_the_client_limit_answers_throttled_before_anything_else() -> None:
    world = World(client_limit=2)
    world.subscribe(email="a@example.org")
    world.subscribe(email="b@example.org")

    with pytest.raises(ThrottledError) as raised:
        world.subscribe(email="c@example.org")

    assert raised.value.code == "rate_limited"
    assert 0 < raised.value.retry_after <= 3600
    assert len(world.store.alerts) == 2
    world.subscribe(email="c@example.org", client="192.0.2.1")
    assert len(world.store.alerts) == 3


def test_manage_changes_frequency_pauses_resumes_and_deletes() -> None:
    world = World()
    world.subscribe()
    world.service.confirm(world.token(world.outbox.sent[0]))
    manage = world.links.token("manage", "alert1")

    assert world.service.change(manage, "frequency", "weekly") == world.store.alerts["alert1"]
    assert world.store.alerts["alert1"].frequency == "weekly"
    world.service.change(manage, "pause")
    assert world.store.alerts["alert1"].status == "paused"
    world.clock.at = NOW + timedelta(days=3)
    resumed = world.service.change(manage, "resume")
    assert resumed is not None and resumed.status == "active"
    assert resumed.watermark == "2026-12-10T09:00:00.000Z"
    assert world.service.change(manage, "delete") is None
    assert world.store.alerts == {}
    with pytest.raises(NotFoundError):
        world.service.manage(manage)


def test_every_bad_token_is_the_same_not_found() -> None:
    world = World()
    world.subscribe()
    confirm = world.token(world.outbox.sent[0])
    other = AlertLinks(b"x" * 32, pages_base_url=BOARD)
    bad = [
        (world.service.confirm, world.links.token("manage", "alert1")),  # wrong purpose
        (world.service.confirm, world.links.token("confirm", "alert9")),  # no such alert
        (world.service.confirm, other.token("confirm", "alert1")),  # another key
        (world.service.confirm, confirm[:-2] + "xx"),  # altered
        (world.service.manage, world.links.token("manage", "alert1")),  # not confirmed yet
        (world.service.check_unsubscribe, confirm),
        (world.service.unsubscribe, confirm),
    ]

    for action, token in bad:
        with pytest.raises(NotFoundError) as raised:
            action(token)
        assert raised.value.code == "alert_link_invalid"
    assert world.store.alerts["alert1"].status == "pending"


def test_unsubscribe_deletes_the_alert_and_repeating_it_is_still_fine() -> None:
    world = World()
    world.subscribe()
    world.subscribe(email="grace@example.org")
    token = world.links.token("unsubscribe", "alert1")

    world.service.check_unsubscribe(token)
    world.service.unsubscribe(token)
    world.service.unsubscribe(token)

    assert list(world.store.alerts) == ["alert2"]


def test_searches_describe_themselves_and_link_to_the_board() -> None:
    everything = AlertSearch.from_params({})
    typed = AlertSearch.from_params({"employment_type": ["full_time"], "remote": ["false"]})

    assert describe_search(everything) == "All jobs"
    assert search_url(BOARD, everything) == BOARD
    assert describe_search(typed) == "On-site \u00b7 Employment type: Full time"
    assert search_key(typed) == search_key(
        AlertSearch.from_params({"remote": ["false"], "employment_type": ["full_time", " "]})
    )
    assert search_key(typed) != search_key(everything)
