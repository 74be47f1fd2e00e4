"""In-page notices: tell the member of staff, inside the AI site's own page, what pupilguard did to their prompt.

Prompts leave the page by fetch/XHR/WebSocket, so a block page sent in reply is never shown. Instead:

* `NoticeBoard` keeps short-lived notices in memory, keyed to the browser that sent the prompt: a random
  first-party cookie (`__Host-pupilguard-bid`) that this addon sets on the AI site's HTML pages, or, when the
  prompt carried no such cookie (a cross-site API host, cookies disabled), the client address + User-Agent.
* `NoticeAddon` injects one external `<script nonce=…>` into those HTML pages, adding the nonce to the page's
  Content-Security-Policy (header, report-only header and `<meta>` tags) — it never removes or loosens the site's
  policy otherwise — and answers `/__pupilguard/notices` and `/__pupilguard/notice.js` on the AI host itself,
  without contacting the upstream. The script (static/notice.js) polls that same-origin path and shows a banner
  built with createElement/textContent only, so Trusted Types pages accept it.

The fetch to the notices path needs `connect-src` to allow the page's own origin; where the site's connect-src (or
default-src) does not, the exact origin of the page is added — the same origin, so no new party is let in. Where a
script directive carries 'unsafe-inline' and no nonce or hash, a nonce would switch the site's inline scripts off,
so the page's own origin is allowed instead of a nonce.

A notice holds only the tool's name, kinds of data in plain words and reason codes — never prompt text or values.

Limits (by design): pages served from a service worker's cache, or restored from the back/forward cache, never
pass through the proxy, so they carry no script until the next network load; only top-level documents
(`Sec-Fetch-Dest: document`) get the script, not iframes. When the fallback key is used, browsers sharing one
address and User-Agent (a terminal server) can see each other's notices — these hold no personal data.

(Over 350 lines on purpose: the notice's wording in English and Welsh, the board that carries it to the
browser and the addon that injects it are one feature, read top to bottom.)
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

from mitmproxy import http

from detectors.entities import label
from proxy import flowmeta
from proxy.responses import browser_tools

COOKIE_NAME = "__Host-pupilguard-bid"
PATH_PREFIX = "/__pupilguard/"
NOTICES_PATH = PATH_PREFIX + "notices"
SCRIPT_PATH = PATH_PREFIX + "notice.js"
# The poll must carry this header: a cross-origin page cannot add it without a CORS preflight we never grant,
# so no other site can read or swallow this browser's notices.
POLL_HEADER = "X-Pupilguard"

_BID_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")

# --------------------------------------------------------------------------------------------------- notices

# Entity types in the words a teacher would use (detectors.entities), pupil data first: (one, several).
_NOTICE_ORDER = ("PUPIL", "UK_UPN", "UK_ULN", "UK_UCI", "UK_NHS", "UK_NINO", "DATE_OF_BIRTH", "UK_ADDRESS",
                 "UK_POSTCODE", "PHONE_NUMBER", "EMAIL_ADDRESS", "PERSON")
_ENTITY_WORDS: dict[str, tuple[str, str]] = {name: (label(name, 1), label(name, 2)) for name in _NOTICE_ORDER}
_SPECIAL_WORDS: dict[str, str] = {
    "SEN": "SEN", "HEALTH": "health", "MENTAL_HEALTH": "mental health", "ETHNICITY": "ethnicity",
    "RELIGION": "religion", "SAFEGUARDING": "safeguarding", "LOOKED_AFTER": "looked-after status",
    "FSM": "free school meals", "SEXUALITY": "sexuality", "CRIMINAL": "criminal records",
}
_SPECIAL = "SPECIAL_CATEGORY"


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def describe_entities(entities: Mapping[str, int]) -> tuple[list[str], list[str]]:
    """(identifier kinds, special-category subjects) in plain words, in a stable order."""
    present = {name: count for name, count in entities.items() if count > 0}
    kinds = [one if present[name] == 1 else many
             for name, (one, many) in _ENTITY_WORDS.items() if name in present]
    special: list[str] = []
    for name in present:
        if name == _SPECIAL or name.startswith(_SPECIAL + ":"):
            sub = name.partition(":")[2]
            word = _SPECIAL_WORDS.get(sub, sub.replace("_", " ").lower())
            if word not in special:
                special.append(word)
        elif name not in _ENTITY_WORDS:
            kinds.append(name.replace("_", " ").lower())
    return kinds, special


def _special_phrase(special: list[str]) -> str:
    subjects = [s for s in special if s]
    return "special-category information" + (f" ({', '.join(subjects)})" if subjects else "")


def _block_reason(tool: str, kinds: list[str], special: list[str], reasons: Iterable[str]) -> str:
    codes = set(reasons)
    if "tool_blocked" in codes:
        return f"{tool} is not approved for your use at this school."
    if codes & {"analysis_error", "analysis_timeout", "ocr_timeout", "ocr_busy"}:
        return "it could not be checked in time, so it was not sent."
    if "body_too_large" in codes:
        return "it was too large to check, so it was not sent."
    if codes & {"image_too_large", "pdf_too_many_scanned_pages", "image_too_many_frames"}:
        return "a picture or scan in it was too large to check, so it was not sent."
    if "unreadable_body" in codes:
        return "it could not be read, so it was not sent."
    if "scanned_pdf" in codes:
        return f"a scanned PDF contained {_join(kinds) or 'personal data'}; scanned PDFs cannot be edited, so it " \
               "was not sent. Send the pages as pictures instead."
    if "unredactable_body" in codes:
        return f"an attached file contained {_join(kinds) or 'personal data'}, which cannot be removed from a file."
    if "recheck_failed" in codes:
        return "personal data was still found after removing it, so it was not sent."
    if special and kinds:
        return f"it linked {_join(kinds)} to {_special_phrase(special)}."
    if special or kinds:
        return f"it contained {_join(kinds + ([_special_phrase(special)] if special else []))}, " \
               "which the school's policy does not allow to be sent."
    return "the school's policy does not allow it to be sent."


def _safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"^https?://[^\s\"'<>]+$", url, re.I) else None


@dataclass(frozen=True)
class Notice:
    """What the banner says. Built by `redacted()` / `blocked()` so the wording lives in one place."""

    action: Literal["redacted", "blocked"]
    tool: str
    kinds: tuple[str, ...]
    message: str
    policy_url: str | None = None
    approved_tools: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: secrets.token_hex(8))

    @classmethod
    def redacted(cls, *, tool: str, entities: Mapping[str, int], policy_url: str | None = None) -> Notice:
        kinds, special = describe_entities(entities)
        what = _join(kinds) or "personal data"
        return cls("redacted", tool, tuple(kinds + ([_special_phrase(special)] if special else [])),
                   f"pupilguard removed {what} from your last message to {tool}.", _safe_url(policy_url))

    @classmethod
    def blocked(cls, *, tool: str, entities: Mapping[str, int], reasons: Iterable[str] = (),
                policy_url: str | None = None, approved_tools: Iterable[str] = ()) -> Notice:
        kinds, special = describe_entities(entities)
        reasons = list(reasons)
        reason = _block_reason(tool, kinds, special, reasons)
        # Other tools are only the answer when this tool itself is not allowed, not when the content was the problem.
        # (and only tools a person opens in a browser: an API is no alternative for someone on a web page).
        alternatives = tuple(t for t in browser_tools(approved_tools) if t != tool) if "tool_blocked" in reasons else ()
        return cls("blocked", tool, tuple(kinds + ([_special_phrase(special)] if special else [])),
                   f"pupilguard stopped your message to {tool}: {reason}", _safe_url(policy_url), alternatives)

    def to_json(self) -> dict:
        return {"id": self.id, "action": self.action, "tool": self.tool, "kinds": list(self.kinds),
                "message": self.message, "policy_url": self.policy_url,
                "approved_tools": list(self.approved_tools)}


# --------------------------------------------------------------------------------------------------- board

def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def browser_id(request: http.Request) -> str | None:
    """The browser's pupilguard cookie, if it carries a well-formed one."""
    value = request.cookies.get(COOKIE_NAME)
    return value if value and _BID_RE.match(value) else None


def flow_browser_id(flow: http.HTTPFlow) -> str | None:
    """The browser id of this flow: NoticeAddon.requestheaders moves it out of the forwarded request."""
    return flow.metadata.get(flowmeta.BROWSER_ID) or browser_id(flow.request)


def browser_keys(flow: http.HTTPFlow) -> tuple[str | None, str]:
    """(cookie key or None, fallback key). Digests, so the board's keys reveal no addresses."""
    bid = flow_browser_id(flow)
    peer = flow.client_conn.peername[0] if flow.client_conn.peername else ""
    fallback = _digest("addr", str(peer), flow.request.headers.get("user-agent", ""))
    return (_digest("bid", bid) if bid else None), fallback


class NoticeBoard:
    """Pending notices per browser: in memory only, each kept `ttl_s`, at most `per_browser` per browser and
    `max_browsers` browsers (the least recently posted-to are dropped first). Thread-safe: decisions are
    posted from the proxy's event loop and its worker threads."""

    def __init__(self, ttl_s: float = 300.0, per_browser: int = 10, max_browsers: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.per_browser, self.max_browsers, self._clock = ttl_s, per_browser, max_browsers, clock
        self._queues: OrderedDict[str, deque[tuple[float, Notice]]] = OrderedDict()
        self._lock = threading.Lock()

    def post(self, flow: http.HTTPFlow, notice: Notice) -> None:
        bid_key, fallback = browser_keys(flow)
        self._post(bid_key or fallback, notice)

    def take(self, flow: http.HTTPFlow) -> list[Notice]:
        """The notices waiting for this browser, oldest first; each is handed out once."""
        bid_key, fallback = browser_keys(flow)
        return self._take([k for k in (bid_key, fallback) if k])

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return sum(len(q) for q in self._queues.values())

    def _post(self, key: str, notice: Notice) -> None:
        now = self._clock()
        with self._lock:
            self._expire(now)
            queue = self._queues.pop(key, None) or deque(maxlen=self.per_browser)
            queue.append((now, notice))
            self._queues[key] = queue          # most recently posted-to last
            while len(self._queues) > self.max_browsers:
                self._queues.popitem(last=False)

    def _take(self, keys: list[str]) -> list[Notice]:
        now = self._clock()
        out: list[tuple[float, Notice]] = []
        with self._lock:
            for key in keys:
                queue = self._queues.pop(key, None)
                if queue:
                    out.extend(item for item in queue if now - item[0] <= self.ttl_s)
        out.sort(key=lambda item: item[0])
        return [notice for _, notice in out]

    def _expire(self, now: float) -> None:
        # Queues are ordered by their newest post, so stop at the first queue still holding a live notice.
        while self._queues:
            key, queue = next(iter(self._queues.items()))
            if queue and now - queue[-1][0] <= self.ttl_s:
                break
            del self._queues[key]


# --------------------------------------------------------------------------------------------------- CSP

_SCRIPT_PREFERENCE = ("script-src-elem", "script-src")
_NONCE_OR_HASH = re.compile(r"^'(nonce-|sha256-|sha384-|sha512-)", re.I)
_HOST_SOURCE = re.compile(
    r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\*|(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?)"
    r"(?::(?P<port>\d+|\*))?(?P<path>/\S*)?$", re.I)


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, origin: str) -> Origin:
        scheme, _, rest = origin.partition("://")
        host, _, port = rest.rpartition(":") if re.search(r":\d+$", rest) else (rest, "", "")
        return cls(scheme.lower(), host.lower(), int(port) if port else (443 if scheme == "https" else 80))

    def __str__(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{self.host}" + ("" if self.port == default else f":{self.port}")


def source_list_allows(sources: list[str], origin: Origin, path: str) -> bool:
    """Does this CSP source list allow a same-origin URL `origin` + `path`? (CSP3 §6.7.2, the parts we need.)"""
    for src in sources:
        low = src.lower()
        if low in ("'self'", "*"):
            return True
        if low in (f"{origin.scheme}:", "https:") and origin.scheme == "https":
            return True
        m = _HOST_SOURCE.match(src)
        if not m or src.startswith("'"):
            continue
        scheme = (m["scheme"] or origin.scheme).lower()
        if scheme not in (origin.scheme, "http" if origin.scheme == "https" else origin.scheme):
            continue
        host = m["host"].lower().rstrip(".")
        if host != "*" and host != origin.host and not (
                host.startswith("*.") and origin.host.endswith(host[1:])):
            continue
        port = m["port"]
        default = 443 if origin.scheme == "https" else 80
        if port != "*" and (int(port) if port else default) != origin.port and not (
                port is None and scheme == "http" and origin.port == 443):
            continue
        rule = m["path"]
        if rule and rule != "/" and not (path.startswith(rule) if rule.endswith("/") else path == rule):
            continue
        return True
    return False


def _allow_script(sources: list[str], nonce: str, origin: Origin) -> list[str]:
    lowered = [s.lower() for s in sources]
    if "'unsafe-inline'" in lowered and "'strict-dynamic'" not in lowered \
            and not any(_NONCE_OR_HASH.match(s) for s in sources):
        # A nonce would switch off the site's own 'unsafe-inline' scripts: allow our same-origin URL instead.
        if source_list_allows(sources, origin, SCRIPT_PATH):
            return sources
        return [s for s in sources if s.lower() != "'none'"] + [str(origin)]
    return [s for s in sources if s.lower() != "'none'"] + [f"'nonce-{nonce}'"]


def _allow_connect(sources: list[str], origin: Origin) -> list[str] | None:
    if source_list_allows(sources, origin, NOTICES_PATH):
        return None
    return [s for s in sources if s.lower() != "'none'"] + [str(origin)]


def rewrite_policy(policy: str, nonce: str, origin: Origin) -> str:
    """One serialised policy with our script and our notices URL allowed; every other directive untouched."""
    directives: list[list[str]] = []
    seen: dict[str, int] = {}
    for raw in policy.split(";"):
        tokens = raw.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        seen.setdefault(name, len(directives))        # only a directive's first occurrence counts
        directives.append(tokens)
    if not directives:
        return policy

    def sources(name: str) -> list[str]:
        return directives[seen[name]][1:]

    def replace(name: str, new: list[str]) -> None:
        directives[seen[name]] = [directives[seen[name]][0], *new]

    def add(name: str, new: list[str]) -> None:
        seen[name] = len(directives)
        directives.append([name, *new])

    script_targets = [d for d in _SCRIPT_PREFERENCE if d in seen]
    for name in script_targets:
        replace(name, _allow_script(sources(name), nonce, origin))
    if not script_targets and "default-src" in seen:
        # Scripts fall back to default-src: give them a directive of their own rather than widen default-src.
        add("script-src", _allow_script(sources("default-src"), nonce, origin))

    if "connect-src" in seen:
        new = _allow_connect(sources("connect-src"), origin)
        if new is not None:
            replace("connect-src", new)
    elif "default-src" in seen:
        new = _allow_connect(sources("default-src"), origin)
        if new is not None:
            add("connect-src", new)
    return "; ".join(" ".join(tokens) for tokens in directives)


def rewrite_csp(value: str, nonce: str, origin: Origin) -> str:
    """A CSP header value: several policies may be joined with commas, and every one of them is enforced."""
    return ", ".join(rewrite_policy(p.strip(), nonce, origin) for p in value.split(",") if p.strip())


# --------------------------------------------------------------------------------------------------- HTML

_META_RE = re.compile(rb"<meta\b[^>]*>", re.I)
_ATTR_RE = re.compile(rb"""([^\s"'>/=]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_CSP_META = (b"content-security-policy", b"content-security-policy-report-only")
_HEAD_END = re.compile(rb"</head\s*>", re.I)
_BODY_START = re.compile(rb"<body\b[^>]*>", re.I)


def _rewrite_meta(tag: bytes, nonce: str, origin: Origin) -> bytes:
    attrs = {m[1].lower(): m for m in _ATTR_RE.finditer(tag)}
    equiv, content = attrs.get(b"http-equiv"), attrs.get(b"content")
    if equiv is None or content is None:
        return tag
    if (equiv[3] or equiv[4] or equiv[5] or b"").strip().lower() not in _CSP_META:
        return tag
    value = html.unescape((content[3] or content[4] or content[5] or b"").decode("latin-1"))
    new = html.escape(rewrite_csp(value, nonce, origin), quote=True).encode("latin-1", "xmlcharrefreplace")
    return tag[:content.start(2)] + b'"' + new + b'"' + tag[content.end(2):]


def inject(document: bytes, nonce: str, origin: Origin, script_url: str) -> bytes:
    """The HTML with our script tag added and every CSP <meta> tag allowing it. Works on bytes: both our
    additions and the markup we look for are ASCII, so any ASCII-compatible charset passes through intact."""
    tag = f'<script src="{html.escape(script_url)}" nonce="{nonce}" async></script>'.encode()
    rewrite = lambda m: _rewrite_meta(m[0], nonce, origin)  # noqa: E731
    if m := _HEAD_END.search(document):
        # A CSP <meta> only counts inside <head>, so the (large) body need not be searched.
        return _META_RE.sub(rewrite, document[:m.start()]) + tag + document[m.start():]
    document = _META_RE.sub(rewrite, document)
    if m := _BODY_START.search(document):
        return document[:m.end()] + tag + document[m.end():]
    return document + tag


# --------------------------------------------------------------------------------------------------- addon

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
