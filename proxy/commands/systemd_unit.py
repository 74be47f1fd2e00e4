"""A systemd service unit read the way systemd runs it: its environment files and its command lines.

`pupilguard doctor` checks the settings the proxy unit actually starts the proxy with, and the deployment test
starts both services from their installed units, so neither can drift from what systemd would run. Only what
pupilguard's units use is supported: `EnvironmentFile=` (a leading `-` makes it optional), `Environment=`,
`ExecStartPre=`/`ExecStart=` with `\\` continuations, `${NAME}` (one word) and a lone `$NAME` (split on spaces).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_LONE_VARIABLE = re.compile(r"^\$(\w+)$")


class UnitError(Exception):
    """The unit or one of its environment files cannot be read."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd reads them: # and ; start comments, one pair of surrounding quotes is removed."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        name, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


@dataclass
class ServiceUnit:
    path: Path
    environment: dict[str, str] = field(default_factory=dict)
    exec_start_pre: list[list[str]] = field(default_factory=list)
    exec_start: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> ServiceUnit:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UnitError(f"cannot read {path}: {exc.strerror}") from None
        unit = cls(path)
        raw_commands: list[tuple[str, str]] = []
        section = ""
        for line in re.sub(r"\\\n", " ", text).splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]" or "=" not in line:
                continue
            key, _, value = (part.strip() for part in line.partition("="))
            if key == "EnvironmentFile":
                optional = value.startswith("-")
                env_file = Path(value.lstrip("-"))
                try:
                    unit.environment.update(read_env_file(env_file))
                except OSError as exc:
                    if not optional:
                        raise UnitError(f"{path}: cannot read EnvironmentFile {env_file}: {exc.strerror}") from None
            elif key == "Environment":
                unit.environment.update(pair.partition("=")[::2] for pair in shlex.split(value))
            elif key in ("ExecStartPre", "ExecStart"):
                raw_commands.append((key, value.lstrip("-@:+!")))
        for key, value in raw_commands:  # expanded once every environment file is read, as systemd does
            argv = unit._expand(value)
            if key == "ExecStart":
                unit.exec_start = argv
            else:
                unit.exec_start_pre.append(argv)
        if not unit.exec_start:
            raise UnitError(f"{path} has no ExecStart=")
        return unit

    def _expand(self, command: str) -> list[str]:
        argv: list[str] = []
        for word in shlex.split(command):
            if lone := _LONE_VARIABLE.match(word):
                argv.extend(self.environment.get(lone[1], "").split())
            else:
                argv.append(_VARIABLE.sub(lambda m: self.environment.get(m[1] or m[2], ""), word))
        return argv
