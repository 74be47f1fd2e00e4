"""The proxy's settings: declared once here, read from flags, PUPILGUARD_* environment variables and an env file.

One precedence for every setting: flag > environment variable > env file (--env-file) > default, as for the admin
service (both are detectors.service_settings models). The `pupilguard proxy` flags are made from these declarations
(`add_flags`), and so are the mitmproxy options the addons read (`add_options`, `mitmproxy_options`): a name, type,
default and help text are written once.

Environment variables are PUPILGUARD_ + the setting's name in capitals, except where a name was in use before
(PUPILGUARD_ROSTER_KEY_FILE, PUPILGUARD_SPACY_MODEL) or would be shared with the admin service: the admin's
PUPILGUARD_DATA_DIR is in the environment of every `pupilguard` command run through the installed wrapper, and the
two services must never share a directory, so the proxy's is PUPILGUARD_PROXY_DATA_DIR. A list (`--route`, given
more than once as a flag) is a JSON list in the environment: PUPILGUARD_ROUTE='["api.openai.com=10.0.0.5:443"]'.
"""
from __future__ import annotations

import argparse
import os
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from detectors import service_settings
from detectors.service_settings import ServiceSettings, declared, flag_name

__all__ = ["ProxySettings", "add_flags", "add_options", "describe_error", "flag_name", "setting"]

MITM_PREFIX = "pupilguard_"  # mitmproxy option names: pupilguard_ + the setting's name


def setting(default: Any = ..., help: str = "", *, mitmproxy: bool = False, **declaration: Any) -> Any:
    """One proxy setting (detectors.service_settings.setting), and whether the addons read it as a mitmproxy
    option."""
    return service_settings.setting(default, help, extra={"mitmproxy": mitmproxy}, **declaration)


class ProxySettings(ServiceSettings):
    """Everything `pupilguard proxy` can be told. Frozen: read once at start-up, then passed to what needs it."""

    listen: str = setting(help="address to accept proxy clients on", metavar="ADDR:PORT")
    data_dir: Path = setting(
        help="state: CA (DIR/ca, public cert DIR/pupilguard-ca.pem), event spool (DIR/spool)", metavar="DIR",
        env="PUPILGUARD_PROXY_DATA_DIR")
    env_file: Path | None = setting(None, "read settings from this file of NAME=VALUE lines (PUPILGUARD_…); the "
                                    "environment and flags override it", metavar="FILE")
    roster: str | None = setting(None, "hashed roster file from `pupilguard roster import`", metavar="ROSTER")
    roster_key_file: str | None = setting(
        None, "roster key file (else the key itself in PUPILGUARD_ROSTER_KEY)", flag="--key-file", metavar="F",
        env="PUPILGUARD_ROSTER_KEY_FILE")
    roster_key: SecretStr | None = setting(
        None, "the roster key itself, hex or base64 (never a flag: others could read it in the process list)",
        flag=None, secret=True)
    allowlist: str = setting("allowlist.yaml", "approved/blocked AI tools per profile; reloaded when it changes",
                             metavar="FILE")
    policy: str | None = setting(None, "detection policy YAML", metavar="FILE", shown_default="the built-in policy")
    admin_url: str | None = setting(None, "admin API base URL; without it events stay in the spool", metavar="URL")
    admin_token: SecretStr | None = setting(None, "proxy token for the admin API", metavar="TOKEN", secret=True)
    admin_token_file: str | None = setting(None, "file holding the proxy token (instead of --admin-token)",
                                           metavar="F")
    admin_ca: str | None = setting(None, "CA bundle to verify an https admin URL", metavar="FILE")
    admin_insecure_http: bool = setting(
        False, "allow a plain-http --admin-url to another machine (only on a private container network)")
    route: list[str] = setting(
        [], "send a catalogued host's upstream connection to ADDR:PORT (tests, demos, staging), keeping HOST as the "
            "TLS server name", metavar="HOST=ADDR:PORT", mitmproxy=True)
    allow_ip: list[str] = setting(
        [], "an IP address or network clients may CONNECT to by address (a non-AI service); every other CONNECT to "
            "an IP address is refused", metavar="ADDR[/BITS]", mitmproxy=True)
    provider_ranges: list[str] = setting(
        [], "extra AI provider address ranges (format of proxy/data/provider_ranges.yaml): a CONNECT to an address "
            "in one is decrypted and inspected instead of refused", metavar="FILE", mitmproxy=True)
    upstream_ca: str | None = setting(None, "extra CA (PEM) trusted for upstream servers, e.g. routed ones",
                                      metavar="FILE")
    upstream_proxy: str | None = setting(
        None, "send all traffic on through the school's filtering proxy, http://[USER:PASS@]HOST:PORT: AI requests "
              "after their decision, everything else tunnelled as it came", metavar="URL")
    upstream_proxy_auth_file: str | None = setting(
        None, "file holding USER:PASSWORD for --upstream-proxy (instead of putting them in the URL)", metavar="F")
    metrics_listen: str | None = setting(None, "serve /metrics and /healthz here", metavar="ADDR:PORT")
    max_body: int = setting(10 * 1024 * 1024, "largest prompt body scanned (bytes, after decompression); larger "
                            "ones are blocked", metavar="BYTES", mitmproxy=True)
    time_budget_ms: int = setting(
        5000, "analysis time per request of up to 50,000 characters (longer ones get proportionally more) before "
              "it is blocked", metavar="N", mitmproxy=True)
    ocr_workers: int = setting(1, "processes reading the text in pictures and scanned PDFs (OCR) at once; 0 = "
                               "pictures are not read and are let through with a note", metavar="N")
    ocr_budget_ms: int = setting(30000, "time allowed to read the pictures of one request, queueing included; "
                                 "then it is blocked", metavar="N")
    workers: int | None = setting(None, "detection worker processes, plus one kept for short prompts", metavar="N",
                                  shown_default="one per CPU")
    mode: Literal["regular", "transparent"] = setting("regular", "explicit proxy (PAC/WPAD) or transparent "
                                                      "interception")
    proxyauth: str | None = setting(
        None, "require proxy authentication (mitmproxy syntax: @htpasswd-file, ldap:..., user:pass); the user name - "
              "and with ldap, the user's directory groups - select the allowlist profile", metavar="SPEC")
    allow_public_clients: bool = setting(
        False, "accept clients with public addresses (JANET-assigned IPv4 ranges, global IPv6); by default only "
               "private and loopback addresses may use the proxy, so it is never an open proxy on the Internet - "
               "with this, the firewall must keep outsiders away")
    proxy_id: str = setting(default_factory=lambda: os.uname().nodename, help="this proxy's name in events",
                            metavar="NAME", mitmproxy=True, shown_default="the host name")
    log_allow: bool = setting(False, "also record allowed prompts as events (they are always counted in the "
                              "metrics)", mitmproxy=True)
    forward_unrecorded: bool = setting(
        False, "forward redacted prompts even when their event cannot be written (disk full); by default they are "
               "refused, /healthz is red and pupilguard_events_not_recorded counts each one", mitmproxy=True)
    model: str | None = setting(None, "spaCy model package or path", metavar="NAME", env="PUPILGUARD_SPACY_MODEL",
                                shown_default="en_core_web_lg if installed, else the bundled en_core_web_md")
    config_poll_s: float = setting(60.0, "with --admin-url and a token: fetch the central allowlist/policy/roster "
                                   "this often (0 = never)", metavar="S")
    # The pages a refused or unreachable request gets (proxy/responses.py).
    school_name: str = setting("", "the school's name on the block page", flag=None, mitmproxy=True)
    school_logo_url: str = setting("", "the school's logo on the block page (an https or data:image URL)",
                                   flag=None, mitmproxy=True)
    school_colour: str = setting("#1d4f91", "the block page's colour (#rgb or #rrggbb)", flag=None, mitmproxy=True)
    page_languages: str = setting("en", "the block page's languages, first shown first: en, cy, cy,en or en,cy",
                                  flag=None, mitmproxy=True)

    @classmethod
    def given_flags(cls, given: dict[str, Any]) -> dict[str, Any]:
        if given.get("roster_key_file"):
            # a key file named on the command line outranks a key in the environment, as for every setting
            given["roster_key"] = None
        return given

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None

    def mitmproxy_options(self) -> dict[str, Any]:
        """The values of the settings the addons read as mitmproxy options, by option name."""
        return {MITM_PREFIX + name: getattr(self, name) for name, _ in _mitmproxy_fields()}


# -------------------------------------------------------------------------------------------- derived declarations

def add_flags(parser: argparse.ArgumentParser) -> None:
    """The `pupilguard proxy` flags: one for each setting that has one."""
    service_settings.add_flags(parser, ProxySettings)


def _mitmproxy_fields() -> list[tuple[str, FieldInfo]]:
    return [(name, info) for name, info in ProxySettings.model_fields.items() if declared(info).get("mitmproxy")]


def add_options(loader: Any, *names: str) -> None:
    """Declare these settings as mitmproxy options (pupilguard_NAME), with the settings' types, defaults and help,
    for an addon's `load()`."""
    for name in names:
        info = ProxySettings.model_fields[name]
        typespec = Sequence[str] if typing.get_origin(info.annotation) is list else info.annotation
        loader.add_option(MITM_PREFIX + name, typespec, info.get_default(call_default_factory=True),
                          _sentence(info.description or ""))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def describe_error(exc: Any) -> str:
    """A settings ValidationError in one line, naming each setting by its flag (or environment variable)."""
    return service_settings.describe_error(ProxySettings, exc)
