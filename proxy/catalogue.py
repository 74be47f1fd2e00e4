"""The AI endpoint catalogue (proxy/catalogue.yaml): which hosts are AI services, and where their prompts are.

    cat = Catalogue.load()                       # the shipped file, or Catalogue.load(path)
    cat.allow_hosts_regexes()                    # -> mitmproxy `allow_hosts`: only these are TLS-intercepted
    m = cat.match("chatgpt.com", "/backend-api/f/conversation?x=1")
    m.service.id, m.kind, m.adapter              # "chatgpt", "prompt", "chatgpt_web"

`match` returns None for a host that is not an AI service; for a catalogued host it returns kind "prompt",
"upload", "websocket" or "other" (a path that carries no prompt we know of, e.g. loading a page).
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from detectors import yamlfile

from .adapters import ADAPTERS, WS_ADAPTERS

__all__ = ["Catalogue", "CatalogueError", "Service", "Match", "DEFAULT_PATH", "default_catalogue", "normalise_host",
           "normalise_path"]

DEFAULT_PATH = Path(__file__).with_name("catalogue.yaml")

ErrorShape = Literal["openai", "anthropic", "gemini", "html", "generic"]
_HOST = re.compile(r"^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


_PARAMS = re.compile(r";[^/]*")
_SLASHES = re.compile(r"/{2,}")


def normalise_path(path: str) -> str:
    """The path a web server acts on, so that spelling variants of a prompt endpoint still get its adapter.

    Servers and their front ends decode %-escapes, ignore `;params` (RFC 3986 path parameters), merge repeated
    slashes, resolve dot segments and route "/x/" like "/x". A path that matched only its exact spelling would let
    "/v1/chat/%63ompletions" or "/v1//chat/completions" through as an unknown page. The result has no query,
    no fragment and no trailing slash (except "/" itself).
    """
    bare = path.split("?", 1)[0].split("#", 1)[0]
    bare = _PARAMS.sub("", unquote(_PARAMS.sub("", bare), errors="replace"))
    bare = _SLASHES.sub("/", "/" + bare.replace("\\", "/"))
    bare = posixpath.normpath(bare)
    return "/" if bare in ("/", "//", ".") else bare.rstrip("/")


def normalise_host(host: str) -> str:
    """The one form every host is matched in (catalogue, PAC, routes, events): no port, no trailing dot, lower case,
    non-ASCII labels in IDNA (punycode) form - "CHATGPT.COM.", "ｃｈａｔｇｐｔ．ｃｏｍ" and "chatgpt.com" are one
    host to DNS and to the AI service, so they must be one host here. IPv6 literals keep their brackets."""
    h = host.strip()
    if h.startswith("["):
        return h[:h.index("]") + 1].lower() if "]" in h else h.lower()
    if h.count(":") == 1:
        h = h.split(":", 1)[0]
    try:
        h = h.encode("idna").decode("ascii")  # nameprep: case, full-width forms, ideographic full stops
    except UnicodeError:  # not a valid IDNA name (an empty label, an underscore...): compare it as written
        pass
    return h.rstrip(".").lower()


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; the message names the file, line and field."""


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid path regex {pattern!r}: {exc}") from None
    return pattern


def _known(names: dict, kind: str):
    def check(name: str) -> str:
        if name not in names:
            raise ValueError(f"unknown {kind} {name!r} (known: {', '.join(sorted(names))})")
        return name

    return AfterValidator(check)


PathRegex = Annotated[str, AfterValidator(_check_regex)]
AdapterName = Annotated[str, _known(ADAPTERS, "adapter")]
WsAdapterName = Annotated[str, _known(WS_ADAPTERS, "WebSocket adapter")]


class PathRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: PathRegex
    adapter: AdapterName | None = None


class WebSocketRule(BaseModel):
    """A WebSocket path whose client messages need another adapter than the service's ws_adapter."""
    model_config = ConfigDict(extra="forbid")
    path: PathRegex
    adapter: WsAdapterName


class ServiceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    kind: Literal["web", "api"]
    hosts: list[str] = Field(min_length=1)
    adapter: AdapterName
    prompt_paths: list[PathRegex | PathRule] = Field(default_factory=list)
    upload_paths: list[PathRegex] = Field(default_factory=list)
    websocket_paths: list[PathRegex | WebSocketRule] = Field(default_factory=list)
    ws_adapter: WsAdapterName | None = None
    error_shape: ErrorShape

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        for h in hosts:
            if not _HOST.match(h):
                raise ValueError(f"{h!r} is not a lower-case host name or *.domain wildcard")
        return hosts

    @model_validator(mode="after")
    def _ws_needs_adapter(self) -> ServiceModel:
        if self.ws_adapter is None and any(isinstance(r, str) for r in self.websocket_paths):
            raise ValueError("websocket_paths need a ws_adapter")
        return self


class CatalogueModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1]
    services: list[ServiceModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CatalogueModel:
        ids, hosts = set(), {}
        for s in self.services:
            if s.id in ids:
                raise ValueError(f"duplicate service id {s.id!r}")
            ids.add(s.id)
            for h in s.hosts:
                if h in hosts:
                    raise ValueError(f"host {h!r} is in both {hosts[h]!r} and {s.id!r}")
                hosts[h] = s.id
        return self


@dataclass(frozen=True)
class Service:
    """One AI service of the catalogue, with its path patterns compiled."""

    id: str
    name: str
    kind: str
    hosts: tuple[str, ...]
    adapter: str
    error_shape: str
    prompt_paths: tuple[tuple[re.Pattern[str], str], ...] = field(repr=False)  # (pattern, adapter name)
    upload_paths: tuple[re.Pattern[str], ...] = field(repr=False)
    websocket_paths: tuple[tuple[re.Pattern[str], str | None], ...] = field(repr=False)  # (pattern, ws adapter)
    ws_adapter: str | None = None

    @property
    def websocket(self) -> bool:
        return bool(self.websocket_paths)

    def endpoint(self, path: str) -> tuple[str, str | None]:
        """(kind, adapter) for a request path; kind is prompt | upload | websocket | other.

        Patterns are matched against the normalised path (see `normalise_path`), with and without a trailing slash,
        so a pattern may be written either way.
        """
        bare = normalise_path(path)
        forms = (bare,) if bare == "/" else (bare, bare + "/")

        def hit(pattern: re.Pattern[str]) -> bool:
            return any(pattern.fullmatch(f) for f in forms)

        for pattern, adapter in self.prompt_paths:
            if hit(pattern):
                return "prompt", adapter
        if any(hit(p) for p in self.upload_paths):
            return "upload", "upload"
        for pattern, adapter in self.websocket_paths:
            if hit(pattern):
                return "websocket", adapter
        return "other", None

    def adapter_for(self, path: str) -> str | None:
        """The body adapter for an HTTP request to `path`; None when the path carries no known prompt."""
        kind, adapter = self.endpoint(path)
        return adapter if kind in ("prompt", "upload") else None

    def ws_adapter_for(self, path: str) -> str | None:
        """The adapter for client messages of a WebSocket opened at `path` (any path: the service's ws_adapter)."""
        kind, adapter = self.endpoint(path) if path else ("other", None)
        return adapter if kind == "websocket" else self.ws_adapter

    @classmethod
    def from_model(cls, m: ServiceModel) -> Service:
        prompts = []
        for rule in m.prompt_paths:
            if isinstance(rule, str):
                prompts.append((re.compile(rule), m.adapter))
            else:
                prompts.append((re.compile(rule.path), rule.adapter or m.adapter))
        sockets = [(re.compile(r), m.ws_adapter) if isinstance(r, str) else (re.compile(r.path), r.adapter)
                   for r in m.websocket_paths]
        return cls(id=m.id, name=m.name, kind=m.kind, hosts=tuple(m.hosts), adapter=m.adapter,
                   error_shape=m.error_shape, prompt_paths=tuple(prompts),
                   upload_paths=tuple(re.compile(p) for p in m.upload_paths),
                   websocket_paths=tuple(sockets), ws_adapter=m.ws_adapter)


@dataclass(frozen=True)
class Match:
    service: Service
    kind: str  # prompt | upload | websocket | other
    adapter: str | None


class Catalogue:
    def __init__(self, services: list[Service]) -> None:
        self.services = services
        self._by_id = {s.id: s for s in services}
        self._exact: dict[str, Service] = {}
        self._wildcards: list[tuple[str, Service]] = []  # (".suffix", service), longest first
        for s in services:
            for h in s.hosts:
                if h.startswith("*."):
                    self._wildcards.append((h[1:], s))
                else:
                    self._exact[h] = s
        self._wildcards.sort(key=lambda w: -len(w[0]))

    @classmethod
    def load(cls, path_or_text: str | Path | None = None) -> Catalogue:
        """Load and validate a catalogue (default: the shipped proxy/catalogue.yaml). CatalogueError if bad."""
        model = yamlfile.load_model(path_or_text if path_or_text is not None else DEFAULT_PATH,
                                    CatalogueModel, CatalogueError, "version and services")
        return cls([Service.from_model(s) for s in model.services])

    def service(self, service_id: str) -> Service | None:
        return self._by_id.get(service_id)

    def ids(self) -> list[str]:
        return [s.id for s in self.services]

    def for_host(self, host: str) -> Service | None:
        """The service a host belongs to (exact names win over wildcards); None for non-AI hosts."""
        h = normalise_host(host)
        found = self._exact.get(h)
        if found is not None:
            return found
        for suffix, service in self._wildcards:
            if h.endswith(suffix) and len(h) > len(suffix):
                return service
        return None

    def match(self, host: str, path: str) -> Match | None:
        service = self.for_host(host)
        if service is None:
            return None
        kind, adapter = service.endpoint(path)
        return Match(service, kind, adapter)

    def allow_hosts_regexes(self) -> list[str]:
        """Regexes for mitmproxy's `allow_hosts` (matched against "host:port", case-insensitively)."""
        out = []
        for s in self.services:
            for h in s.hosts:
                if h.startswith("*."):
                    body = r"(?:[a-z0-9-]+\.)+" + re.escape(h[2:])
                else:
                    body = re.escape(h)
                out.append(rf"^{body}\.?(?::\d+)?$")
        return out


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The shipped catalogue, loaded once per process."""
    return Catalogue.load()
