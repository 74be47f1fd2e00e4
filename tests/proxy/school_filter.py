"""A mitmproxy script playing a school's existing filtering proxy (Smoothwall/Fortinet/Squid-style, with HTTPS
inspection and proxy authentication) for the chaining tests: it records, one JSON line per event, every CONNECT
it is asked for and every request it sees inside (host, path, body), then sends all of it to the fake upstream
whose address is in $SCHOOL_FILTER_UPSTREAM."""
from __future__ import annotations

import json
import os
import threading

from mitmproxy import http

_LOG = os.environ["SCHOOL_FILTER_LOG"]
_HOST, _PORT = os.environ["SCHOOL_FILTER_UPSTREAM"].rsplit(":", 1)
_lock = threading.Lock()


def _write(record: dict) -> None:
    with _lock, open(_LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


class Recorder:
    def http_connect(self, flow: http.HTTPFlow) -> None:
        _write({"kind": "connect", "authority": flow.request.authority or flow.request.host,
                "refused": flow.response is not None})

    def request(self, flow: http.HTTPFlow) -> None:
        _write({"kind": "request", "host": flow.request.host_header or flow.request.host, "path": flow.request.path,
                "body": (flow.request.content or b"").decode("utf-8", "replace")})
        host_header = flow.request.host_header
        flow.request.host, flow.request.port = _HOST, int(_PORT)  # the Internet, as far as this test is concerned
        flow.request.host_header = host_header


addons = [Recorder()]
