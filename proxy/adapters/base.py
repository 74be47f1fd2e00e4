"""The building blocks every adapter is made of.

An `Extraction` is a list of texts plus a way to put edited texts back. Extractions compose: a JSON body is a
document with *slots* (paths to string values); a slot can itself hold an extraction (a base64 file, a JSON
document inside a string, a form field), so "JSON in a JSON string in a form field" is three small layers
rather than one special case. Rebuilding with the texts unchanged always returns the original bytes.

(Slightly over 350 lines: the extraction, slot and rebuild types are one contract every adapter implements;
splitting them would make a reader chase one idea across files.)
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

__all__ = ["Extraction", "Unreadable", "CannotRead", "JsonSlots", "Form", "Key", "join", "single", "read_only",
           "plus_read_only", "json_dumper", "parse_json", "json_extraction", "Path", "MAX_DEPTH"]

MAX_DEPTH = 256  # JSON nesting the adapters read; deeper bodies are refused (CannotRead "body_too_deep")


@dataclass(frozen=True)
class Key:
    """The last step of a slot path that names an object key itself (not its value): rewriting it renames the key."""

    name: str


Path = tuple["str | int | Key", ...]


@dataclass(frozen=True)
class Unreadable:
    """A body (or frame) on a prompt path that no adapter could read: the proxy must block, never forward blind.

    `reason` is a short machine code for the event log; it never contains body content.
    """

    reason: str


class CannotRead(Exception):
    """Raised inside adapters for content that must not pass unread (an encrypted PDF, an unknown binary file).

    `extract_for` turns it into `Unreadable(reason)`. The message is a machine code, never content.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False)
class Extraction:
    """The texts found in one body/frame/field and how to write edited ones back.

    `rebuild(new_texts)` returns a value of the same kind as `original` (bytes for a body) with only those texts
    replaced, or None when the container cannot be rewritten faithfully (a PDF upload): the caller must
    then block rather than forward the unredacted original.
    """

    texts: list[str]
    original: Any
    _rebuild: Callable[[list[str]], Any] = field(repr=False)
    adapter: str = ""
    notes: list[str] = field(default_factory=list)  # machine codes: "fallback:generic_json", "media_not_scanned"...
    conversation: str | None = None  # a stable id of the conversation, when the body names one

    def rebuild(self, new_texts: Sequence[str]) -> Any:
        new = list(new_texts)
        if len(new) != len(self.texts):
            raise ValueError(f"rebuild needs {len(self.texts)} texts, got {len(new)}")
        if new == self.texts:
            return self.original
        try:
            return self._rebuild(new)
        except Exception:  # noqa: BLE001 - a body we cannot rewrite is reported as None: the proxy blocks it
            return None

    @classmethod
    def empty(cls, original: Any, adapter: str = "", notes: list[str] | None = None) -> Extraction:
        return cls([], original, lambda _new: original, adapter, notes or [])


def single(text: str, encode: Callable[[str], Any] | None = None) -> Extraction:
    """One text that is its own container (a JSON string value), optionally re-encoded on the way back."""
    return Extraction([text], text, (lambda new: encode(new[0])) if encode else (lambda new: new[0]))


def read_only(ex: Extraction) -> Extraction:
    """The same texts, but content the service verifies (a signed block): scanned, never rewritten. A change makes
    rebuild return None, so the proxy blocks instead of sending an altered or an unredacted copy."""
    return Extraction(ex.texts, ex.original, lambda _new: None, ex.adapter, ex.notes)


def plus_read_only(ex: Extraction, extra: Sequence[str], note: str | None = None) -> Extraction:
    """`ex` plus `extra` texts that are scanned but cannot be rewritten (a file name, text decoded from base64):
    a change to one of them makes rebuild return None, so the proxy blocks."""
    extra = [t for t in extra if t.strip()]
    if not extra:
        return ex
    n = len(ex.texts)

    def rebuild(new: list[str]) -> Any:
        return ex.rebuild(new[:n]) if new[n:] == extra else None

    notes = ex.notes + ([note] if note else [])
    return Extraction(ex.texts + extra, ex.original, rebuild, ex.adapter, notes, ex.conversation)


def join(parts: Sequence[Extraction], assemble: Callable[[list[Any]], Any], original: Any) -> Extraction:
    """Concatenate the texts of several parts; `assemble` receives each part's rebuilt value in order."""
    texts = [t for p in parts for t in p.texts]
    notes = [n for p in parts for n in p.notes]

    def rebuild(new: list[str]) -> Any:
        values, pos = [], 0
        for p in parts:
            value = p.rebuild(new[pos:pos + len(p.texts)])
            if value is None:
                return None
            values.append(value)
            pos += len(p.texts)
        return assemble(values)

    return Extraction(texts, original, rebuild, notes=notes)


# --- JSON -------------------------------------------------------------------------------------------------------

def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # parsers disagree on which duplicate wins: the service may read the one we did not
        raise CannotRead("json_duplicate_key")
    return obj


def parse_json(data: bytes | str) -> Any:
    """json.loads that reports every failure as ValueError (json.loads also raises UnicodeDecodeError/RecursionError),
    and refuses (CannotRead) an object with a duplicate key."""
    try:
        return json.loads(data, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None


_STYLES = [((",", ":"), False), ((",", ":"), True), ((", ", ": "), True), ((", ", ": "), False)]


def json_dumper(original: str, doc: Any) -> Callable[[Any], str]:
    """A serialiser that writes the same style as `original` (compact or spaced, raw or \\u-escaped non-ASCII).

    Browsers (JSON.stringify) and the httpx-based SDKs write compact UTF-8; Python's json default is spaced
    ASCII. Matching the sender keeps an edited body as close to the original as re-serialisation allows.
    """
    target = original.strip()
    best, best_gap = _STYLES[0], None
    for style in _STYLES:
        out = json.dumps(doc, separators=style[0], ensure_ascii=style[1])
        if out == target:
            best = style
            break
        gap = abs(len(out) - len(target))
        if best_gap is None or gap < best_gap:
            best, best_gap = style, gap
    seps, ascii_only = best
    return lambda value: json.dumps(value, separators=seps, ensure_ascii=ascii_only)


class JsonSlots:
    """A parsed JSON document and the string values (slots) chosen by an adapter, each with its own extraction."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.slots: list[tuple[Path, Extraction]] = []
        self.conversation: str | None = None
        self.notes: list[str] = []
        self.keys: list[Path] = []  # object keys to scan, each path ending in Key: one text for all (see extraction)
        self._seen: set[Path] = set()

    def get(self, path: Path) -> Any:
        node = self.doc
        for key in path:
            if isinstance(key, Key):
                return key.name if isinstance(node, dict) and key.name in node else None
            if isinstance(node, dict) and isinstance(key, str):
                node = node.get(key)
            elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
                node = node[key]
            else:
                return None
        return node

    def decided(self, path: Path) -> bool:
        """Whether `path` (or, for a container, its whole subtree) has been dealt with: picked or skipped."""
        return path in self._seen

    def skip(self, path: Path) -> None:
        """Mark a subtree as dealt with, so the generic sweep leaves it alone: only once its strings have been added
        another way (read-only, generic.walk_read_only). Never to leave a value unread: see fields.py."""
        self._seen.add(path)

    def add(self, path: Path, extraction: Extraction | None) -> None:
        """Pick the value at `path`; None means it was looked at and holds nothing to scan."""
        if path in self._seen:
            return
        self._seen.add(path)
        if extraction is None:
            return
        self.notes.extend(extraction.notes)
        if extraction.texts:
            self.slots.append((path, extraction))

    def key(self, path: Path) -> None:
        """Scan the object key at `path` (ending in Key). All keys of a document are scanned as one text, a key a
        line: a request's many keys cost one scan, not one each."""
        if "\n" in path[-1].name:
            raise CannotRead("json_key_with_line_break")
        if path not in self._seen:
            self._seen.add(path)
            self.keys.append(path)

    def text(self, path: Path) -> None:
        """The string at `path`, if there is a non-blank one."""
        value = self.get(path)
        if isinstance(value, str) and value.strip():
            self.add(path, single(value))

    def _set(self, path: Path, value: Any) -> None:
        node = self.doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    def _rename(self, path: Path, old: str, new: str) -> None:
        """Rename the key `old` of the object at `path` to `new`, keeping the order; a clash cannot be written."""
        node = self.get(path)
        if old == new:
            return
        if new in node:
            raise ValueError("a rewritten key would clash with another key")
        items = list(node.items())
        node.clear()
        node.update((new if k == old else k, v) for k, v in items)

    def extraction(self, original: Any, serialise: Callable[[Any], Any],
                   prepare: Callable[[], None] | None = None) -> Extraction:
        """Rebuild = write each slot's new value into the document, serialise, put the originals back.

        Writing in place and restoring avoids deep-copying large documents; rebuild is not re-entrant, which is
        fine because an Extraction belongs to one request.
        """
        paths = [p for p, _ in self.slots]
        olds = [self.get(p) for p in paths]
        parts = [e for _, e in self.slots]
        names = [p[-1].name for p in self.keys]
        if names:
            parts.append(Extraction(["\n".join(names)], names, lambda new: _lines(new[0], len(names))))

        def assemble(values: list[Any]) -> Any:
            if prepare is not None:
                prepare()  # e.g. learn the original serialisation style while the document is still original
            # Values first (their paths name the original keys), then keys, deepest first for the same reason.
            changes = list(zip(paths, values, olds))
            if names:
                changes += [(p, new, p[-1].name) for p, new in zip(self.keys, values[-1])]
            changes.sort(key=lambda c: (isinstance(c[0][-1], Key), -len(c[0])))
            done: list[tuple[Path, Any, Any]] = []
            try:
                for path, new, old in changes:
                    if isinstance(path[-1], Key):
                        self._rename(path[:-1], old, new)
                    else:
                        self._set(path, new)
                    done.append((path, new, old))
                return serialise(self.doc)
            finally:
                for path, new, old in reversed(done):
                    if isinstance(path[-1], Key):
                        self._rename(path[:-1], new, old)
                    else:
                        self._set(path, old)

        ex = join(parts, assemble, original)
        ex.notes = self.notes
        ex.conversation = self.conversation
        return ex


def _lines(text: str, count: int) -> list[str]:
    lines = text.split("\n")
    if len(lines) != count:
        raise ValueError("a redaction ran across two keys")
    return lines


def json_extraction(data: bytes | str, doc: Any, slots: JsonSlots) -> Extraction:
    """Extraction of a whole JSON body (bytes in, bytes out) or JSON string value (str in, str out) holding
    exactly the slots picked so far. Adapters use generic.json_body, which first sweeps the rest of the document."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    dumper: list[Callable[[Any], str]] = []

    def prepare() -> None:
        if not dumper:
            dumper.append(json_dumper(text, doc))

    def serialise(value: Any) -> Any:
        out = dumper[0](value)
        if isinstance(data, bytes):
            try:
                return out.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (legal as a \ud800 escape): keep it escaped
                return json.dumps(value, separators=(",", ":")).encode("ascii")
        return out

    return slots.extraction(data, serialise, prepare)


# --- application/x-www-form-urlencoded ----------------------------------------------------------------------------

class Form:
    """A urlencoded body kept as its raw pairs, so that fields we do not edit keep their exact bytes."""

    def __init__(self, body: bytes) -> None:
        self.raw = body
        text = body.decode("utf-8", "surrogateescape")
        self.pairs: list[tuple[str, str, str]] = []  # (name, value, raw pair)
        for raw in text.split("&"):
            name, _, value = raw.partition("=")
            self.pairs.append((unquote_plus(name, errors="surrogateescape"),
                               unquote_plus(value, errors="surrogateescape"), raw))

    def fields(self) -> list[tuple[int, str, str]]:
        return [(i, n, v) for i, (n, v, raw) in enumerate(self.pairs) if raw]

    def value(self, name: str) -> tuple[int, str] | None:
        for i, n, v in self.fields():
            if n == name:
                return i, v
        return None

    def extraction(self, parts: Sequence[tuple[int, Extraction]]) -> Extraction:
        """Each part is the extraction of one field's decoded value (a str); only those fields are re-encoded."""
        indexes = [i for i, _ in parts]

        def assemble(values: list[str]) -> bytes:
            raws = [raw for _, _, raw in self.pairs]
            for i, value in zip(indexes, values):
                raw_name = raws[i].partition("=")[0]
                raws[i] = raw_name + "=" + quote_plus(value, safe="*", errors="surrogateescape")
            return "&".join(raws).encode("utf-8", "surrogateescape")

        return join([e for _, e in parts], assemble, self.raw)
