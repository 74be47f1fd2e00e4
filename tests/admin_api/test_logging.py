"""The admin service logs as the proxy does: one JSON object per line on stderr (detectors.logs), uvicorn's start-up
and request lines included, an exception by its class only."""
from __future__ import annotations

import io
import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from detectors.logs import JsonFormatter

REPO = Path(__file__).resolve().parents[2]


def test_a_log_line_is_json_with_extras_and_the_exception_class_only():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("pupilguard.test_logging")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("roster %s refused", "r.pgr", extra={"reason": "another key"})
        try:
            raise ValueError("Oliver Smith, UPN T801200115100")  # request data in an exception message
        except ValueError:
            log.exception("analysis failed")
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "warning" and first["logger"] == "pupilguard.test_logging"
    assert first["message"] == "roster r.pgr refused" and first["reason"] == "another key"
    assert first["time"].endswith("Z")
    assert second["level"] == "error" and second["error"] == "ValueError"
    assert "Oliver" not in stream.getvalue() and "T801200115100" not in stream.getvalue()


@pytest.mark.e2e
def test_admin_serve_writes_json_lines(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "detectors.cli", "admin", "serve", "--listen", f"127.0.0.1:{port}",
         "--data-dir", str(tmp_path)], cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    lines = [line for line in stderr.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    loggers = {r["logger"] for r in records}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers, stderr
    assert any("GET /login" in r["message"] for r in records if r["logger"] == "uvicorn.access")
    # nothing else on stderr but the set-up reminder the CLI prints before serving
    others = [line for line in stderr.splitlines() if not line.startswith("{")]
    assert all(line.startswith("pupilguard admin: alerts are not confirmed") for line in others), others
