"""Letting the notice script into an AI site's page: its Content-Security-Policy and its HTML.

The notices addon adds one nonce to the page's policy (header, report-only header and `<meta>` tags) for its one
`<script>` — it never removes or loosens the site's policy otherwise. The script's fetch to the notices path needs
`connect-src` to allow the page's own origin; where the site's connect-src (or default-src) does not, the exact
origin of the page is added — the same origin, so no new party is let in. Where a script directive carries
'unsafe-inline' and no nonce or hash, a nonce would switch the site's inline scripts off, so the page's own origin
is allowed instead of a nonce.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from proxy.notices import NOTICES_PATH, SCRIPT_PATH

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
