"""Every string of a JSON document that could carry words: the sweep behind every JSON adapter, and the whole
reading of AI bodies no specific adapter understands.

A specific adapter picks the fields it knows (precision: where the prompt is, which id names the conversation);
`json_body` then sweeps the rest of the document with `walk_json`, so a field the adapter does not know (a tool
description, page context, a new field next month) is scanned all the same. What must NOT be altered (or scanned)
is as important as what must: ids, model names, enum values, URLs, signatures and opaque tokens break a request if
a redaction touches them, and binary base64 blobs would give false matches (ten random digits in an image).
Everything else is scanned: numbers-only strings stay in, because an NHS number or a phone number is exactly that.
Tool and response schemas are developer-written but the model reads their descriptions, so those are scanned
while their structure (names, required lists, patterns, references) is left exactly as it is.
"""
from __future__ import annotations

import re
from typing import Any

from .base import CannotRead, Extraction, Form, JsonSlots, Path, json_extraction, parse_json, read_only, single
from .files import base64_extraction, sniff_text, text_extraction

__all__ = ["walk_json", "walk_read_only", "json_body", "form_body", "generic_json", "generic_form", "whole_text",
           "skip_key", "skip_value"]

_SKIP_KEYS = {
    "id", "ids", "uuid", "model", "models", "role", "type", "object", "kind", "mimetype", "mediatype",
    "contenttype", "encoding", "format", "signature", "encryptedcontent", "thoughtsignature", "url", "uri", "href",
    "timezone", "timezoneoffset", "locale", "language", "voice", "action", "method", "operationname", "queryname",
    "docid", "hash", "sha256", "checksum", "etag", "token", "csrftoken", "fbdtsg", "jazoest", "lsd", "status",
    "finishreason", "toolchoice", "servicetier", "reasoningeffort", "effort", "modalities", "event", "at",
    "target", "command", "origin", "source", "platform", "useragent", "clientversion", "version", "apiversion",
    "authorization", "apikey", "password", "secret",
}
# Settings made of enum values only (harm categories, calling modes): skipped, except a schema inside them.
_SETTINGS_SUBTREES = {"toolconfig", "generationconfig", "safetysettings"}
# Tool declarations and JSON schemas: their descriptions, titles, examples and enum values are read by the model
# and scanned; their structure is skipped (see _SCHEMA_KEYS).
_SCHEMA_SUBTREES = {"tools", "functions", "functiondeclarations", "jsonschema", "schema", "responseformat",
                    "parameters", "inputschema", "outputschema", "responseschema", "responsejsonschema"}
# In a schema, strings (and lists of strings) under these keys are names the request refers to elsewhere.
_SCHEMA_KEYS = {"name", "required", "pattern", "$ref", "$schema", "$id", "$anchor", "$dynamicref", "$dynamicanchor",
                "propertyordering", "strict", "dependentrequired"}
_SKIP_KEY_SUFFIX = re.compile(r"(?:^|[_\-.])(?:id|ids|uuid|url|uri|token|hash|type|format)$"
                              r"|[a-z0-9](?:Id|Ids|Uuid|Url|Uri|Token|Hash|Type|Format)$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_URL = re.compile(r"^(?:https?|wss?|blob|gs|s3|file|sediment|file-service)://\S*$", re.IGNORECASE)
_HEX = re.compile(r"^(?:0x)?[0-9a-fA-F]{16,}$")
# "c_8f2a1b3c4d5e6f70": a prefixed random hex id. Three hex letters at least, so "upn_a820106510023" stays text.
_PREFIXED_HEX = re.compile(r"^[A-Za-z]{1,12}[_-](?=(?:[0-9]*[a-f]){3})(?=(?:[a-f]*[0-9]){2})[0-9a-f]{12,}$")
_JWT = re.compile(r"^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$")
_TOKENISH = re.compile(r"^[A-Za-z0-9+/=_\-]{64,}$")  # long, no spaces: base64 or an opaque token
_NESTED_MIN = 2


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def skip_key(key: str) -> bool:
    """A key whose *string* value is an id, enum, URL or token. Containers under such keys are still walked."""
    return _norm(key) in _SKIP_KEYS or bool(_SKIP_KEY_SUFFIX.search(key))


def _schema_structure(key: str, value: Any) -> bool:
    return _norm(key) in _SCHEMA_KEYS and (isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)))


def skip_value(value: str) -> bool:
    s = value.strip()
    return (not s or not any(ch.isalnum() for ch in s) or bool(_UUID.match(s)) or bool(_URL.match(s))
            or bool(_HEX.match(s)) or bool(_PREFIXED_HEX.match(s)) or bool(_JWT.match(s)))


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
            return json_extraction(value, inner, slots)
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


def walk_json(slots: JsonSlots, path: Path, node: Any, depth: int = 0, *, schema: bool = False) -> None:
    """Add a slot for every scannable string under `node` (which sits at `path` in slots.doc) that no adapter has
    picked or skipped yet. `schema`: inside a tool declaration or JSON schema."""
    if depth > 64 or slots.decided(path):
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and skip_key(key):
                continue
            if schema and _schema_structure(key, value):
                continue
            name = _norm(key)
            if name in _SETTINGS_SUBTREES:
                if isinstance(value, dict):
                    for k, v in value.items():
                        if "schema" in _norm(k):
                            walk_json(slots, path + (key, k), v, depth + 2, schema=True)
                continue
            walk_json(slots, path + (key,), value, depth + 1, schema=schema or name in _SCHEMA_SUBTREES)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk_json(slots, path + (i,), value, depth + 1, schema=schema)
    elif isinstance(node, str):
        slots.add(path, string_extraction(node, depth))


def walk_read_only(slots: JsonSlots, path: Path, node: Any) -> None:
    """Scan the strings under `node` but never rewrite them (a signed thinking block): a change blocks."""
    inner = JsonSlots(node)
    walk_json(inner, (), node)
    for p, ex in inner.slots:
        slots.add(path + p, read_only(ex))
    slots.notes.extend(inner.notes)
    slots.skip(path)


def json_body(data: bytes | str, doc: Any, slots: JsonSlots) -> Extraction:
    """The extraction of a JSON body or JSON string value: the slots an adapter picked, then every other string
    of the document that could carry words (`walk_json`). rebuild with unchanged texts returns `data` itself."""
    walk_json(slots, (), doc)
    return json_extraction(data, doc, slots)


def generic_json(body: bytes | str, doc: Any) -> Extraction:
    ex = json_body(body, doc, JsonSlots(doc))
    ex.adapter = "generic_json"
    return ex


def form_body(form: Form, parts: list[tuple[int, Extraction]]) -> Extraction:
    """The extraction of a urlencoded body: the fields an adapter picked (`parts`), then every other field that
    could carry words. Only the fields whose text changes are re-encoded."""
    picked = {i for i, _ in parts}
    parts = list(parts)
    for i, name, value in form.fields():
        if i in picked or skip_key(name):
            continue
        ex = string_extraction(value)
        if ex is not None and ex.texts:
            parts.append((i, ex))
    return form.extraction(parts)


def generic_form(body: bytes) -> Extraction:
    ex = form_body(Form(body), [])
    ex.adapter = "generic_form"
    return ex


def whole_text(body: bytes) -> Extraction | None:
    """The whole body as one text in its own encoding; None if it is not text at all."""
    sniffed = sniff_text(body)
    if sniffed is None:
        return None
    return text_extraction(body, sniffed[1], sniffed[0], "whole_text")
