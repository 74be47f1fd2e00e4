"""Reading the YAML files IT staff edit (allowlist, policy) with errors that point at the line to fix."""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def read_text(path_or_text: str | Path) -> tuple[str, str]:
    """(text, source name). A Path, or a one-line string naming an existing file or ending in .yaml/.yml, is
    read; anything else is YAML text."""
    if isinstance(path_or_text, Path) or ("\n" not in path_or_text and (
            path_or_text.endswith((".yaml", ".yml")) or Path(path_or_text).is_file())):
        path = Path(path_or_text)
        try:
            return path.read_text(encoding="utf-8-sig"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot read: {exc}") from None
    return path_or_text, "<text>"


# libyaml's loader where PyYAML was built with it (the wheels are): the admin reads the allowlist on every page.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The loaded data and its node tree (for line numbers). Raises ValueError with the line of a syntax error."""
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ValueError(f"{source}{where}: {problem}") from None
    return data, node


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest node along a pydantic error location."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(key)), None)
            if child is None:
                break
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            continue  # pydantic adds names of union branches/validators to the location; skip them
        line = node.start_mark.line + 1
    return line


def describe(exc: ValidationError, node: yaml.Node | None, source: str) -> str:
    """One message per problem: `source line N: field.path: what is wrong`."""
    parts = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        line = line_of(node, loc)
        where = f" line {line}" if line else ""
        parts.append(f"{source}{where}: {field}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def load_model(path_or_text: str | Path, model: type[M], error: type[Exception], expected: str) -> M:
    """Read, parse and validate one of these files: `error` (with file and line) on any problem.
    `expected` says what the top level should hold, for a file that is not a mapping at all."""
    try:
        text, source = read_text(path_or_text)
        data, node = parse(text, source)
    except ValueError as exc:
        raise error(str(exc)) from None
    if not isinstance(data, dict):
        raise error(f"{source}: expected a mapping with {expected}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(describe(exc, node, source)) from None
