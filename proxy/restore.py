"""Put the original values back where an AI reply echoes our placeholders, in the reply the user sees: in a
whole text (`restore_text`) or a stream (`StreamRestorer`). The addon that applies them is proxy/addons/restore.py.

Off by default; a tool opts in with `restore_placeholders: true` in allowlist.yaml. The guard addon puts the
`Placeholders` a reply may restore (in memory only, expiring with the conversation) in
`flow.metadata[flowmeta.PLACEHOLDERS]` and sets `flow.metadata[flowmeta.RESTORE] = True`: the whole
conversation's only for the browser that holds it (its pupilguard cookie, see proxy/notices.py), otherwise only
those the request itself carried - never everything known for a client address.

Replies arrive three ways:
* whole bodies (JSON, text): every `[PUPIL_1]`-style token the conversation knows is replaced, JSON-escaped
  inside JSON;
* streams (server-sent events, NDJSON): `StreamRestorer` works line by line, so a placeholder cut across network
  chunks — or a multi-byte character cut across them — is rejoined. Models stream a few characters per event,
  so "[PUP" may end one event's text and "IL_1]" start the next: when a JSON string in an event ends with the
  start of a placeholder, that event is held until the next event carrying the same field (unrelated events such
  as pings wait behind it, in order), the fragment moves into that field, and the events are sent together.
  Values are put into parsed JSON, so escaping is always right;
* WebSocket frames from the server: restored frame by frame.

Lines are taken to end in LF or CRLF, as every AI service sends them; a stream using bare CR line ends would be
held back up to `max_line` characters at a time.
"""
from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

TOKEN = re.compile(r"\[[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_\d+\]")
# The start of a token cut off at the end of a string: "[", "[PUP", "[PUPIL_", "[PUPIL_1".
PARTIAL = re.compile(r"\[(?:[A-Z][A-Z0-9_]{0,40})?\Z")
_MAX_HELD = 16                                  # lines queued behind a held event before it is let go as it is


class Restorer(Protocol):
    def restore(self, text: str) -> str: ...


def restore_text(text: str, placeholders: Restorer, escape: Callable[[str], str] | None = None) -> str:
    """`text` with each known placeholder replaced by its original (escaped for the context if asked)."""
    def original(m: re.Match[str]) -> str:
        value = placeholders.restore(m[0])
        if value == m[0]:
            return value                       # not one of this conversation's placeholders
        return escape(value) if escape else value

    return TOKEN.sub(original, text) if "[" in text else text


# ------------------------------------------------------------------------------------------ JSON helpers

Path = tuple[Any, ...]


def _strings(node: Any, path: Path = ()) -> list[tuple[Path, str]]:
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in _strings(value, (*path, key))]
    if isinstance(node, list):
        return [item for i, value in enumerate(node) for item in _strings(value, (*path, i))]
    return []


def _set(root: list[Any], path: Path, value: str) -> None:
    node: Any = root
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Event:
    """One JSON line of a stream (the payload parsed, wrapped in a list so the root can be replaced)."""

    def __init__(self, prefix: str, payload: str, eol: str, doc: Any) -> None:
        self.prefix, self.payload, self.eol = prefix, payload, eol
        self.root = [doc]
        self.changed = False

    def strings(self) -> dict[Path, str]:
        return dict(_strings(self.root[0], (0,)))

    def set(self, path: Path, value: str) -> None:
        _set(self.root, path, value)
        self.changed = True

    def render(self) -> str:
        return self.prefix + (_dumps(self.root[0]) if self.changed else self.payload) + self.eol


# ------------------------------------------------------------------------------------------ streams

class StreamRestorer:
    """A `flow.response.stream` callable: bytes in, bytes out, b"" at the end flushes.

    Holds back at most one line (until its newline) and, after an event ending in a partial placeholder, the
    lines up to the event that continues it (at most _MAX_HELD). Bytes that are not UTF-8 pass through
    unchanged (surrogateescape)."""

    def __init__(self, placeholders: Restorer, max_line: int = 1 << 20) -> None:
        self.placeholders = placeholders
        self.max_line = max_line
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._buf = ""                         # the current, unfinished line
        self._overflow = False                 # the current line outgrew max_line: passing it on as text
        self._held: _Event | None = None       # an event whose strings end in partial placeholders
        self._held_partials: dict[Path, str] = {}
        self._held_after: list[str] = []       # lines that came after the held event
        self._failed = False

    def __call__(self, data: bytes) -> bytes:
        if self._failed:
            return data
        try:
            return self._feed(data).encode("utf-8", "surrogateescape")
        except Exception:                      # never break the reply: from here on pass bytes through as-is
            log.exception("placeholder restoration failed; passing the rest of the reply through unchanged")
            self._failed = True
            pending = self._buf + "".join(self._held_after)
            held = self._held.render() if self._held else ""
            return (held + pending).encode("utf-8", "surrogateescape") + data

    def _feed(self, data: bytes) -> str:
        final = data == b""
        self._buf += self._decoder.decode(data, final=final)
        out: list[str] = []
        while (nl := self._buf.find("\n")) >= 0:
            line, self._buf = self._buf[:nl + 1], self._buf[nl + 1:]
            out.append(self._text(line) if self._overflow else self._line(line))
            self._overflow = False
        if final:
            if self._buf:
                out.append(self._text(self._buf) if self._overflow else self._line(self._buf))
                self._buf = ""
            out.append(self._release())
        elif len(self._buf) > self.max_line or (self._overflow and self._buf):
            # Too long to be an event we could hold: pass it on as text, keeping back a trailing partial token.
            self._overflow = True
            cut = m.start() if (m := PARTIAL.search(self._buf)) else len(self._buf)
            out.append(self._text(self._buf[:cut]))
            self._buf = self._buf[cut:]
        return "".join(out)

    def _text(self, text: str) -> str:
        return self._release() + restore_text(text, self.placeholders)

    def _line(self, line: str) -> str:
        body = line.rstrip("\r\n")
        eol = line[len(body):]
        prefix = ""
        if body.startswith("data:"):
            prefix = "data:" + (" " if body.startswith("data: ") else "")
        payload = body[len(prefix):]
        if self._held is None and "[" not in payload:
            return line                        # the common case: nothing to restore, nothing held
        if payload.lstrip()[:1] in ("{", "[", '"'):
            try:
                doc = json.loads(payload)
            except ValueError:
                pass
            else:
                return self._event(_Event(prefix, payload, eol, doc))
        if self._held is not None and not prefix:
            self._held_after.append(line)      # event:/id:/blank lines keep their place behind the held event
            return ""
        return self._release() + restore_text(line, self.placeholders)

    def _event(self, event: _Event) -> str:
        strings = event.strings()
        out = ""
        if self._held is not None:
            held_strings = self._held.strings()
            for path, partial in self._held_partials.items():
                # Move the fragment across only where the same field here continues it into a placeholder.
                merged = partial + strings.get(path, "")
                if path in strings and (TOKEN.match(merged) or PARTIAL.fullmatch(merged)):
                    self._held.set(path, held_strings[path][:-len(partial)])
                    strings[path] = partial + strings[path]
                    event.set(path, strings[path])
            if not any(path in strings for path in self._held_partials) and len(self._held_after) < _MAX_HELD \
                    and not any("[" in text for text in strings.values()):
                # An unrelated event (a ping, a status update): keep waiting for the continuation behind it.
                self._held_after.append(event.render())
                return ""
            out = self._release()
        partials: dict[Path, str] = {}
        for path, text in strings.items():
            restored = restore_text(text, self.placeholders)
            if restored != text:
                event.set(path, restored)
            if m := PARTIAL.search(restored):
                partials[path] = m[0]
        if partials:
            self._held, self._held_partials = event, partials
            return out
        return out + event.render()

    def _release(self) -> str:
        if self._held is None:
            return ""
        out = self._held.render() + "".join(self._held_after)
        self._held, self._held_partials, self._held_after = None, {}, []
        return out
