"""Centrally managed configuration: every proxy picks up the allowlist, policy and roster IT set in the admin API.

`GET {admin}/api/v1/config` (conditional on its ETag, so an unchanged poll costs a 304) gives the allowlist YAML,
the policy YAML (null = none set centrally) and the roster's ETag; `GET .../config/roster` gives the hashed roster
file. What arrives is written atomically under DATA_DIR/central/ and so survives restarts and admin outages. The
local --allowlist/--policy/--roster files are the fallback for whatever the admin API does not set.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from detectors.allowlist import AllowlistError, load_allowlist

log = logging.getLogger(__name__)

ALLOWLIST, POLICY, ROSTER = "allowlist.yaml", "policy.yaml", "roster.pgr"


def write_atomic(path: Path, data: bytes) -> None:
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
    def __init__(self, admin_url: str, token: str, data_dir: Path, *, interval_s: float = 60.0,
                 verify: str | bool = True, on_change: Callable[[set[str]], None] = lambda changed: None) -> None:
        self.url = admin_url.rstrip("/") + "/api/v1/config"
        self.dir = data_dir / "central"
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.interval_s, self.on_change = interval_s, on_change
        self._client = httpx.Client(timeout=15, verify=verify, headers={"Authorization": f"Bearer {token}"})
        self._etags: dict[str, str] = {}
        self._roster_etag = self._read(".roster-etag")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pupilguard-central-config", daemon=True)

    def path(self, name: str) -> Path | None:
        """The centrally set file, if the admin API has set one (and we have fetched it, now or before)."""
        p = self.dir / name
        return p if p.exists() else None

    def poll(self) -> set[str]:
        """Fetch once; returns the names of the files that changed. Network/admin errors are logged, not raised."""
        try:
            return self._poll()
        except httpx.HTTPError as exc:
            log.warning("central config not reachable; keeping the last one", extra={"error": type(exc).__name__})
            return set()

    def _poll(self) -> set[str]:
        headers = {"If-None-Match": self._etags["config"]} if "config" in self._etags else {}
        r = self._client.get(self.url, headers=headers)
        if r.status_code == 304:
            return set()
        if r.status_code != 200:
            log.warning("central config refused", extra={"status": r.status_code})
            return set()
        doc = r.json()
        changed: set[str] = set()
        allowlist = doc.get("allowlist")
        if allowlist:
            try:
                load_allowlist(allowlist if "\n" in allowlist else allowlist + "\n")
            except AllowlistError as exc:
                log.error("central allowlist is invalid; keeping the previous one", extra={"error": str(exc)})
            else:
                changed |= self._store(ALLOWLIST, allowlist.encode())
        changed |= self._store(POLICY, doc["policy"].encode()) if doc.get("policy") else self._drop(POLICY)
        roster_etag = doc.get("roster_etag")
        if roster_etag and roster_etag != self._roster_etag:
            rr = self._client.get(self.url + "/roster")
            if rr.status_code == 200:
                changed |= self._store(ROSTER, rr.content)
                self._roster_etag = roster_etag
                write_atomic(self.dir / ".roster-etag", roster_etag.encode())
        if "ETag" in r.headers:
            self._etags["config"] = r.headers["ETag"]
        if changed:
            log.info("central config updated", extra={"changed": sorted(changed)})
        return changed

    def _store(self, name: str, data: bytes) -> set[str]:
        path = self.dir / name
        if path.exists() and path.read_bytes() == data:
            return set()
        write_atomic(path, data)
        path.chmod(0o600)
        return {name}

    def _drop(self, name: str) -> set[str]:
        path = self.dir / name
        if not path.exists():
            return set()
        path.unlink()
        return {name}

    def _read(self, name: str) -> str | None:
        p = self.dir / name
        return p.read_text().strip() if p.exists() else None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            changed = self.poll()
            if changed:
                try:
                    self.on_change(changed)
                except Exception as exc:  # noqa: BLE001 - keep polling whatever one apply step did
                    log.error("could not apply central config", extra={"error": type(exc).__name__})
