"""The live allowlist: reloaded when its file changes, without restarting the proxy.

A file that fails validation on reload is refused: the proxy keeps the allowlist it had and logs the error
(with the line to fix), so a typo by IT never opens or closes every tool at once.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from detectors.allowlist import Allowlist, AllowlistError, load_allowlist

log = logging.getLogger(__name__)


class AllowlistWatcher:
    def __init__(self, path: str | Path, *, check_interval_s: float = 1.0,
                 on_error: Callable[[str], None] = lambda message: None) -> None:
        self.path = Path(path)
        self.check_interval_s = check_interval_s
        self.on_error = on_error
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._allowlist = load_allowlist(self.path)  # at start-up a bad file is fatal (AllowlistError)
        self._next_check = time.monotonic() + check_interval_s

    @property
    def current(self) -> Allowlist:
        """The allowlist to decide with; checks the file's mtime at most once per interval."""
        now = time.monotonic()
        if now >= self._next_check:
            with self._lock:
                if now >= self._next_check:
                    self._next_check = now + self.check_interval_s
                    self._maybe_reload()
        return self._allowlist

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _maybe_reload(self) -> None:
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
