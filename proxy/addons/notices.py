"""The notices addon: serves the notice board's notices on intercepted AI hosts and injects the banner script.

It takes pupilguard's browser-id cookie off every request (the AI service never gets it), answers
`/__pupilguard/notices` and `/__pupilguard/notice.js` itself, and adds the script to the site's HTML pages with
their policy allowing it (proxy/csp.py). What a notice says and where it waits: proxy/notices.py.

Limits (by design): pages served from a service worker's cache, or restored from the back/forward cache, never
pass through the proxy, so they carry no script until the next network load; only top-level documents
(`Sec-Fetch-Dest: document`) get the script, not iframes.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from importlib import resources

from mitmproxy import http

from proxy import flowmeta
from proxy.csp import Origin, inject, rewrite_csp
from proxy.notices import (
    COOKIE_NAME, NOTICES_PATH, PATH_PREFIX, POLL_HEADER, SCRIPT_PATH, NoticeBoard, browser_id, flow_browser_id,
)


def _script_bytes() -> bytes:
    return resources.files("proxy").joinpath("static/notice.js").read_bytes()


def _ascii_compatible(charset: str | None) -> bool:
    return not charset or not re.match(r"^(utf-?16|utf-?32|ucs-?2|ucs-?4)", charset, re.I)


class NoticeAddon:
    """mitmproxy addon: serves notices on intercepted AI hosts and injects the banner script into their pages."""

    def __init__(self, board: NoticeBoard,
                 is_intercepted: Callable[[http.HTTPFlow], bool] | None = None) -> None:
        self.board = board
        self._is_intercepted = is_intercepted or (lambda flow: True)
        self._script = _script_bytes()
        self._script_url_path = f"{SCRIPT_PATH}?v={hashlib.sha256(self._script).hexdigest()[:12]}"

    def _ours(self, flow: http.HTTPFlow) -> bool:
        # TLS to a host is only terminated when it is intercepted; plain-http sites never get notices.
        return flow.request.scheme == "https" and self._is_intercepted(flow)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        authority = flow.request.host_header or f"{flow.request.host}:{flow.request.port}"
        flow.metadata[flowmeta.ORIGIN] = str(Origin.parse(f"{flow.request.scheme}://{authority}"))
        # Our browser id is for the notice board only: remember it, and never hand the AI service a second
        # stable identifier for the member of staff.
        if COOKIE_NAME in flow.request.cookies:
            if bid := browser_id(flow.request):
                flow.metadata[flowmeta.BROWSER_ID] = bid
            cookies = flow.request.cookies
            del cookies[COOKIE_NAME]
            if not cookies:
                flow.request.headers.pop("cookie", None)

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or not flow.request.path.startswith(PATH_PREFIX) or not self._ours(flow):
            return
        flow.metadata[flowmeta.INTERNAL] = True
        path = flow.request.path.partition("?")[0]
        if flow.request.method not in ("GET", "HEAD"):
            flow.response = self._reply(405, b'{"error": "method not allowed"}', "application/json")
        elif path == SCRIPT_PATH:
            flow.response = self._reply(200, self._script, "text/javascript; charset=utf-8",
                                        cache="public, max-age=86400, immutable")
        elif path == NOTICES_PATH:
            if flow.request.headers.get(POLL_HEADER) != "1":
                flow.response = self._reply(403, b'{"error": "missing X-Pupilguard header"}', "application/json")
                return
            body = json.dumps({"notices": [n.to_json() for n in self.board.take(flow)]}).encode()
            flow.response = self._reply(200, body, "application/json")
            self._ensure_cookie(flow)
        else:
            flow.response = self._reply(404, b'{"error": "not found"}', "application/json")

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.metadata.get(flowmeta.INTERNAL) or not self._wants_script(flow):
            return
        response = flow.response
        assert response is not None
        try:
            document = response.content
        except ValueError:            # a body we cannot decode is passed on untouched, without a banner
            return
        if document is None:
            return
        origin = Origin.parse(flow.metadata.get(flowmeta.ORIGIN) or f"https://{flow.request.host_header}")
        nonce = secrets.token_urlsafe(18)
        for name in ("content-security-policy", "content-security-policy-report-only"):
            values = response.headers.get_all(name)
            if values:
                response.headers.set_all(name, [rewrite_csp(v, nonce, origin) for v in values])
        response.content = inject(document, nonce, origin, f"{origin}{self._script_url_path}")
        # The nonce lives in this body: a 304 revalidation could pair the cached body with a fresh CSP header.
        response.headers.pop("etag", None)
        response.headers.pop("last-modified", None)
        self._ensure_cookie(flow)

    def _wants_script(self, flow: http.HTTPFlow) -> bool:
        response = flow.response
        if response is None or response.stream or not self._ours(flow):
            return False
        if flow.request.method != "GET" or not (200 <= response.status_code < 300) \
                or response.status_code in (204, 206):
            return False
        if flow.request.headers.get("sec-fetch-dest", "document").lower() != "document":
            return False
        mime, _, params = response.headers.get("content-type", "").partition(";")
        if mime.strip().lower() != "text/html":
            return False
        if "attachment" in response.headers.get("content-disposition", "").lower():
            return False
        charset = re.search(r"charset\s*=\s*\"?([\w.:-]+)", params, re.I)
        return _ascii_compatible(charset[1] if charset else None)

    def _ensure_cookie(self, flow: http.HTTPFlow) -> None:
        if flow_browser_id(flow) is None and flow.response is not None:
            flow.response.headers.add(
                "set-cookie",
                f"{COOKIE_NAME}={secrets.token_urlsafe(24)}; Path=/; Secure; HttpOnly; SameSite=Lax; "
                "Max-Age=31536000")

    @staticmethod
    def _reply(status: int, body: bytes, content_type: str, cache: str = "no-store") -> http.Response:
        return http.Response.make(status, body, {
            "content-type": content_type,
            "cache-control": cache,
            "x-content-type-options": "nosniff",
            "cross-origin-resource-policy": "same-origin",
        })
