"""Debian's Chromium driven by Playwright, and an app served for it by uvicorn on a loopback port."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container: no sandbox, no GPU, and nothing that phones home during a test.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# Screenshots the tests take for people to look at (kept after the run; CI can publish them).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@contextlib.contextmanager
def serving(app, port: int) -> Iterator[None]:
    """The app served by uvicorn on 127.0.0.1:port in a thread, until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
