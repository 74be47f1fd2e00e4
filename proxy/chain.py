"""`--upstream-proxy URL`: hand everything on to the school's existing filtering proxy (mitmproxy upstream mode).

Schools must keep their statutory web filter (IWF/CTIRU lists, its logs) in the path. Once pupilguard decrypts AI
traffic and re-originates it, the filter would otherwise see nothing of it; so the proxy connects through the
filter for every connection - AI requests after their decision (redacted ones as redacted), and tunnelled non-AI
traffic untouched. Credentials for the filter come from the URL (`http://user:pass@filter:8080`) or from a file
holding `user:pass` (kept out of the process list); they are sent as HTTP Basic proxy authentication, and never
logged.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["ChainError", "upstream_options"]


class ChainError(ValueError):
    """A bad --upstream-proxy or --upstream-proxy-auth-file; the message names the flag (never the password)."""


def upstream_options(url: str, auth_file: str | None = None, *, mode: str = "regular") -> dict[str, object]:
    """mitmproxy options for chaining through the proxy at `url`: `mode` and, with credentials, `upstream_auth`."""
    if mode != "regular":
        # mitmproxy's upstream mode is an explicit proxy; in transparent mode the filter goes after pupilguard
        # in the network path (the default route) instead
        raise ChainError("--upstream-proxy works with --mode regular; in transparent mode route pupilguard's "
                         "outgoing traffic through the filter at the network level")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None \
            or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ChainError("--upstream-proxy: expected http://[USER:PASS@]HOST:PORT (or https://), e.g. "
                         "http://filter.school.internal:8080")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    options: dict[str, object] = {"mode": [f"upstream:{parts.scheme}://{host}:{port}"]}
    auth = None
    if parts.username is not None:
        auth = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    if auth_file:
        if auth is not None:
            raise ChainError("--upstream-proxy-auth-file: the URL already carries a user name; use one or the other")
        try:
            auth = Path(auth_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ChainError(f"--upstream-proxy-auth-file {auth_file}: cannot be read "
                             f"({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
        if ":" not in auth or "\n" in auth or not auth.split(":", 1)[0]:
            raise ChainError(f"--upstream-proxy-auth-file {auth_file}: expected one line USER:PASSWORD")
    if auth is not None:
        options["upstream_auth"] = auth
    return options


def describe(url: str) -> str:
    """The upstream proxy for the log: scheme, host and port, never the credentials."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}"
