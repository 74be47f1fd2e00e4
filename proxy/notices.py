"""In-page notices: tell the member of staff, inside the AI site's own page, what pupilguard did to their prompt.

Prompts leave the page by fetch/XHR/WebSocket, so a block page sent in reply is never shown. Instead:

* `Notice` is what the banner says, worded here (in plain words, never prompt text or values);
* `NoticeBoard` keeps short-lived notices in memory, keyed to the browser that sent the prompt: a random
  first-party cookie (`__Host-pupilguard-bid`) that the notices addon sets on the AI site's HTML pages, or, when
  the prompt carried no such cookie (a cross-site API host, cookies disabled), the client address + User-Agent;
* the notices addon (proxy/addons/notices.py) injects one external `<script nonce=…>` into those HTML pages, its
  policy allowed by proxy/csp.py, and answers `/__pupilguard/notices` and `/__pupilguard/notice.js` on the AI host
  itself, without contacting the upstream. The script (static/notice.js) polls that same-origin path and shows a
  banner built with createElement/textContent only, so Trusted Types pages accept it.

A notice holds only the tool's name, kinds of data in plain words and reason codes — never prompt text or values.
When the fallback key is used, browsers sharing one address and User-Agent (a terminal server) can see each other's
notices — these hold no personal data.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
