"""The live allowlist: reloaded when its file changes, without restarting the proxy.

A file that fails validation on reload is refused: the proxy keeps the allowlist it had and logs the error
(with the line to fix), so a typo by IT never opens or closes every tool at once.

Several candidate files may be given, first one present wins: the centrally managed copy (proxy/central.py),
then the local --allowlist file.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from detectors.allowlist import Allowlist, AllowlistError, load_allowlist

log = logging.getLogger(__name__)


class AllowlistWatcher:
    def __init__(self, *paths: str | Path, check_interval_s: float = 1.0,
                 on_error: Callable[[str], None] = lambda message: None) -> None:
        self.paths = [Path(p) for p in paths]
        self.check_interval_s = check_interval_s
        self.on_error = on_error
        self._lock = threading.Lock()
        self.path = self._source()
        self._stamp = self._stat()
        self._allowlist = load_allowlist(self.path)  # at start-up a bad file is fatal (AllowlistError)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="pupilguard-allowlist", daemon=True)

    @property
    def current(self) -> Allowlist:
        """The allowlist to decide with (replaced whole on reload, so readers never see a half-updated one)."""
        return self._allowlist

    def start(self) -> None:
        """Watch the file's mtime in the background, so a change (or a broken file) is noticed without traffic."""
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _poll(self) -> None:
        while not self._stop.wait(self.check_interval_s):
            self.check()

    def check(self) -> None:
        with self._lock:
            self._maybe_reload()

    def _source(self) -> Path:
        return next((p for p in self.paths if p.exists()), self.paths[-1])

    def _stat(self) -> tuple[str, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return str(self.path), st.st_mtime_ns, st.st_size

    def _maybe_reload(self) -> None:
        self.path = self._source()
        stamp = self._stat()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            new = load_allowlist(self.path)
        except AllowlistError as exc:
            log.error("allowlist not reloaded; keeping the previous one", extra={"error": str(exc)})
            self.on_error(str(exc))
            return
        self._allowlist = new
        log.info("allowlist reloaded", extra={"path": str(self.path), "tools": len(new.tools)})
