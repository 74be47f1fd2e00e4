"""The restore addon: puts the original values back where an AI reply echoes our placeholders.

Which flows it touches is the guard's decision (`flowmeta.RESTORE`, with the placeholders in
`flowmeta.PLACEHOLDERS`); how a text or a stream is restored is proxy/restore.py. Here: which replies are read
(by media type), how their encoding is undone while they stream, and the three hooks (streamed replies, whole
bodies, server WebSocket frames).
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Callable

from mitmproxy import http

from proxy import flowmeta
from proxy.restore import Restorer, StreamRestorer, restore_text

_STREAM_TYPES = ("text/event-stream", "application/x-ndjson", "application/jsonl", "application/json-seq")
_BODY_TYPES = ("application/json", "text/plain", "text/markdown")


def _json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _decompressor(encoding: str) -> Callable[[bytes], bytes] | None:
    """A streaming decoder for Content-Encoding (b"" flushes), or None if we cannot decode it."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return lambda data: data
    if encoding in ("gzip", "x-gzip", "deflate"):
        z = zlib.decompressobj(zlib.MAX_WBITS | 32)     # gzip or zlib framing, detected from the header
        return lambda data: z.decompress(data) if data else z.flush()
    if encoding == "br":
        import brotli
        b = brotli.Decompressor()
        return lambda data: b.process(data) if data else b""
    if encoding == "zstd":
        import zstandard
        zs = zstandard.ZstdDecompressor().decompressobj()
        return lambda data: zs.decompress(data) if data else b""
    return None


def _chain(decode: Callable[[bytes], bytes], restorer: StreamRestorer) -> Callable[[bytes], list[bytes]]:
    # mitmproxy sends each returned chunk as it is, and an empty chunk would end a chunked HTTP/1.1 body early:
    # while a line or event is held back, return no chunk at all.
    def stream(data: bytes) -> list[bytes]:
        if data:
            plain = decode(data)
            out = restorer(plain) if plain else b""
        else:
            out = restorer(decode(b"")) + restorer(b"")
        return [out] if out else []
    return stream


def _mime(response: http.Response) -> str:
    return response.headers.get("content-type", "").partition(";")[0].strip().lower()


class RestoreAddon:
    """mitmproxy addon: restores placeholders in replies of flows the main addon marked for it."""

    @staticmethod
    def _placeholders(flow: http.HTTPFlow) -> Restorer | None:
        if not flow.metadata.get(flowmeta.RESTORE):
            return None
        return flow.metadata.get(flowmeta.PLACEHOLDERS)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        placeholders = self._placeholders(flow)
        response = flow.response
        if placeholders is None or response is None or _mime(response) not in _STREAM_TYPES:
            return
        decode = _decompressor(response.headers.get("content-encoding", ""))
        if decode is None:
            response.stream = True             # an encoding we cannot read: forward untouched
            return
        # We send the body decoded and of a new length.
        response.headers.pop("content-encoding", None)
        response.headers.pop("content-length", None)
        if response.http_version.startswith("HTTP/1") and \
                "chunked" not in response.headers.get("transfer-encoding", "").lower():
            response.headers["transfer-encoding"] = "chunked"
        response.stream = _chain(decode, StreamRestorer(placeholders))

    def response(self, flow: http.HTTPFlow) -> None:
        placeholders = self._placeholders(flow)
        response = flow.response
        if placeholders is None or response is None or response.stream:
            return
        mime = _mime(response)
        try:
            text = response.get_text(strict=True)
        except ValueError:                     # undecodable body: leave it as the service sent it
            return
        if not text or "[" not in text:
            return
        if mime in _STREAM_TYPES:
            restorer = StreamRestorer(placeholders)
            new = (restorer(text.encode("utf-8", "surrogateescape")) + restorer(b"")).decode(
                "utf-8", "surrogateescape")
        elif mime == "application/json" or mime.endswith("+json"):
            new = restore_text(text, placeholders, _json_escape)
        elif mime in _BODY_TYPES:
            new = restore_text(text, placeholders)
        else:
            return
        if new != text:
            response.set_text(new)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        placeholders = self._placeholders(flow)
        if placeholders is None or flow.websocket is None:
            return
        message = flow.websocket.messages[-1]
        if message.from_client or not message.is_text:
            return
        text = message.text
        escape = _json_escape if text.lstrip()[:1] in ("{", "[") else None
        new = restore_text(text, placeholders, escape)
        if new != text:
            message.text = new
