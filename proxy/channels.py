"""Everything a request to an AI host carries besides its body: URL path segments, query names and values, request
headers and cookies. Each is read by the same engine as the body (and redacted in place) unless it is one of these,
which cannot carry a prompt:

* a header on the reviewed list below whose value has that header's shape: a closed vocabulary (Accept-Encoding,
  Sec-Fetch-Mode...), a number, a media type, a credential token with no spaces, a browser's User-Agent. A reviewed
  header with any other value is read like a custom one. (Words in a User-Agent's comments and 1-8 letter language
  tags are the residual room: browsers set those from their own settings, and a page's scripts cannot set
  User-Agent, Origin, Sec-* or Accept-Encoding - they are forbidden request headers.)
* a cookie whose name and value the service itself set with Set-Cookie (`ServiceCookies`): it holds nothing the
  client wrote. A cookie written by the page's scripts, or by anyone else, is read.
* a path segment shaped like an id (digits, a UUID, hexadecimal with digits, 8 or more characters).

Names (header names, cookie names) cannot be rewritten: a finding in one refuses the request. Slugs are read with
their separators as spaces ("oliver-smith-report" reads "oliver smith report"), and a redacted value is written back
percent-encoded, placeholders intact.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from cachetools import LRUCache
from mitmproxy import http

from proxy.restore import TOKEN

_PLACEHOLDER = re.compile(f"({TOKEN.pattern})")
_SEPARATORS = re.compile(r"[-_+]+")
_ID = re.compile(r"\d+|[0-9a-fA-F-]*\d[0-9a-fA-F-]*|[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SAFE = "!#$&'()*+-./:<=>?@^_`{|}~"  # kept as they are when a redacted value is written back

# -- the reviewed headers and their shapes ----------------------------------------------------------------------
_Q = r"(?:\s*;\s*q=[01](?:\.\d{0,3})?)?"


def _list(one: str) -> str:
    return rf"{one}(?:\s*,\s*{one})*"


def _vocabulary(*words: str) -> str:
    return _list("(?:" + "|".join(re.escape(w) for w in words) + ")" + _Q)


_TOKEN = r"[A-Za-z0-9._~+/=-]"
_CREDENTIAL = rf"(?=.*\d){_TOKEN}{{16,4096}}"  # an API key or token: long, no spaces, with digits
_MEDIA = r"(?:[a-z0-9.+*-]+/[a-z0-9.+*-]+|\*)(?:\s*;\s*[a-z0-9.-]+=(?:[A-Za-z0-9.+=_-]+|\"[A-Za-z0-9.+=_-]*\"))*"
_PRODUCT = r"[A-Za-z0-9._+-]+/[A-Za-z0-9._+-]+"
_COMMENT = r"\([A-Za-z0-9 ._;:,/+-]*\)"
_LANGUAGE = r"(?:[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)" + _Q
_VERSION = r"\d+(?:\.\d+){0,3}(?:[-+.][A-Za-z0-9.]+)?"
REVIEWED_HEADERS: dict[str, re.Pattern[str]] = {name: re.compile(shape, re.IGNORECASE if ci else 0) for name, shape, ci in [
    ("host", r"[A-Za-z0-9.-]+\.?(?::\d{1,5})?", True),
    ("content-length", r"\d{1,12}", False),
    ("content-type", _MEDIA, True),
    ("accept", _list(_MEDIA + _Q), True),
    ("accept-encoding", _vocabulary("gzip", "deflate", "br", "zstd", "identity", "compress", "x-gzip", "*"), True),
    ("content-encoding", _vocabulary("gzip", "deflate", "br", "zstd", "identity", "x-gzip"), True),
    ("te", _vocabulary("trailers", "gzip", "deflate"), True),
    ("connection", _vocabulary("keep-alive", "close", "upgrade", "te"), True),
    ("upgrade", _vocabulary("websocket", "h2c"), True),
    ("cache-control", _list(r"(?:no-cache|no-store|no-transform|only-if-cached|max-age=\d+|max-stale(?:=\d+)?|"
                            r"min-fresh=\d+)"), True),
    ("pragma", r"no-cache", True),
    ("priority", r"u=\d(?:,\s*i)?|i(?:,\s*u=\d)?", False),
    ("dnt", r"[01]", False),
    ("accept-language", rf"{_LANGUAGE}(?:\s*,\s*{_LANGUAGE}){{0,15}}", False),
    ("user-agent", rf"{_PRODUCT}(?:\s+(?:{_PRODUCT}|{_COMMENT}|{_VERSION}))*", False),
    ("origin", r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?|null", True),
    ("sec-fetch-site", r"same-origin|same-site|cross-site|none", False),
    ("sec-fetch-mode", r"cors|navigate|no-cors|same-origin|websocket", False),
    ("sec-fetch-dest", r"[a-z]{1,16}", False),  # the Fetch standard's destinations: browser-set, never page-set
    ("sec-fetch-user", r"\?1", False),
    ("sec-websocket-key", r"[A-Za-z0-9+/]{22}==", False),
    ("sec-websocket-version", r"\d{1,3}", False),
    ("sec-websocket-extensions", r"permessage-deflate(?:\s*;\s*[a-z_]+(?:=\d+)?)*", False),
    ("sec-ch-ua-mobile", r"\?[01]", False),
    ("sec-ch-ua", r'"[A-Za-z0-9 ()._:;/-]{1,48}";v="[\d.]{1,24}"(?:,\s*"[A-Za-z0-9 ()._:;/-]{1,48}";v="[\d.]{1,24}"){0,7}',
     False),
    ("sec-ch-ua-platform", r'"(?:Linux|Windows|macOS|Chrome OS|Chromium OS|Android|iOS|Fuchsia|Unknown)"', False),
    ("upgrade-insecure-requests", r"1", False),
    ("authorization", rf"(?:Bearer|Basic)\s+{_CREDENTIAL}", False),
    ("x-api-key", _CREDENTIAL, False),
    ("api-key", _CREDENTIAL, False),
    ("x-goog-api-key", _CREDENTIAL, False),
    ("anthropic-version", r"\d{4}-\d{2}-\d{2}", False),
    ("anthropic-beta", r"[a-z0-9-]{1,64}(?:\s*,\s*[a-z0-9-]{1,64})*", False),
    ("openai-organization", rf"org-{_TOKEN}{{8,64}}", False),
    ("openai-project", rf"proj_{_TOKEN}{{8,64}}", False),
    ("x-stainless-lang", r"python|js|go|java|kotlin|ruby|node", False),
    ("x-stainless-package-version", _VERSION, False),
    ("x-stainless-runtime", r"CPython|PyPy|node|deno|bun|browser:[a-z]+|edge|workerd|unknown", False),
    ("x-stainless-runtime-version", _VERSION + "|unknown", False),
    ("x-stainless-os", r"Linux|MacOS|Windows|iOS|Android|FreeBSD|OpenBSD|Unknown|Other:[A-Za-z0-9]{1,16}", False),
    ("x-stainless-arch", r"x32|x64|arm|arm64|unknown|other:[A-Za-z0-9_]{1,16}", False),
    ("x-stainless-async", r"false|async:[a-z]+", False),
    ("x-stainless-retry-count", r"\d{1,3}", False),
    ("x-stainless-read-timeout", r"\d{1,6}(?:\.\d+)?", False),
    ("x-stainless-timeout", r"\d{1,6}(?:\.\d+)?", False),
    ("if-none-match", r'(?:W/)?"[A-Za-z0-9._:+/=-]*"(?:\s*,\s*(?:W/)?"[A-Za-z0-9._:+/=-]*")*|\*', False),
    ("if-modified-since", r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", False),
]}
# Handled elsewhere: the cookie header (per cookie, below); the proxy's own hop-by-hop headers.
_NOT_HEADERS = {"cookie", "proxy-authorization", "proxy-connection", "keep-alive", "transfer-encoding"}


def reviewed(name: str, value: str) -> bool:
    """Can this header not carry a prompt: a reviewed name with a value of its shape?"""
    shape = REVIEWED_HEADERS.get(name.lower())
    return shape is not None and shape.fullmatch(value.strip()) is not None


def readable(text: str) -> str:
    """What the engine reads: percent-escapes decoded, separators outside placeholders read as spaces."""
    return "".join(part if _PLACEHOLDER.fullmatch(part) else _SEPARATORS.sub(" ", part)
                   for part in _PLACEHOLDER.split(unquote(text, errors="replace")))


def masked_path(path: str, clean: Callable[[str], bool]) -> str:
    """The path without its query, every segment that may hold what the engine found replaced by "…": for the
    record of a request that was not rewritten (refused, or forwarded as typed), which must not hold a name."""
    return "/".join(s if not s or _ID.fullmatch(s) or clean(readable(s)) else "…"
                    for s in path.partition("?")[0].split("/"))


def _encode(text: str) -> str:
    return quote(text, safe=_SAFE)


_UNSEEN = object()


class Remembered:
    """That values were seen, without holding them: keyed digests (the key lives in this process's memory only),
    at most `max_entries`, the least recently seen dropped first. Thread-safe."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._key = secrets.token_bytes(32)
        self._seen: LRUCache[bytes, None] = LRUCache(maxsize=max_entries)
        self._lock = threading.Lock()

    def _digest(self, parts: tuple) -> bytes:
        raw = "\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(raw, key=self._key, digest_size=16).digest()

    def add(self, *parts: object) -> None:
        digest = self._digest(parts)
        with self._lock:
            self._seen[digest] = None

    def seen(self, *parts: object) -> bool:
        digest = self._digest(parts)
        with self._lock:
            return self._seen.get(digest, _UNSEEN) is not _UNSEEN  # get() counts as a use: the entry stays


class ServiceCookies(Remembered):
    """Cookies an AI service set itself (Set-Cookie), so that the client sending them back is not read as the
    client writing them."""

    def learn(self, service: str, response: http.Response) -> None:
        for name, (value, _attrs) in response.cookies.items(multi=True):
            self.add(service, name, value)

    def set_by_service(self, service: str, name: str, value: str) -> bool:
        return self.seen(service, name, value)


@dataclass
class _Slot:
    kind: str  # "segment" | "query_name" | "query_value" | "header_name" | "header_value" | "cookie_name" | ...
    index: int
    text: str

    @property
    def writable(self) -> bool:
        return not self.kind.endswith("_name") or self.kind == "query_name"


class Channels:
    """The texts of one request outside its body (`texts`), and `rewrite` to put redacted ones back."""

    def __init__(self, request: http.Request, service: str, cookies: ServiceCookies) -> None:
        raw_path, _, _ = request.path.partition("?")
        self.segments = raw_path.split("/")
        self.query = list(request.query.items(multi=True))
        self.headers = [(name, value) for name, value in request.headers.items(multi=True)
                        if name.lower() not in _NOT_HEADERS and not reviewed(name, value)]
        self.cookies = list(request.cookies.items(multi=True))
        slots: list[_Slot] = []
        for i, segment in enumerate(self.segments):
            if segment and not _ID.fullmatch(segment):
                slots.append(_Slot("segment", i, readable(segment)))
        for i, (name, value) in enumerate(self.query):
            slots += [_Slot("query_name", i, readable(name)), _Slot("query_value", i, readable(value))]
        for i, (name, value) in enumerate(self.headers):
            slots += [_Slot("header_name", i, readable(name)), _Slot("header_value", i, readable(value))]
        for i, (name, value) in enumerate(self.cookies):
            if not cookies.set_by_service(service, name, value):
                slots += [_Slot("cookie_name", i, readable(name)), _Slot("cookie_value", i, readable(value))]
        self.slots = [s for s in slots if s.text.strip()]

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.slots]

    def rewrite(self, request: http.Request, new_texts: list[str]) -> bool:
        """Write the changed texts back into `request`. False (nothing written) if a name would have to change."""
        changed = [(s, new) for s, new in zip(self.slots, new_texts, strict=True) if new != s.text]
        if any(not s.writable for s, _ in changed):
            return False
        for slot, new in changed:
            if slot.kind == "segment":
                self.segments[slot.index] = _encode(new)
            elif slot.kind == "query_name":
                self.query[slot.index] = (new, self.query[slot.index][1])
            elif slot.kind == "query_value":
                self.query[slot.index] = (self.query[slot.index][0], new)
            elif slot.kind == "header_value":
                name, old = self.headers[slot.index]
                request.headers.set_all(name, [_encode(new) if v == old else v for v in request.headers.get_all(name)])
            elif slot.kind == "cookie_value":
                self.cookies[slot.index] = (self.cookies[slot.index][0], _encode(new))
        kinds = {slot.kind for slot, _ in changed}
        if "segment" in kinds:
            request.path = "/".join(self.segments)  # drops the query: set again below
        if "segment" in kinds or kinds & {"query_name", "query_value"}:
            request.query = self.query
        if "cookie_value" in kinds:
            request.cookies = self.cookies
        return True


class KnownClean(Remembered):
    """Channel texts the engine found nothing in, so that what repeats on every request (a session cookie, a custom
    header, a static path's segments) is read once rather than per request. Remembered per (pool generation, tool,
    profile): a new policy or roster, another tool or profile, reads everything again. Only the texts of a scan
    with no finding at all are added."""


__all__ = ["Channels", "KnownClean", "REVIEWED_HEADERS", "Remembered", "ServiceCookies", "masked_path", "readable",
           "reviewed"]
