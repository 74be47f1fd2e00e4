"""Undo a request's Content-Encoding without ever holding more than `limit` bytes of output.

mitmproxy's own `mitmproxy.net.encoding.decode` inflates the whole body in one go, so a 50 KB gzip bomb
becomes gigabytes before anyone can look at its size. Here every decoder is driven incrementally with an
output cap, and a body that would exceed the limit raises `BodyTooLarge` (the proxy blocks it with that
reason: a prompt we cannot read in full never leaves).

After a rewrite the proxy forwards the new body *uncompressed* (drop Content-Encoding, fix Content-Length):
every HTTP server accepts identity request bodies, while re-compressing would cost CPU on the hot path for
no benefit to the user. Bodies that are forwarded unchanged keep their original bytes and header.
"""
from __future__ import annotations

import io
import zlib

import brotli
import zstandard

__all__ = ["BodyError", "BodyTooLarge", "BodyDecodeError", "decode_request_body", "encodings_of"]

_CHUNK = 64 * 1024


class BodyError(ValueError):
    """A request body the proxy cannot read. Messages never contain body bytes."""

    reason = "body_unreadable"


class BodyTooLarge(BodyError):
    reason = "body_too_large"

    def __init__(self, limit: int, stage: str = "body") -> None:
        super().__init__(f"{stage} exceeds the {limit}-byte limit")
        self.limit = limit


class BodyDecodeError(BodyError):
    reason = "body_encoding_error"


def encodings_of(content_encoding: str | None) -> list[str]:
    """The codings in the order they were applied ("gzip, br" = gzip first, then brotli)."""
    if not content_encoding:
        return []
    return [c.strip().lower() for c in content_encoding.split(",") if c.strip() and c.strip().lower() != "identity"]


def decode_request_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body with every Content-Encoding undone, last-applied first.

    Raises BodyTooLarge when the raw body or any decoded stage is larger than `limit` bytes, and
    BodyDecodeError for an unknown coding or corrupt/truncated compressed data.
    """
    if len(raw) > limit:
        raise BodyTooLarge(limit)
    if not raw:
        return raw
    data = raw
    for coding in reversed(encodings_of(content_encoding)):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise BodyDecodeError(f"unsupported Content-Encoding {coding!r}")
        try:
            data = decoder(data, limit)
        except BodyError:
            raise
        except (zlib.error, brotli.error, zstandard.ZstdError, EOFError, OSError) as exc:
            raise BodyDecodeError(f"corrupt {coding} data ({type(exc).__name__})") from None
    return data


def _zlib_stream(data: bytes, limit: int, wbits: int, coding: str) -> bytes:
    """Inflate with an output cap; also handles concatenated gzip members (allowed by RFC 1952)."""
    out = bytearray()
    while True:
        d = zlib.decompressobj(wbits)
        buf = data
        while buf:
            out += d.decompress(buf, limit + 1 - len(out))
            if len(out) > limit:
                raise BodyTooLarge(limit, f"decoded {coding} body")
            buf = d.unconsumed_tail
        if not d.eof:
            raise BodyDecodeError(f"truncated {coding} data")
        data = d.unused_data
        if not data or coding != "gzip" or not data.lstrip(b"\0"):
            return bytes(out)  # trailing NUL padding after the last gzip member is tolerated, like gzip(1)


def _gunzip(data: bytes, limit: int) -> bytes:
    return _zlib_stream(data, limit, 16 + zlib.MAX_WBITS, "gzip")


def _inflate(data: bytes, limit: int) -> bytes:
    # "deflate" means zlib-wrapped (RFC 9110), but some clients send raw DEFLATE: accept both, as browsers do.
    try:
        return _zlib_stream(data, limit, zlib.MAX_WBITS, "deflate")
    except (zlib.error, BodyDecodeError):
        return _zlib_stream(data, limit, -zlib.MAX_WBITS, "deflate")


def _unbrotli(data: bytes, limit: int) -> bytes:
    d = brotli.Decompressor()
    out = bytearray()
    view = memoryview(data)
    pos = 0
    while True:
        if d.can_accept_more_data():
            if pos >= len(view):
                break
            chunk, pos = view[pos:pos + _CHUNK], pos + _CHUNK
        else:
            chunk = b""  # drain what the decoder already holds before feeding more
        out += d.process(chunk, output_buffer_limit=limit + 1 - len(out))
        if len(out) > limit:
            raise BodyTooLarge(limit, "decoded br body")
    if not d.is_finished():
        raise BodyDecodeError("truncated br data")
    return bytes(out)


def _unzstd(data: bytes, limit: int) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    out = bytearray()
    while True:
        chunk = reader.read(min(_CHUNK, limit + 1 - len(out)))
        if not chunk:
            break
        out += chunk
        if len(out) > limit:
            raise BodyTooLarge(limit, "decoded zstd body")
    # The reader stops quietly at truncated input. Its output was within the limit, so a second, unbounded
    # pass frame by frame is safe and tells us whether every frame was complete.
    rest = data
    while rest:
        d = zstandard.ZstdDecompressor().decompressobj()
        d.decompress(rest)
        if not d.eof:
            raise BodyDecodeError("truncated zstd data")
        rest = d.unused_data
    return bytes(out)


_DECODERS = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _inflate,
    "br": _unbrotli,
    "zstd": _unzstd,
}
