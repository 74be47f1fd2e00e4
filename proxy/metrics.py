"""Prometheus metrics and the health endpoint, served on the proxy's own admin port (--metrics-listen).

Every prompt decision is counted here, including allows that are not spooled as events. Labels carry tool ids
and actions only: never a client address, a user or any text.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger(__name__)

# Detection normally takes tens of milliseconds; the top buckets catch time-budget overruns.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One set of collectors per proxy process, on its own registry (so tests can build several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pupilguard_requests", "Requests to catalogued AI tools, by tool and decision",
            ["tool", "action"], registry=self.registry)
        self.detection_seconds = Histogram(
            "pupilguard_detection_seconds", "Time to analyse one prompt (queueing included)",
            ["tool"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.spool_depth = Gauge(
            "pupilguard_spool_depth", "Events waiting in the on-disk spool for the admin API",
            registry=self.registry)
        self.events_not_recorded = Counter(
            "pupilguard_events_not_recorded", "Events that could not be written to the spool (disk full, "
            "read-only): decisions the DPO will never see", ["reason"], registry=self.registry)
        self.delivered = Counter(
            "pupilguard_events_delivered", "Events accepted by the admin API", registry=self.registry)
        self.delivery_failures = Counter(
            "pupilguard_delivery_failures", "Failed attempts to deliver an event batch", ["reason"],
            registry=self.registry)
        self.ocr_running = Gauge(
            "pupilguard_ocr_running", "Pictures being read (OCR) or redrawn, or waiting for an OCR worker, right now", registry=self.registry)
        self.ocr_seconds = Histogram(
            "pupilguard_ocr_seconds", "Time to read the pictures of one request (queueing included)",
            buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.ocr_failures = Counter(
            "pupilguard_ocr_failures", "Pictures that could not be read (the request was refused)", ["reason"],
            registry=self.registry)
        self.allowlist_reload_errors = Counter(
            "pupilguard_allowlist_reload_errors", "Allowlist files rejected on reload (old one kept)",
            registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class AdminServer:
    """`GET /metrics` and `GET /healthz` on a small threaded HTTP server, apart from the proxy's event loop."""

    def __init__(self, host: str, port: int, metrics: Metrics, health: Callable[[], dict]) -> None:
        metrics_ref, health_ref = metrics, health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, metrics_ref.render())
                elif path == "/healthz":
                    state = health_ref()
                    code = 200 if state.get("status") == "ok" else 503
                    self._send(code, "application/json", json.dumps(state).encode())
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n")

            def _send(self, code: int, ctype: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep access logs out
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="pupilguard-metrics", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()
        log.info("metrics listening", extra={"listen": "%s:%d" % self.address})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
