"""The digest schedule: one email per due alert with new matching postings, never twice, never closed."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.clock import isoformat
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.alerts import Alert, AlertSearch, Frequency
from chalicelib.models.messages import EmailRequested
from chalicelib.models.posting import Posting
from chalicelib.services.alert_digests import AlertDigestService, DigestPolicy, describe_search
from chalicelib.services.alert_links import AlertLinks
from chalicelib.services.email import EmailRenderer, to_mime
from tests.api.board_factories import make_posting
from tests.services.digest_fakes import InMemoryAlertStore, InMemoryOutbox, LiveBoard

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BASE_URL = "https://jobs.example.org/board"
LINKS = AlertLinks(b"digest-test-key-0123456789abcdef", pages_base_url=BASE_URL)


def new_posting(title: str, seen: datetime, **fields: object) -> Posting:
    posting = make_posting(title, **fields)  # type: ignore[arg-type]
    return posting.model_copy(update={"first_seen_at": seen, "changed_at": seen})


def make_alert(
    alert_id: str = "al_1",
    *,
    frequency: Frequency = "instant",
    params: dict[str, list[str]] | None = None,
    last_sent_at: datetime | None = None,
    watermark: str = "",
) -> Alert:
    return Alert(
        alert_id=alert_id,
        email=f"{alert_id}@example.org",
        email_hash=f"hash-{alert_id}",
        search=AlertSearch.from_params(params if params is not None else {"q": ["python"]}),
        frequency=frequency,
        status="active",
        created_at=NOW - timedelta(days=2, hours=1),
        confirmed_at=NOW - timedelta(days=2),
        last_sent_at=last_sent_at,
        watermark=watermark,
    )


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.ticks = 0.0
        self.step = 0.0  # seconds each monotonic reading moves on

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        self.ticks += self.step
        return self.ticks


@pytest.fixture
def board(tmp_path: Path) -> Iterator[LiveBoard]:
    old = new_posting("Python Developer", NOW - timedelta(days=5), posting_id="old-python")
    live = LiveBoard(tmp_path / "board", [old])
    yield live
    live.engine.close()


def service(
    store: InMemoryAlertStore,
    board: LiveBoard,
    outbox: InMemoryOutbox,
    clock: Clock,
    **policy: object,
) -> AlertDigestService:
    return AlertDigestService(
        store,
        board,
        outbox,
        LINKS,
        public_base_url=BASE_URL,
        policy=DigestPolicy(**{"workers": 2, **policy}),  # type: ignore[arg-type]
        clock=clock,
        monotonic=clock.monotonic,
    )


def titles(message: EmailRequested) -> list[str]:
    return [posting["title"] for posting in message.context["postings"]]


def test_digest_holds_exactly_the_new_postings_its_search_matches(board: LiveBoard) -> None:
    # GIVEN an instant alert for "python" in Berlin and new postings: two match, two do not
    store, outbox, clock = (
        InMemoryAlertStore(make_alert(params={"q": ["python"], "location": ["Berlin"]})),
        InMemoryOutbox(),
        Clock(),
    )
    first = new_posting("Python Engineer", NOW - timedelta(minutes=50), posting_id="p1")
    second = new_posting("Senior Python Engineer", NOW - timedelta(minutes=20), posting_id="p2", remote=True)
    munich = new_posting(
        "Python Engineer", NOW - timedelta(minutes=40), posting_id="p3", locations=("Munich, Germany",)
    )
    nurse = new_posting("Registered Nurse", NOW - timedelta(minutes=30), posting_id="p4")
    board.publish(first, second, munich, nurse)

    # WHEN the schedule runs
    report = service(store, board, outbox, clock).run()

    # THEN one digest holds the two matching new postings, newest first (the old one is not new)
    assert report.queued == 1 and report.due == 1
    [message] = outbox.messages
    assert titles(message) == ["Senior Python Engineer", "Python Engineer"]
    assert message.to == "al_1@example.org"
    assert message.template == "alert_digest"
    assert message.key == f"alert-digest:al_1:{isoformat(second.first_seen_at)}"  # type: ignore[arg-type]
    assert message.headers == LINKS.unsubscribe_headers("al_1")
    assert message.subject == "2 new jobs: “python”, in Berlin"
    assert message.context["total"] == 2
    assert message.context["postings"][0]["url"] == f"{BASE_URL}/jobs/{second.job_id}"
    assert message.context["postings"][0]["remote"] is True
    assert message.context["postings"][1]["locations"] == ["Berlin, Germany"]
    # AND the alert's watermark is the newest included posting's first-seen time, sent now
    alert = store.alerts["al_1"]
    assert alert.watermark == isoformat(second.first_seen_at)  # type: ignore[arg-type]
    assert alert.last_sent_at == NOW


def test_nothing_is_sent_when_nothing_is_new_and_no_posting_comes_twice(board: LiveBoard) -> None:
    # GIVEN an alert that got its digest for one posting
    store, outbox, clock = InMemoryAlertStore(make_alert()), InMemoryOutbox(), Clock()
    board.publish(new_posting("Python Engineer", NOW - timedelta(minutes=30), posting_id="p1"))
    service(store, board, outbox, clock).run()
    assert len(outbox.messages) == 1

    # WHEN the schedule runs again with nothing new
    clock.now += timedelta(minutes=15)
    report = service(store, board, outbox, clock).run()
    # THEN nothing is sent, and an instant alert is not even written to
    assert report.queued == 0 and report.nothing_new == 1
    assert len(outbox.messages) == 1
    assert len(store.advanced) == 1

    # WHEN a new posting arrives and the schedule runs
    later = new_posting("Python Data Engineer", clock.now - timedelta(minutes=5), posting_id="p2")
    board.publish(later)
    clock.now += timedelta(minutes=15)
    service(store, board, outbox, clock).run()
    # THEN the next digest holds only it
    assert titles(outbox.messages[-1]) == ["Python Data Engineer"]
    assert outbox.messages[-1].key == f"alert-digest:al_1:{isoformat(later.first_seen_at)}"  # type: ignore[arg-type]


def test_a_closed_posting_is_never_in_a_digest(board: LiveBoard) -> None:
    # GIVEN two new matching postings, one closed before the schedule runs
    store, outbox, clock = InMemoryAlertStore(make_alert()), InMemoryOutbox(), Clock()
    closed = new_posting("Python Engineer", NOW - timedelta(minutes=10), posting_id="p1")
    open_ = new_posting("Python Developer", NOW - timedelta(minutes=20), posting_id="p2")
    board.publish(closed, open_)
    board.close(closed)
    # WHEN the schedule runs
    service(store, board, outbox, clock).run()
    # THEN only the live one is sent
    assert [titles(m) for m in outbox.messages] == [["Python Developer"]]

    # AND when the only new posting is closed, nothing is sent at all
    clock.now += timedelta(minutes=15)
    gone = new_posting("Python Lead", clock.now - timedelta(minutes=5), posting_id="p3")
    board.publish(gone)
    board.close(gone)
    clock.now += timedelta(minutes=1)
    service(store, board, outbox, clock).run()
    assert len(outbox.messages) == 1


def test_a_digest_shows_the_newest_postings_and_links_to_all_on_the_board(board: LiveBoard) -> None:
    # GIVEN 30 new matching postings
    store, outbox, clock = InMemoryAlertStore(make_alert()), InMemoryOutbox(), Clock()
    postings = [
        new_posting(f"Python Engineer {n:02d}", NOW - timedelta(minutes=60 - n), posting_id=f"p{n}")
        for n in range(30)
    ]
    board.publish(*postings)
    # WHEN the schedule runs
    service(store, board, outbox, clock).run()
    # THEN the email shows the 25 newest, counts all 30 and links to the same search on the board
    [message] = outbox.messages
    assert titles(message) == [f"Python Engineer {n:02d}" for n in range(29, 4, -1)]
    assert message.context["total"] == 30
    assert message.context["board_search_url"] == f"{BASE_URL}?q=python&sort=newest"
    assert store.alerts["al_1"].watermark == isoformat(postings[-1].first_seen_at)  # type: ignore[arg-type]


def test_daily_and_weekly_alerts_are_sent_once_per_period(board: LiveBoard) -> None:
    # GIVEN a daily alert sent 23 h ago and a weekly one sent 6 days ago, and a new matching posting
    mark = isoformat(NOW - timedelta(days=6, hours=1))
    daily = make_alert("al_d", frequency="daily", last_sent_at=NOW - timedelta(hours=23), watermark=mark)
    weekly = make_alert("al_w", frequency="weekly", last_sent_at=NOW - timedelta(days=6), watermark=mark)
    store, outbox, clock = InMemoryAlertStore(daily, weekly), InMemoryOutbox(), Clock()
    board.publish(new_posting("Python Engineer", NOW - timedelta(hours=2), posting_id="p1"))

    # WHEN the schedule runs now: neither is due
    assert service(store, board, outbox, clock).run().due == 0
    assert outbox.messages == []
    # WHEN it runs an hour later: the daily one is due (24 h since its last digest)
    clock.now = NOW + timedelta(hours=1)
    service(store, board, outbox, clock).run()
    assert [m.to for m in outbox.messages] == ["al_d@example.org"]
    # WHEN it runs a day later: the weekly one is due; the daily one has nothing new, which is recorded
    clock.now = NOW + timedelta(days=1, hours=1)
    report = service(store, board, outbox, clock).run()
    assert [m.to for m in outbox.messages] == ["al_d@example.org", "al_w@example.org"]
    assert report.nothing_new == 1
    checked = store.alerts["al_d"]
    assert checked.last_sent_at == clock.now
    assert checked.watermark == isoformat(clock.now - timedelta(seconds=30))


def test_postings_first_seen_in_the_settle_margin_wait_for_the_next_run(board: LiveBoard) -> None:
    # GIVEN a posting first seen 10 seconds ago (its sync may still be writing others stamped before it)
    store, outbox, clock = InMemoryAlertStore(make_alert()), InMemoryOutbox(), Clock()
    board.publish(new_posting("Python Engineer", NOW - timedelta(seconds=10), posting_id="p1"))
    # WHEN the schedule runs now, THEN it is not sent yet
    service(store, board, outbox, clock, settle_seconds=30).run()
    assert outbox.messages == []
    # WHEN the next run comes, THEN it is
    clock.now += timedelta(minutes=15)
    service(store, board, outbox, clock, settle_seconds=30).run()
    assert [titles(m) for m in outbox.messages] == [["Python Engineer"]]


def test_a_retried_run_queues_the_same_digest_under_the_same_key(board: LiveBoard) -> None:
    # GIVEN a run whose digest was queued but whose alert could not be advanced
    store, outbox, clock = InMemoryAlertStore(make_alert()), InMemoryOutbox(), Clock()
    board.publish(new_posting("Python Engineer", NOW - timedelta(minutes=30), posting_id="p1"))
    store.fail_advance = True
    with pytest.raises(UpstreamUnavailableError):
        service(store, board, outbox, clock).run()
    assert store.alerts["al_1"].last_sent_at is None

    # WHEN the schedule runs again
    store.fail_advance = False
    clock.now += timedelta(minutes=15)
    service(store, board, outbox, clock).run()
    # THEN the same digest is queued under the same key (the email worker sends a key once)
    first, again = outbox.messages
    assert again.key == first.key
    assert again.context["postings"] == first.context["postings"]


def test_alerts_past_the_time_budget_stay_due_for_the_next_run(board: LiveBoard) -> None:
    # GIVEN five due alerts, done one per chunk, and a budget that lasts for two chunks
    alerts = [make_alert(f"al_{n}") for n in range(5)]
    store, outbox, clock = InMemoryAlertStore(*alerts), InMemoryOutbox(), Clock()
    board.publish(new_posting("Python Engineer", NOW - timedelta(minutes=30), posting_id="p1"))
    clock.step = 10.0
    # WHEN the schedule runs
    report = service(store, board, outbox, clock, chunk_size=1, time_budget_seconds=25).run()
    # THEN the alerts it reached got their digest, the others were left as they were
    assert report.queued == 2 and report.deferred == 3
    assert sum(1 for alert in store.alerts.values() if alert.last_sent_at is None) == 3
    # AND the next run sends the rest, and nobody twice
    clock.now += timedelta(minutes=15)
    clock.step = 0.0
    service(store, board, outbox, clock, chunk_size=1).run()
    assert sorted(m.to for m in outbox.messages) == sorted(f"al_{n}@example.org" for n in range(5))


def test_alerts_sharing_a_search_are_matched_once(board: LiveBoard) -> None:
    # GIVEN 40 alerts over two searches
    alerts = [
        make_alert(f"al_{n}", params={"q": ["python"]} if n % 2 else {"q": ["nurse"], "remote": ["true"]})
        for n in range(40)
    ]
    store, outbox, clock = InMemoryAlertStore(*alerts), InMemoryOutbox(), Clock()
    board.publish(new_posting("Python Engineer", NOW - timedelta(minutes=30), posting_id="p1"))
    # WHEN the schedule runs
    report = service(store, board, outbox, clock).run()
    # THEN two searches were matched, and the 20 python alerts each got their digest
    assert report.distinct_searches == 2
    assert report.queued == 20


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({}, "all jobs"),
        ({"q": ["python"]}, "“python”"),
        (
            {"q": ["data"], "location": ["Berlin", "Munich"], "remote": ["true"]},
            "“data”, in Berlin or Munich, remote",
        ),
        ({"company": ["Acme Robotics"], "remote": ["false"]}, "at Acme Robotics, on site"),
        ({"employment_type": ["contractor"], "remote": ["true", "false"]}, "type contractor"),
    ],
)
def test_the_search_is_described_in_words(params: dict[str, list[str]], words: str) -> None:
    assert describe_search(AlertSearch.from_params(params)) == words


# ---- the email ---------------------------------------------------------------------------------------
class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def test_the_digest_email_has_both_parts_the_unsubscribe_headers_and_absolute_links(board: LiveBoard) -> None:
    # GIVEN a digest queued for two new postings
    store, outbox, clock = InMemoryAlertStore(make_alert()), InMemoryOutbox(), Clock()
    remote = new_posting(
        "Python Engineer <Platform>",
        NOW - timedelta(minutes=10),
        posting_id="p1",
        remote=True,
        locations=("Berlin, Germany", "Hamburg, Germany"),
        content="You will build the data platform with Python and Kafka. " * 10,
    )
    onsite = new_posting("Python Developer", NOW - timedelta(minutes=20), posting_id="p2")
    board.publish(remote, onsite)
    service(store, board, outbox, clock).run()
    [request] = outbox.messages

    # WHEN the email worker renders it into MIME
    renderer = EmailRenderer(board_name="Unified Job Board", public_base_url=BASE_URL)
    rendered = renderer.render(
        request.template,
        to=request.to,
        subject=request.subject,
        context=request.context,
        headers=request.headers,
    )
    message = email.message_from_bytes(
        to_mime(rendered, sender="Board <jobs@example.org>", at=NOW), policy=email.policy.default
    )
    assert isinstance(message, EmailMessage)

    # THEN it has RFC 8058 one-click unsubscribe headers for this alert
    # (tokens carry the second they were signed in: the links are read back, not signed again here)
    unsubscribe = str(message["List-Unsubscribe"]).removeprefix("<").removesuffix(">")
    assert unsubscribe.startswith(f"{BASE_URL}/alerts/unsubscribe?token=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "2 new jobs: “python”"
    # AND a text part and an HTML part, each with every posting's title, company, places and excerpt
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "Python Engineer <Platform>" in text and "Python Engineer &lt;Platform&gt;" in html
    for part in (text, html):
        assert "Python Developer" in part
        assert "Acme Robotics · Berlin, Germany; Hamburg, Germany · Remote" in part
        assert "You will build the data platform with Python and Kafka." in part
        assert "“python”" in part
    # AND every link is absolute: the job pages, all results on the board, manage and unsubscribe
    parser = Links()
    parser.feed(html)
    job_urls = [f"{BASE_URL}/jobs/{remote.job_id}", f"{BASE_URL}/jobs/{onsite.job_id}"]
    manage = parser.hrefs[3] if len(parser.hrefs) > 3 else ""
    assert manage.startswith(f"{BASE_URL}/alerts/manage?token=")
    expected = [*job_urls, f"{BASE_URL}?q=python&sort=newest", manage, unsubscribe, BASE_URL]
    assert parser.hrefs == expected
    for url in expected:
        assert url in text
        assert urlsplit(url).scheme == "https"
    # AND the manage and unsubscribe tokens are this alert's, each for its own purpose
    assert LINKS.alert_id("manage", parse_qs(urlsplit(manage).query)["token"][0]) == "al_1"
    assert LINKS.alert_id("unsubscribe", parse_qs(urlsplit(unsubscribe).query)["token"][0]) == "al_1"


def test_a_new_alert_starts_at_its_confirmation_and_looks_back_at_most_eight_days(board: LiveBoard) -> None:
    # GIVEN a never-sent alert confirmed two days ago, and an instant alert last sent 30 days ago
    fresh = make_alert("al_new")
    stale = make_alert("al_old", watermark=isoformat(NOW - timedelta(days=30)))
    store, outbox, clock = InMemoryAlertStore(fresh, stale), InMemoryOutbox(), Clock()
    board.publish(
        new_posting("Python Engineer A", NOW - timedelta(days=10), posting_id="p10d"),
        new_posting("Python Engineer B", NOW - timedelta(days=3), posting_id="p3d"),
        new_posting("Python Engineer C", NOW - timedelta(days=1), posting_id="p1d"),
    )
    # WHEN the schedule runs
    service(store, board, outbox, clock).run()
    # THEN the new alert gets only what came after its confirmation, the old one the last 8 days
    by_alert = {m.to: titles(m) for m in outbox.messages}
    assert by_alert == {
        "al_new@example.org": ["Python Engineer C"],
        # (the board's "Python Developer" was first seen 5 days ago)
        "al_old@example.org": ["Python Engineer C", "Python Engineer B", "Python Developer"],
    }


class BrokenOutbox(InMemoryOutbox):
    def enqueue(self, messages: Sequence[EmailRequested]) -> int:
        self.calls += 1
        raise UpstreamUnavailableError("the email queue is down", code="email_queue_unavailable")


def test_when_the_email_queue_fails_the_run_fails_and_no_alert_is_advanced(board: LiveBoard) -> None:
    # GIVEN 30 due alerts with news and an email queue that refuses everything
    alerts = [make_alert(f"al_{n}") for n in range(30)]
    store, outbox, clock = InMemoryAlertStore(*alerts), BrokenOutbox(), Clock()
    board.publish(new_posting("Python Engineer", NOW - timedelta(minutes=30), posting_id="p1"))
    # WHEN the schedule runs (one alert per chunk, one worker: at most two chunks pending)
    with pytest.raises(UpstreamUnavailableError):
        service(store, board, outbox, clock, chunk_size=1, workers=1).run()
    # THEN it stopped early and nothing was recorded: every alert is due again on the next run
    assert outbox.calls < 30
    assert store.advanced == []
