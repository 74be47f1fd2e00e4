"""A durable on-disk queue of events, and the loop that delivers them to the admin API.

Events are written to SQLite (WAL mode) under DATA_DIR/spool before anything else happens to them, and deleted
only once the admin API has accepted them. A write that fails (disk full, read-only or vanished file system)
raises SpoolError and leaves `failure` set until a write succeeds again: the proxy then refuses the prompts it
cannot record, counts each lost event and reports itself unhealthy. If the admin API is down, unreachable or not configured, they wait;
if the proxy restarts, they are still there. Delivery is at least once; the admin API stores each event_id once,
so a retry after a lost reply does no harm.
"""
from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from detectors.events import Event

log = logging.getLogger(__name__)

BATCH_MAX = 500  # EventBatch's limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body     TEXT NOT NULL
);
-- events the admin API rejected as invalid (HTTP 422): kept for inspection, never retried automatically
CREATE TABLE IF NOT EXISTS rejected (
    event_id TEXT PRIMARY KEY,
    body     TEXT NOT NULL,
    detail   TEXT NOT NULL
);
"""


class SpoolError(OSError):
    """An event could not be written; the message is SQLite's error name (SQLITE_FULL, SQLITE_READONLY...)."""


class Spool:
    """Thread-safe; one connection guarded by a lock (writes are tiny and rare next to prompt analysis)."""

    failure: str | None = None  # why the last write failed; None once one succeeds

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory.chmod(0o700)  # also when it already existed (an installer's or a volume's 0755)
        self.path = self.directory / "events.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed event survives a crash or kill of the proxy process; only an OS crash or power
        # loss can lose the last few milliseconds.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.path.chmod(0o600)
        self._lock = threading.Lock()
        self.wakeup = threading.Event()

    def put(self, event: Event) -> None:
        """Write one event durably, or raise SpoolError."""
        body = event.model_dump_json()
        try:
            with self._lock:
                self._db.execute("INSERT OR IGNORE INTO events (event_id, body) VALUES (?, ?)",
                                 (str(event.event_id), body))
        except sqlite3.Error as exc:
            self.failure = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
            raise SpoolError(self.failure) from None
        self.failure = None
        self.wakeup.set()

    def peek(self, limit: int = BATCH_MAX) -> list[tuple[int, str]]:
        with self._lock:
            return self._db.execute("SELECT seq, body FROM events ORDER BY seq LIMIT ?", (limit,)).fetchall()

    def remove(self, seqs: list[int]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM events WHERE seq = ?", [(s,) for s in seqs])

    def reject(self, seq: int, body: str, detail: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO rejected (event_id, body, detail) VALUES "
                             "(json_extract(?, '$.event_id'), ?, ?)", (body, body, detail))
            self._db.execute("DELETE FROM events WHERE seq = ?", (seq,))
            self._db.execute("COMMIT")

    def depth(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM events").fetchone()[0]

    def rejected_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM rejected").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class DeliveryError(Exception):
    def __init__(self, reason: str, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.retry = reason, retry


class Delivery:
    """Background thread: send spooled events to `POST {admin_url}/api/v1/events` in batches, with backoff."""

    def __init__(self, spool: Spool, admin_url: str | None, token: str | None, *,
                 interval_s: float = 1.0, max_backoff_s: float = 60.0, timeout_s: float = 10.0,
                 verify: str | bool = True, on_delivered: Callable[[int], None] = lambda n: None,
                 on_failure: Callable[[str], None] = lambda reason: None) -> None:
        self.spool, self.token = spool, token
        self.url = admin_url.rstrip("/") + "/api/v1/events" if admin_url else None
        self.interval_s, self.max_backoff_s = interval_s, max_backoff_s
        self.on_delivered, self.on_failure = on_delivered, on_failure
        self._client = httpx.Client(timeout=timeout_s, verify=verify)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pupilguard-delivery", daemon=True)
        self.failures = 0  # consecutive

    def start(self) -> None:
        if self.url is None:
            log.warning("no --admin-url: events stay in the spool until one is configured")
            return
        self._thread.start()

    def stop(self, flush_timeout_s: float = 5.0) -> None:
        """Stop; first try briefly to deliver what is waiting (whatever is left stays in the spool)."""
        if self._thread.is_alive():
            deadline = time.monotonic() + flush_timeout_s
            while self.failures == 0 and self.spool.depth() and time.monotonic() < deadline:
                self.spool.wakeup.set()
                time.sleep(0.05)
            self._stop.set()
            self.spool.wakeup.set()
            self._thread.join(flush_timeout_s + 5)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.deliver_once()
            except DeliveryError as exc:
                self.failures += 1
                self.on_failure(exc.reason)
                delay = min(self.max_backoff_s, self.interval_s * 2 ** min(self.failures, 10))
                delay *= random.uniform(0.5, 1.0)  # jitter: proxies of a trust don't retry in step
                log.warning("event delivery failed; will retry",
                            extra={"reason": exc.reason, "retry_in_s": round(delay, 1),
                                   "spooled": self.spool.depth()})
                self._stop.wait(delay)
                continue
            self.failures = 0
            if not sent:  # nothing waiting: sleep until an event arrives (or the interval passes)
                self.spool.wakeup.wait(self.interval_s)
                self.spool.wakeup.clear()

    def deliver_once(self) -> int:
        """Send one batch; returns how many events left the spool. Raises DeliveryError to back off."""
        rows = self.spool.peek(BATCH_MAX)
        if not rows or self.url is None:
            return 0
        status, detail = self._post([body for _, body in rows])
        if status == 200:
            self.spool.remove([seq for seq, _ in rows])
            self.on_delivered(len(rows))
            return len(rows)
        if status == 422:
            # Some event in the batch is invalid for this admin version: find it one at a time, keep the rest.
            moved = 0
            for seq, body in rows:
                one, why = self._post([body])
                if one == 200:
                    self.spool.remove([seq])
                    self.on_delivered(1)
                elif one == 422:
                    self.spool.reject(seq, body, why[:2000])
                    log.error("admin API rejected an event; kept in the spool's rejected table",
                              extra={"status": one})
                else:
                    raise DeliveryError(f"http_{one}")
                moved += 1
            return moved
        raise DeliveryError("unauthorised" if status in (401, 403) else f"http_{status}")

    def _post(self, bodies: list[str]) -> tuple[int, str]:
        payload = '{"events":[' + ",".join(bodies) + "]}"
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._client.post(self.url, content=payload.encode(), headers=headers)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise DeliveryError(type(exc).__name__) from None
        return response.status_code, response.text

