"""gRPC request bodies (xAI's own SDK): length-prefixed protobuf messages, read without their schema.

Without the .proto we cannot know which length-delimited field is a string and which a nested message, so we
decide by content: bytes that parse completely as a message and are not printable text are a message; valid
UTF-8 that looks like text is a string (scanned); anything else is opaque bytes (left alone). Rebuilding
re-encodes only the lengths that changed. Compressed gRPC messages are not read: the caller falls back and,
finding no text, blocks.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .base import Extraction, join

__all__ = ["grpc_body"]

_MAX_DEPTH = 12


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("bad varint")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


@dataclass
class _Field:
    head: bytes  # the tag bytes as they were
    payload: bytes  # the raw payload (length-delimited: without its length)
    wire: int


def _fields(data: bytes) -> list[_Field] | None:
    fields, pos = [], 0
    try:
        while pos < len(data):
            start = pos
            tag, pos = _varint(data, pos)
            wire, number = tag & 7, tag >> 3
            if number == 0:
                return None
            head = data[start:pos]
            if wire == 0:
                _, end = _varint(data, pos)
            elif wire == 1:
                end = pos + 8
            elif wire == 5:
                end = pos + 4
            elif wire == 2:
                length, pos = _varint(data, pos)
                end = pos + length
            else:
                return None  # groups (3/4) are obsolete; 6/7 do not exist: not a protobuf message
            if end > len(data):
                return None
            fields.append(_Field(head, data[pos:end], wire))
            pos = end
    except ValueError:
        return None
    return fields


def _text(payload: bytes) -> str | None:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text) or not any(c.isalnum() for c in text):
        return None
    return text


def _message(data: bytes, depth: int) -> Extraction | None:
    fields = _fields(data)
    if fields is None:
        return None
    parts: list[tuple[int, Extraction]] = []
    for i, f in enumerate(fields):
        if f.wire != 2 or not f.payload:
            continue
        nested = _message(f.payload, depth + 1) if depth < _MAX_DEPTH else None
        text = _text(f.payload)
        # Both readings can be valid ("\n2" + 50 characters is a message holding a string, and printable).
        # A message that itself holds text wins; a bare "hi" (which also parses) is text.
        if nested is not None and (nested.texts or text is None):
            parts.append((i, nested))
        elif text is not None:
            parts.append((i, Extraction([text], f.payload, lambda new: new[0].encode("utf-8"))))

    def assemble(values: list[bytes]) -> bytes:
        payloads = [f.payload for f in fields]
        for (i, _), value in zip(parts, values):
            payloads[i] = value
        out = bytearray()
        for f, payload in zip(fields, payloads):
            out += f.head
            if f.wire == 2:
                out += _encode_varint(len(payload))
            out += payload
        return bytes(out)

    return join([e for _, e in parts], assemble, data)


def grpc_body(body: bytes, url_path: str) -> Extraction | None:
    """gRPC framing: [compressed flag: 1 byte][length: 4 bytes big-endian][message] ..."""
    frames: list[bytes] = []
    pos = 0
    while pos < len(body):
        if pos + 5 > len(body):
            return None
        compressed, length = body[pos], struct.unpack(">I", body[pos + 1:pos + 5])[0]
        if compressed != 0 or pos + 5 + length > len(body):
            return None
        frames.append(body[pos + 5:pos + 5 + length])
        pos += 5 + length
    parts = []
    for frame in frames:
        ex = _message(frame, 0)
        if ex is None:
            return None
        parts.append(ex)

    def assemble(values: list[bytes]) -> bytes:
        return b"".join(b"\x00" + struct.pack(">I", len(v)) + v for v in values)

    ex = join(parts, assemble, body)
    ex.adapter = "grpc"
    return ex
