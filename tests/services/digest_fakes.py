"""In-memory stand-ins for the digest schedule: the alert store, the email outbox and a board to post to."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from chalicelib.clock import isoformat
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.alerts import Alert, Frequency
from chalicelib.models.messages import EmailRequested
from chalicelib.models.posting import Posting
from chalicelib.services.board.engine import BoardDocument, BoardEngine, board_document


class InMemoryAlertStore:
    """AlertStore in memory (thread-safe: the digest service records alerts from worker threads)."""

    def __init__(self, *alerts: Alert) -> None:
        self.alerts: dict[str, Alert] = {alert.alert_id: alert for alert in alerts}
        self.advanced: list[tuple[str, str, datetime]] = []
        self.fail_advance = False
        self._lock = threading.Lock()

    def put(self, alert: Alert) -> None:
        with self._lock:
            self.alerts[alert.alert_id] = alert

    def get(self, alert_id: str) -> Alert | None:
        return self.alerts.get(alert_id)

    def delete(self, alert_id: str) -> None:
        with self._lock:
            self.alerts.pop(alert_id, None)

    def count_for_address(self, email_hash: str) -> int:
        return sum(1 for alert in self.alerts.values() if alert.email_hash == email_hash)

    def delete_all_for_address(self, email_hash: str) -> int:
        with self._lock:
            doomed = [key for key, alert in self.alerts.items() if alert.email_hash == email_hash]
            for key in doomed:
                del self.alerts[key]
            return len(doomed)

    def due(self, frequency: Frequency, *, sent_before: datetime) -> Iterator[Alert]:
        return iter(
            [
                alert
                for alert in self.alerts.values()
                if alert.status == "active"
                and alert.frequency == frequency
                and (alert.last_sent_at is None or alert.last_sent_at < sent_before)
            ]
        )

    def advance(self, alert_id: str, *, watermark: str, sent_at: datetime) -> None:
        if self.fail_advance:
            raise UpstreamUnavailableError("the alert store is down", code="alerts_unavailable")
        with self._lock:
            alert = self.alerts[alert_id]
            self.alerts[alert_id] = alert.model_copy(update={"watermark": watermark, "last_sent_at": sent_at})
            self.advanced.append((alert_id, watermark, sent_at))


class InMemoryOutbox:
    """EmailOutbox that keeps every queued message."""

    def __init__(self) -> None:
        self.messages: list[EmailRequested] = []
        self.calls = 0
        self._lock = threading.Lock()

    def enqueue(self, messages: Sequence[EmailRequested]) -> int:
        with self._lock:
            self.calls += 1
            self.messages.extend(messages)
        return len(messages)


class LiveBoard:
    """A board engine on disk that postings are added to and closed on, as the change feed does."""

    def __init__(self, directory: Path, postings: Sequence[Posting] = ()) -> None:
        BoardEngine.create(directory, [self._document(posting) for posting in postings])
        self.engine = BoardEngine(directory)
        self.reads = 0

    @staticmethod
    def _document(posting: Posting) -> BoardDocument:
        assert posting.changed_at is not None
        key = f"{isoformat(posting.changed_at)}#{posting.job_id}"
        return board_document(posting, content_hash=posting.posting_id, changed_key=key)

    def publish(self, *postings: Posting) -> None:
        for posting in postings:
            self.engine.upsert(self._document(posting))
        self.engine.commit()

    def close(self, posting: Posting) -> None:
        self.engine.remove(posting.job_id)
        self.engine.commit()

    def __call__(self) -> BoardEngine:
        self.reads += 1
        return self.engine
