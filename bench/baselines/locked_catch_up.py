"""The board's catch-up as it was before batching (vendored from ad73d97), for `bench.board_catchup`.

Beside the request, it read every shard's change feed, then decoded every changed item, built its
document and applied it, all under the service's lock, and committed once: a request arriving meanwhile
waited for the whole burst. After a snapshot switch it left the retired engine's memory to the allocator.
"""

from __future__ import annotations

import threading
import time

from chalicelib.errors import AppError
from chalicelib.observability import logger
from chalicelib.services.board.service import BoardService


class LockedCatchUpBoardService(BoardService):
    """BoardService whose background catch-up applies everything under the lock in one go."""

    def _background_catch_up(self, progress: threading.Event) -> None:
        # The request that started it waits for all of it (at most `read_wait_seconds`): `progress` is
        # set only at the end, as the thread's join was.
        try:
            started = time.perf_counter()
            try:
                if self._monotonic() - self._checked_at >= self._snapshot_check_seconds:
                    self._maybe_switch()
                pages = self._read_feeds()
            except AppError as exc:
                with self._lock:
                    self.stats.refresh_failures += 1
                    self._refreshed_at = self._monotonic()
                logger.warning("board refresh failed", extra={"error_code": exc.code})
                return
            with self._lock:
                assert self._engine is not None
                for records in pages:
                    for record in records:
                        self._apply(record)  # decode, build the document and upsert, lock held
                self._engine.commit()
                self._behind = any(feed.resume is not None for feed in self._feeds)
                self._refreshed_at = self._monotonic()
                self.stats.extra["catch_up_seconds"] = time.perf_counter() - started
        except Exception:
            logger.exception("board refresh crashed")
            with self._lock:
                self.stats.refresh_failures += 1
                self._refreshed_at = self._monotonic()
        finally:
            with self._lock:
                self._refresh = self._progress = None
            progress.set()
