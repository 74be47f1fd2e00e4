"""How a pupilguard service declares its settings: one pydantic-settings model, written once with `setting()`.

One precedence for every setting of every service: flag > environment variable > env file > default. From the
model come the service's flags (`add_flags`), its one-line configuration errors (`describe_error`) and the README's
settings table (`markdown_table`), so a setting's name, type, default and help text are written in one place.
The proxy (proxy/settings.py) and the admin service (admin_api/settings.py) both build on this module; neither
imports the other.

Environment variables are PUPILGUARD_ + the setting's name in capitals unless a setting names its own (`env=`).
A list is a JSON list in the environment; an empty variable counts as unset.
"""
from __future__ import annotations

import argparse
import os
import typing
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import AliasChoices, Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

PREFIX = "PUPILGUARD_"

_environ: ContextVar[Mapping[str, str] | None] = ContextVar("pupilguard_environ", default=None)


def setting(default: Any = ..., help: str = "", *, flag: str | None = "", metavar: str | None = None,
            env: str | AliasChoices | None = None, shown_default: str | None = None, secret: bool = False,
            default_factory: Any = None, extra: Mapping[str, Any] | None = None, **constraints: Any) -> Any:
    """One setting: its default and help, its flag (None: no flag; "" for --name-in-kebab-case), its environment
    variable (default PUPILGUARD_NAME), how the README shows a default that is worked out at run time, and any
    validation `constraints` (ge=, min_length=, ...). `extra` is what a service itself reads from its settings'
    declarations (the proxy: which are mitmproxy options)."""
    described = {"flag": flag, "metavar": metavar, "shown_default": shown_default, **(extra or {})}
    given = {"default_factory": default_factory} if default_factory else {"default": default}
    return Field(**given, description=help, json_schema_extra=described, repr=not secret, validation_alias=env,
                 **constraints)


class ServiceSettings(BaseSettings):
    """A service's settings. Frozen: read once at start-up (`load`), then passed to what needs them.

    A service that reads an env file declares a setting `env_file`; `load` reads the file it names."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True, env_ignore_empty=True)

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
    def load(cls, flags: Mapping[str, Any] | argparse.Namespace, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from parsed flags (unset ones are None), the environment (this process's unless given)
        and the env file named by the `env_file` setting's flag or environment variable."""
        given = cls.given_flags({name: value for name, value in dict(
            vars(flags) if isinstance(flags, argparse.Namespace) else flags).items()
            if name in cls.model_fields and value is not None})
        env = os.environ if environ is None else environ
        env_file = None
        if "env_file" in cls.model_fields:
            env_file = given.get("env_file") or env.get(env_name(cls, "env_file")) or None
            if env_file is not None and not Path(env_file).is_file():
                raise FileNotFoundError(f"{flag_name(cls, 'env_file') or env_name(cls, 'env_file')} {env_file}: "
                                        "no such file")
        # a setting with its own environment variable takes that name as a keyword too (it is its alias)
        given = {env_name(cls, name) if cls.model_fields[name].validation_alias else name: value
                 for name, value in given.items()}
        token = _environ.set(environ)
        try:
            return cls(_env_file=env_file, **given)
        finally:
            _environ.reset(token)

    @classmethod
    def given_flags(cls, given: dict[str, Any]) -> dict[str, Any]:
        """The flags given, as the settings they set; a service adjusts them where one flag outranks another
        setting's environment variable."""
        return given


class _Environment(EnvSettingsSource):
    """Environment variables from a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


# -------------------------------------------------------------------------------------------- derived declarations

def declared(info: FieldInfo) -> dict[str, Any]:
    """What `setting()` recorded about a setting besides its default and help."""
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
    flag = declared(model.model_fields[name]).get("flag", None)
    return None if flag is None else flag or "--" + name.replace("_", "-")


def shown_default(info: FieldInfo) -> str:
    """A default as --help and the README show it: a value in backquotes, words (worked out at run time) without;
    nothing when unset."""
    extra = declared(info)
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


def add_flags(parser: argparse.ArgumentParser, model: type[BaseSettings], names: tuple[str, ...] | None = None,
              ) -> None:
    """A flag for each setting that has one (of `names`, if given). Every flag defaults to None (unset), so the
    environment, the env file and the declared default come next in `ServiceSettings.load`."""
    for name, info in model.model_fields.items():
        flag = flag_name(model, name)
        if flag is None or (names is not None and name not in names):
            continue
        default = shown_default(info).replace("`", "")
        help_text = (info.description or "") + (f" (default: {default})" if default and default != "false" else "")
        help_text = help_text.replace("%", "%%") + f" [{env_name(model, name)}]"
        kwargs: dict[str, Any] = {"dest": name, "default": None, "help": help_text}
        annotation = info.annotation
        if annotation is bool:
            kwargs["action"] = "store_true"
        elif typing.get_origin(annotation) is list:
            kwargs.update(action="append", metavar=declared(info).get("metavar"))
        elif choices := _choices(annotation):
            kwargs["choices"] = choices
        else:
            kwargs["metavar"] = declared(info).get("metavar")
            kwargs["type"] = int if _is(annotation, int) else float if _is(annotation, float) else str
        parser.add_argument(flag, **kwargs)


def describe_error(model: type[BaseSettings], exc: Any) -> str:
    """A settings ValidationError in one line, naming each setting by its flag (or environment variable)."""
    by_env = {env.upper(): name for name in model.model_fields for env in env_names(model, name)}
    parts = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        name = by_env.get(key.upper(), key)
        where = key
        if name in model.model_fields:
            where = " or ".join(w for w in (flag_name(model, name), env_name(model, name)) if w)
        message = "required" if error["type"] == "missing" else error["msg"]
        parts.append(f"{where}: {message}" if where else message)
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
