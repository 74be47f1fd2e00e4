"""The proxy's settings: declared once here, read from flags, PUPILGUARD_* environment variables and an env file.

One precedence for every setting: flag > environment variable > env file (--env-file) > default. The `pupilguard
proxy` flags are made from these declarations (`add_flags`), and so are the mitmproxy options the addons read
(`add_options`, `mitmproxy_options`): a name, type, default and help text are written once.

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
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

PREFIX = "PUPILGUARD_"
MITM_PREFIX = "pupilguard_"  # mitmproxy option names: pupilguard_ + the setting's name

_environ: ContextVar[Mapping[str, str] | None] = ContextVar("pupilguard_environ", default=None)


def setting(default: Any = ..., help: str = "", *, flag: str | None = "", metavar: str | None = None,
            env: str | None = None, mitmproxy: bool = False, shown_default: str | None = None,
            secret: bool = False, default_factory: Any = None) -> Any:
    """One setting: its default and help, its flag (None: no flag; "" for --name-in-kebab-case), its environment
    variable (default PUPILGUARD_NAME), whether the addons read it as a mitmproxy option, and how the README shows
    a default that is worked out at run time."""
    extra = {"flag": flag, "metavar": metavar, "mitmproxy": mitmproxy, "shown_default": shown_default}
    given = {"default_factory": default_factory} if default_factory else {"default": default}
    return Field(**given, description=help, json_schema_extra=extra, repr=not secret, validation_alias=env)


class ProxySettings(BaseSettings):
    """Everything `pupilguard proxy` can be told. Frozen: read once at start-up, then passed to what needs it."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True, env_ignore_empty=True)

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
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _environ.get()
        if environ is not None:  # another process's environment (doctor reads the installed unit's)
            env_settings = _Environment(settings_cls, environ)
        return init_settings, env_settings, dotenv_settings  # flag > env > file > default

    @classmethod
    def load(cls, flags: Mapping[str, Any] | argparse.Namespace,
             environ: Mapping[str, str] | None = None) -> ProxySettings:
        """The settings from parsed flags (unset ones are None), the environment (this process's unless given)
        and the env file named by --env-file or PUPILGUARD_ENV_FILE."""
        given = {name: value for name, value in dict(vars(flags) if isinstance(flags, argparse.Namespace)
                                                     else flags).items()
                 if name in cls.model_fields and value is not None}
        if given.get("roster_key_file"):
            # a key file named on the command line outranks a key in the environment, as for every setting
            given["roster_key"] = None
        env = os.environ if environ is None else environ
        env_file = given.get("env_file") or env.get(PREFIX + "ENV_FILE") or None
        if env_file is not None and not Path(env_file).is_file():
            raise FileNotFoundError(f"--env-file {env_file}: no such file")
        # a setting with its own environment variable takes that name as a keyword too (it is its alias)
        given = {env_name(cls, name) if cls.model_fields[name].validation_alias else name: value
                 for name, value in given.items()}
        token = _environ.set(environ)
        try:
            return cls(_env_file=env_file, **given)
        finally:
            _environ.reset(token)

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None

    def mitmproxy_options(self) -> dict[str, Any]:
        """The values of the settings the addons read as mitmproxy options, by option name."""
        return {MITM_PREFIX + name: getattr(self, name) for name, _ in _mitmproxy_fields()}


class _Environment(EnvSettingsSource):
    """Environment variables from a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


# -------------------------------------------------------------------------------------------- derived declarations

def _extra(info: FieldInfo) -> dict[str, Any]:
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}


def env_names(model: type[BaseSettings], name: str) -> list[str]:
    """The environment variables a setting is read from, the one to use first."""
    info = model.model_fields[name]
    if isinstance(info.validation_alias, AliasChoices):
        return [str(c) for c in info.validation_alias.choices if str(c).isupper()]
    if isinstance(info.validation_alias, str):
        return [info.validation_alias]
    return [(model.model_config.get("env_prefix") or "") + name.upper()]


def env_name(model: type[BaseSettings], name: str) -> str:
    return env_names(model, name)[0]


def flag_name(model: type[BaseSettings], name: str) -> str | None:
    flag = _extra(model.model_fields[name]).get("flag", None)
    return None if flag is None else flag or "--" + name.replace("_", "-")


def shown_default(info: FieldInfo) -> str:
    """A default as --help and the README show it: a value in backquotes, words (worked out at run time) without;
    nothing when unset."""
    extra = _extra(info)
    if info.is_required():
        return "required"
    if extra.get("shown_default"):
        return str(extra["shown_default"])
    default = info.get_default(call_default_factory=True)
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if default is None or default == [] or default == "":
        return ""
    return f"`{default}`"


def _choices(annotation: Any) -> tuple[str, ...] | None:
    return typing.get_args(annotation) if typing.get_origin(annotation) is Literal else None


def _is(annotation: Any, kind: type) -> bool:
    return annotation is kind or kind in typing.get_args(annotation)


def add_flags(parser: argparse.ArgumentParser, model: type[BaseSettings] = ProxySettings) -> None:
    """A flag for each setting that has one. Every flag defaults to None (unset), so the environment, the env
    file and the declared default come next in `ProxySettings.load`."""
    for name, info in model.model_fields.items():
        flag = flag_name(model, name)
        if flag is None:
            continue
        default = shown_default(info).replace("`", "")
        help_text = (info.description or "") + (f" (default: {default})" if default and default != "false" else "")
        help_text = help_text.replace("%", "%%") + f" [{env_name(model, name)}]"
        kwargs: dict[str, Any] = {"dest": name, "default": None, "help": help_text}
        annotation = info.annotation
        if annotation is bool:
            kwargs["action"] = "store_true"
        elif typing.get_origin(annotation) is list:
            kwargs.update(action="append", metavar=_extra(info).get("metavar"))
        elif choices := _choices(annotation):
            kwargs["choices"] = choices
        else:
            kwargs["metavar"] = _extra(info).get("metavar")
            kwargs["type"] = int if _is(annotation, int) else float if _is(annotation, float) else str
        parser.add_argument(flag, **kwargs)


def _mitmproxy_fields() -> list[tuple[str, FieldInfo]]:
    return [(name, info) for name, info in ProxySettings.model_fields.items() if _extra(info).get("mitmproxy")]


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
    by_env = {env_name(ProxySettings, name): name for name in ProxySettings.model_fields}
    parts = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        name = by_env.get(key.upper(), key)
        where = " or ".join(w for w in (flag_name(ProxySettings, name) if name in ProxySettings.model_fields
                                        else None, env_name(ProxySettings, name)
                                        if name in ProxySettings.model_fields else key) if w)
        parts.append(f"{where}: {'required' if error['type'] == 'missing' else error['msg']}")
    return "; ".join(parts)


def markdown_table(model: type[BaseSettings]) -> str:
    """The README's table of a service's settings: one row per setting, in declaration order."""
    rows = ["| setting | flag | environment variable | default | what it does |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        flag = flag_name(model, name)
        env = " or ".join(f"`{e}`" for e in env_names(model, name))
        default = shown_default(info)
        cells = [name, f"`{flag}`" if flag else "", env, default,
                 (info.description or "").replace("|", "\\|")]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
