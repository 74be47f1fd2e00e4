"""Centrally managed configuration: every proxy picks up the allowlist, policy and roster IT set in the admin API.

`GET {admin}/api/v1/config` (conditional on its ETag, so an unchanged poll costs a 304) gives the allowlist YAML,
the policy YAML (null = none set centrally) and the roster's ETag; `GET .../config/roster` gives the hashed roster
file, fetched only when that ETag changes.

Nothing is used before it is validated here with the same loaders the proxy runs on (a roster must open with this
proxy's roster key). Accepted files are written atomically, mode 0600, under DATA_DIR/central/, so a restart while
the admin service is down starts from the last known good configuration. The local --allowlist/--policy/--roster
files are the fallback for whatever the admin API does not set. A change that cannot be applied (the detection
workers do not start with it) is rolled back on disk and retried with backoff, so the proxy never runs on, or
restarts into, a configuration it could not use.
"""
from __future__ import annotations

import json
import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge

from detectors.ai_domains import AIDomainsError, parse_ai_domains
from detectors.allowlist import AllowlistError, load_allowlist
from detectors.policy import PolicyError, load_policy
from detectors.roster import Roster, RosterError, RosterKeySource

log = logging.getLogger(__name__)

ALLOWLIST, POLICY, ROSTER = "allowlist.yaml", "policy.yaml", "roster.pgr"
AI_DOMAINS = "ai_domains.txt"  # additions to / removals from the shipped list of uncatalogued AI domains
ENGINE_FILES = frozenset({POLICY, ROSTER})  # these need new detection workers; the allowlist reloads by itself
STATE = "state.json"  # roster ETag and time of the last successful poll, kept across restarts
MAX_BACKOFF_S = 300.0


class PollError(Exception):
    """This round failed; `reason` is a short code for the log and the metrics."""

    def __init__(self, reason: str, **detail: object) -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one; the file is 0600 (mkstemp's mode)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CentralConfig:
    """Polls the admin API in a background thread (`start()`), or once (`poll()`, e.g. before the proxy starts).

    `on_change(names)` applies changed files (already in place under `dir`); if it raises, the files are put back
    as they were and the round counts as failed (retried with backoff).
    """

    def __init__(self, admin_url: str, token: str, data_dir: Path, *, interval_s: float = 60.0,
                 verify: str | bool = True, roster_key: RosterKeySource | None = None,
                 registry: CollectorRegistry | None = None,
                 on_change: Callable[[set[str]], None] = lambda changed: None) -> None:
        self.url = admin_url.rstrip("/") + "/api/v1/config"
        self.dir = data_dir / "central"
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.dir.chmod(0o700)
        self.interval_s, self.on_change = interval_s, on_change
        self.roster_key = roster_key or RosterKeySource.of()
        self._client = httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0), verify=verify,
                                    headers={"Authorization": f"Bearer {token}", "User-Agent": "pupilguard-proxy"})
        self._etag: str | None = None  # of the config document as last fully processed
        state = self._load_state()
        self._roster_etag: str | None = state.get("roster_etag") if self.path(ROSTER) else None
        self._refused_roster: str | None = None  # ETag of a roster refused here: not downloaded again
        self._in_sync = True  # False while something the admin sent is refused (a 304 is then no success)
        self.last_success: float | None = state.get("last_success")
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pupilguard-central-config", daemon=True)
        self._metrics(registry or CollectorRegistry())

    def _metrics(self, registry: CollectorRegistry) -> None:
        self.m_last_success = Gauge(
            "pupilguard_central_config_last_success_timestamp_seconds",
            "When the admin API last confirmed this proxy's central config is current (Unix time)",
            registry=registry)
        if self.last_success:
            self.m_last_success.set(self.last_success)
        Gauge("pupilguard_central_config_age_seconds",
              "Seconds since the central config was last confirmed current (-1: never)",
              registry=registry).set_function(lambda: time.time() - self.last_success if self.last_success else -1)
        self.m_errors = Counter(
            "pupilguard_central_config_errors", "Failed config polls and refused config files, by reason",
            ["reason"], registry=registry)
        self.m_updates = Counter(
            "pupilguard_central_config_updates", "Central config files applied, by file", ["file"],
            registry=registry)

    # ---- what the rest of the proxy reads ------------------------------------------------------------------------
    def path(self, name: str) -> Path | None:
        """The centrally set file, if the admin API has set one (and we have fetched it, now or before)."""
        p = self.dir / name
        return p if p.exists() else None

    # ---- one round -------------------------------------------------------------------------------------------
    def poll(self) -> set[str]:
        """Fetch, validate, store and apply once; returns the names of the files that changed. Never raises."""
        try:
            changed = self._poll()
        except (httpx.HTTPError, httpx.InvalidURL, PollError, OSError) as exc:
            if isinstance(exc, PollError):
                reason, detail = exc.reason, exc.detail
            elif isinstance(exc, OSError) and not isinstance(exc, httpx.HTTPError):
                reason, detail = "write_failed", {"error": exc.strerror or type(exc).__name__}
            else:
                reason, detail = "unreachable", {"error": type(exc).__name__}
            self.failures += 1
            self.m_errors.labels(reason).inc()
            log.warning("central config not updated; keeping the current one",
                        extra={"reason": reason, **detail, "failures": self.failures,
                               "retry_in_s": round(self.delay(), 1)})
            return set()
        if self.failures:
            log.info("admin API reachable again; central config current", extra={"failures": self.failures})
        self.failures = 0
        if self._in_sync:
            self.last_success = time.time()
            self.m_last_success.set(self.last_success)
            self._save_state()
        return changed

    def _poll(self) -> set[str]:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        r = self._client.get(self.url, headers=headers)
        if r.status_code == 304:
            return set()
        if r.status_code != 200:
            raise PollError("http_error", status=r.status_code)
        try:
            doc = r.json()
            allowlist, policy, roster_etag = doc["allowlist"], doc["policy"], doc["roster_etag"]
        except (ValueError, KeyError, TypeError):
            raise PollError("bad_response") from None
        self._in_sync = True
        updates: dict[str, bytes | bool | None] = {}
        if allowlist:
            updates[ALLOWLIST] = self._checked(ALLOWLIST, allowlist)
        if "ai_domains" in doc:  # (an older admin service sends none: leave whatever we have)
            updates[AI_DOMAINS] = self._checked(AI_DOMAINS, doc["ai_domains"]) if doc["ai_domains"] else None
        changed = self._apply(updates)
        # no central policy: back to the local --policy (or the default); a roster is never withdrawn this way
        engine: dict[str, bytes | bool | None] = {POLICY: self._checked(POLICY, policy) if policy else None}
        fetched = None
        if roster_etag and roster_etag == self._refused_roster:
            self._in_sync = False  # still the roster refused before: not fetched again, not in use either
        elif roster_etag and roster_etag != self._roster_etag:
            fetched = self._fetch_roster()
            if fetched is not None:
                engine[ROSTER] = fetched[1]
        changed |= self._apply(engine)
        if fetched is not None and fetched[1] is not False:  # (an exception above: not applied, retried)
            self._roster_etag = fetched[0]
            self._save_state()
        self._etag = r.headers.get("ETag")
        return changed

    def _checked(self, name: str, text: str) -> bytes | bool:
        """The file's bytes if they pass the proxy's own loader; False (logged, counted) if not."""
        loader = {ALLOWLIST: load_allowlist, AI_DOMAINS: parse_ai_domains}.get(name, load_policy)
        try:
            loader(text if "\n" in text else text + "\n")  # one line would be taken for a file name
        except (AllowlistError, PolicyError, AIDomainsError) as exc:
            return self._refuse(name, "invalid_" + name.split(".")[0], str(exc))
        return text.encode()

    def _fetch_roster(self) -> tuple[str, bytes | bool] | None:
        """(ETag, file bytes) of the admin's roster, or (ETag, False) if refused; None if there is none."""
        r = self._client.get(self.url + "/roster")
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise PollError("http_error", status=r.status_code, file=ROSTER)
        etag = r.headers.get("ETag", "").strip('"') or None
        try:
            roster = Roster.load(r.content, self.roster_key.load())
        except RosterError as exc:  # RosterKeyError included: a roster hashed with another key
            self._refused_roster = etag
            return etag or "", self._refuse(ROSTER, "invalid_roster", str(exc))
        log.info("central roster verified", extra={"pupils": len(roster), "bytes": len(r.content)})
        return etag or "", r.content

    def _refuse(self, name: str, reason: str, message: str) -> bool:
        self._in_sync = False
        self.m_errors.labels(reason).inc()
        log.error("central config refused; keeping the current one", extra={"file": name, "error": message})
        return False

    def _apply(self, updates: dict[str, bytes | bool | None]) -> set[str]:
        """Write what differs from the files in place, then apply; on failure put the old files back.

        `updates` maps a file to its new bytes, None (withdrawn centrally) or False (refused: left as it is)."""
        updates = {name: data for name, data in updates.items() if data is not False}
        previous = {name: self._read(name) for name in updates}
        changed = {name for name, data in updates.items() if data != previous[name]}
        if not changed:
            return set()
        for name in changed:
            self._put(name, updates[name])
        try:
            self.on_change(changed)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the proxy keeps what it runs on
            for name in changed:
                self._put(name, previous[name])
            raise PollError("apply_failed", files=sorted(changed), error=str(exc)) from None
        for name in changed:
            self.m_updates.labels(name).inc()
        log.info("central config applied", extra={"changed": sorted(changed),
                                                  "removed": sorted(n for n in changed if updates[n] is None)})
        return changed

    # ---- files -------------------------------------------------------------------------------------------------
    def _read(self, name: str) -> bytes | None:
        try:
            return (self.dir / name).read_bytes()
        except FileNotFoundError:
            return None

    def _put(self, name: str, data: bytes | None) -> None:
        if data is None:
            (self.dir / name).unlink(missing_ok=True)
        else:
            write_atomic(self.dir / name, data)

    def _load_state(self) -> dict:
        try:
            state = json.loads((self.dir / STATE).read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _save_state(self) -> None:
        state = {"roster_etag": self._roster_etag, "last_success": self.last_success}
        write_atomic(self.dir / STATE, json.dumps(state).encode())

    # ---- background polling ------------------------------------------------------------------------------------
    def delay(self) -> float:
        """Seconds to the next poll: the interval, doubled per consecutive failure up to 5 minutes (or the
        interval, if longer), with jitter so a fleet of proxies does not return to a recovering admin at once."""
        if not self.failures:
            return self.interval_s
        backoff = min(self.interval_s * 2 ** min(self.failures, 16), max(self.interval_s, MAX_BACKOFF_S))
        return backoff * random.uniform(0.8, 1.0)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)  # a round in progress may be waiting for new workers: then leave it (daemon)
        if not self._thread.is_alive():
            self._client.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.delay()):
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - a bug must not end central config for this process
                self.failures += 1
                self.m_errors.labels("internal_error").inc()
                log.error("central config poll failed", extra={"error": type(exc).__name__})
