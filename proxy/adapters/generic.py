"""Every string of a JSON document: the sweep behind every JSON adapter, and the whole reading of AI bodies no
specific adapter understands.

A specific adapter picks the fields it knows (precision: where the prompt is, which id names the conversation);
`json_body` then sweeps the rest of the document with `walk_json`, so a field the adapter does not know (a tool
description, page context, a new field next month) is scanned all the same. The sweep is where the completeness
rule is enforced: every string value *and every object key*, at any depth, becomes a slot, unless the reviewed list
in fields.py says that field cannot carry free text and its value has that field's shape. Keys are rewritten when
redacted (a JSON-schema property named after a pupil); a document nested deeper than we read is refused.
Numbers long enough to be an identifier (an NHS number sent as a JSON number) are scanned too.
Binary base64 blobs and opaque tokens are not scanned (ten random digits in an image would be false matches), but
only when nothing in them reads like words.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .base import (MAX_DEPTH, CannotRead, Extraction, Form, JsonSlots, Key, Path, json_extraction, parse_json,
                   plus_read_only, read_only, single)
from .fields import name_pair, opaque, plain_key, skippable, url_shape
from .files import base64_extraction, sniff_text, text_extraction

__all__ = ["walk_json", "walk_read_only", "json_body", "form_body", "generic_json", "generic_form", "whole_text",
           "string_extraction"]

_TOKENISH = re.compile(r"^[A-Za-z0-9+/=_\-]{64,}$")  # long, no spaces: base64 or an opaque token
_NESTED_MIN = 2
_LONG_NUMBER = 10 ** 6  # seven digits and more: a phone, NHS or pupil number may be sent as a JSON number


def skip_value(value: str) -> bool:
    """A value that carries nothing to scan by its shape alone, wherever it sits."""
    s = value.strip()
    return not s or not any(ch.isalnum() for ch in s) or opaque(s) or url_shape(s)


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
        if not _slug(s) and (not name_pair(s) or _binary_base64(s)):
            return None  # binary blob or opaque token: never scanned, never altered
    return single(value)


def _binary_base64(s: str) -> bool:
    """Valid base64 (or a base64 data: URL): bytes that base64_extraction found to be neither text nor a file we
    read - an image, a signature. Capitalised pairs turn up in such runs by chance."""
    payload = s.split(",", 1)[1] if s.startswith("data:") and ";base64," in s[:200] else s
    try:
        if "-" in payload or "_" in payload:
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        else:
            base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _slug(s: str) -> bool:
    """A long word_joined-or-hyphenated name ("Leo_Fischer_behaviour_report_..."), not a token: scan it."""
    return len(s) <= 256 and s.count("_") + s.count("-") >= 3 and not any(c in s for c in "+/=")


def walk_json(slots: JsonSlots, path: Path, node: Any, depth: int = 0) -> None:
    """Add a slot for every string and key under `node` (which sits at `path` in slots.doc) that no adapter has
    picked yet and that the reviewed list (fields.py) does not let through. CannotRead beyond MAX_DEPTH."""
    if slots.decided(path):
        return
    if depth > MAX_DEPTH:
        raise CannotRead("body_too_deep")
    if isinstance(node, dict):
        for key, value in node.items():
            if not plain_key(key):
                slots.key(path + (Key(key),))
            if isinstance(value, str) and skippable(key, value):
                continue
            walk_json(slots, path + (key,), value, depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk_json(slots, path + (i,), value, depth + 1)
    elif isinstance(node, str):
        slots.add(path, string_extraction(node, depth))
    elif isinstance(node, int) and not isinstance(node, bool) and abs(node) >= _LONG_NUMBER:
        slots.add(path, Extraction([str(node)], node, lambda new: new[0]))


def walk_read_only(slots: JsonSlots, path: Path, node: Any) -> None:
    """Scan the strings under `node` but never rewrite them (a signed thinking block): a change blocks."""
    inner = JsonSlots(node)
    walk_json(inner, (), node)
    for p, ex in inner.slots:
        slots.add(path + p, read_only(ex))
    for p in inner.keys:
        slots.add(path + p, read_only(single(p[-1].name)))
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
    names = []
    for i, name, value in form.fields():
        if not plain_key(name):
            names.append(name)
        if i in picked or skippable(name, value):
            continue
        ex = string_extraction(value)
        if ex is not None and ex.texts:
            parts.append((i, ex))
    return plus_read_only(form.extraction(parts), names)


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
