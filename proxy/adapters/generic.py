"""The fallback for AI bodies no specific adapter understands: every string that could carry words.

What must NOT be altered (or scanned) is as important as what must: ids, model names, enum values, URLs,
signatures and opaque tokens break a request if a redaction touches them, and binary base64 blobs would give
false matches (ten random digits in an image). Everything else is scanned: numbers-only strings stay in,
because an NHS number or a phone number is exactly that.
"""
from __future__ import annotations

import re
from typing import Any

from .base import CannotRead, Extraction, Form, JsonSlots, Path, json_body, parse_json, single
from .files import base64_extraction, sniff_text, text_extraction

__all__ = ["walk_json", "generic_json", "generic_form", "whole_text", "skip_key", "skip_value"]

_SKIP_KEYS = {
    "id", "ids", "uuid", "model", "models", "role", "type", "object", "kind", "mimetype", "mediatype",
    "contenttype", "encoding", "format", "signature", "encryptedcontent", "thoughtsignature", "url", "uri", "href",
    "timezone", "timezoneoffset", "locale", "language", "voice", "action", "method", "operationname", "queryname",
    "docid", "hash", "sha256", "checksum", "etag", "token", "csrftoken", "fbdtsg", "jazoest", "lsd", "status",
    "finishreason", "toolchoice", "servicetier", "reasoningeffort", "effort", "modalities", "event", "at",
    "target", "command", "origin", "source", "platform", "useragent", "clientversion", "version", "apiversion",
}
# Developer-written schemas and settings: whole subtrees that carry no user text and must stay byte-exact.
_SKIP_SUBTREES = {"tools", "functions", "toolconfig", "generationconfig", "safetysettings", "jsonschema", "schema",
                  "responseformat", "parameters"}
_SKIP_KEY_SUFFIX = re.compile(r"(?:^|[_\-.])(?:id|ids|uuid|url|uri|token|hash|type)$|[a-z0-9](?:Id|Ids|Uuid|Url|Uri|Token|Hash|Type)$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_URL = re.compile(r"^(?:https?|wss?|blob|gs|s3|file|sediment|file-service)://\S*$", re.IGNORECASE)
_HEX = re.compile(r"^(?:0x)?[0-9a-fA-F]{16,}$")
_JWT = re.compile(r"^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$")
_TOKENISH = re.compile(r"^[A-Za-z0-9+/=_\-]{64,}$")  # long, no spaces: base64 or an opaque token
_NESTED_MIN = 2


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def skip_key(key: str) -> bool:
    """A key whose *string* value is an id, enum, URL or token. Containers under such keys are still walked."""
    return _norm(key) in _SKIP_KEYS or bool(_SKIP_KEY_SUFFIX.search(key))


def skip_subtree(key: str) -> bool:
    return _norm(key) in _SKIP_SUBTREES


def skip_value(value: str) -> bool:
    s = value.strip()
    return (not s or not any(ch.isalnum() for ch in s) or bool(_UUID.match(s)) or bool(_URL.match(s))
            or bool(_HEX.match(s)) or bool(_JWT.match(s)))


def string_extraction(value: str, depth: int = 0) -> Extraction | None:
    """One string value of unknown meaning: nested JSON, base64/data: text file, opaque token, or text."""
    if skip_value(value):
        return None
    s = value.strip()
    if depth < 8 and len(s) >= _NESTED_MIN and s[0] in "[{" and s[-1] in "]}":
        try:
            inner = parse_json(value)
        except ValueError:
            inner = None
        if isinstance(inner, (dict, list)):
            slots = JsonSlots(inner)
            walk_json(slots, (), inner, depth + 1)
            return json_body(value, inner, slots)
    if s.startswith("data:") or _TOKENISH.match(s):
        try:
            b64 = base64_extraction(s, strict=False)
        except CannotRead:
            raise  # a document we found but cannot read: the request must not pass unread
        except Exception:  # noqa: BLE001 - a wrong guess at unknown data must never fail the request
            b64 = None
        if b64 is not None and s == value:
            return b64
        if not _slug(s):
            return None  # binary blob or opaque token: never scanned, never altered
    return single(value)


def _slug(s: str) -> bool:
    """A long word_joined-or-hyphenated name ("Leo_Fischer_behaviour_report_..."), not a token: scan it."""
    return len(s) <= 256 and s.count("_") + s.count("-") >= 3 and not any(c in s for c in "+/=")


def walk_json(slots: JsonSlots, path: Path, node: Any, depth: int = 0) -> None:
    """Add a slot for every scannable string under `node` (which sits at `path` in slots.doc)."""
    if depth > 64:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if skip_subtree(key) or (isinstance(value, str) and skip_key(key)):
                continue
            walk_json(slots, path + (key,), value, depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk_json(slots, path + (i,), value, depth + 1)
    elif isinstance(node, str):
        slots.add(path, string_extraction(node, depth))


def generic_json(body: bytes | str, doc: Any) -> Extraction:
    slots = JsonSlots(doc)
    walk_json(slots, (), doc)
    ex = json_body(body, doc, slots)
    ex.adapter = "generic_json"
    return ex


def generic_form(body: bytes) -> Extraction:
    form = Form(body)
    parts = []
    for i, name, value in form.fields():
        if skip_key(name):
            continue
        ex = string_extraction(value)
        if ex is not None and ex.texts:
            parts.append((i, ex))
    ex = form.extraction(parts)
    ex.adapter = "generic_form"
    return ex


def whole_text(body: bytes) -> Extraction | None:
    """The whole body as one text in its own encoding; None if it is not text at all."""
    sniffed = sniff_text(body)
    if sniffed is None:
        return None
    return text_extraction(body, sniffed[1], sniffed[0], "whole_text")
