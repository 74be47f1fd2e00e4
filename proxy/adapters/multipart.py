"""File uploads: multipart/form-data (and multipart/related) bodies, or a raw file as the whole body.

A multipart body is split on its boundary and kept as raw segments: a rebuilt body has the same boundary, the
same part headers byte for byte, and only the edited part contents changed.
"""
from __future__ import annotations

import base64
import binascii
import re
from email.message import Message

from .base import CannotRead, Extraction, join, parse_json, plus_read_only
from .fields import plain_key, skippable
from .files import file_extraction, sniff_text, text_extraction
from .generic import generic_json

__all__ = ["boundary_of", "multipart", "raw_upload"]

_CRLF = b"\r\n"


def _params(header_value: str) -> Message:
    msg = Message()
    msg["content-type"] = header_value
    return msg


def boundary_of(content_type: str) -> str | None:
    if not content_type.lower().startswith("multipart/"):
        return None
    boundary = _params(content_type).get_param("boundary")
    return boundary if isinstance(boundary, str) and 0 < len(boundary) <= 200 else None


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _disposition(value: str) -> tuple[str, str | None]:
    """(field name, filename or None) from a Content-Disposition header value (RFC 7578, RFC 5987 filename*)."""
    msg = Message()
    msg["content-disposition"] = value
    name = msg.get_param("name", header="content-disposition")
    filename = msg.get_filename()
    return (name if isinstance(name, str) else ""), filename


def _part_extraction(headers: dict[str, str], content: bytes) -> Extraction:
    """A part's content, plus its field name and file name (read, not rewritten: "Leo Fischer report.docx")."""
    name, filename = _disposition(headers.get("content-disposition", ""))
    labels = [n for n in (name if not plain_key(name) else "", filename or "") if n]
    return plus_read_only(_part_content(name, filename, headers, content), labels)


def _part_content(name: str, filename: str | None, headers: dict[str, str], content: bytes) -> Extraction:
    ctype = headers.get("content-type", "")
    cte = headers.get("content-transfer-encoding", "").lower()
    if cte == "base64":
        try:
            data = base64.b64decode(re.sub(rb"\s+", b"", content), validate=True)
        except (binascii.Error, ValueError):
            raise CannotRead("multipart_bad_base64") from None
        inner = _content_extraction(name, filename, ctype, data)

        def rebuild(new: list[str]) -> bytes | None:
            out = inner.rebuild(new)
            return None if out is None else base64.encodebytes(out).replace(b"\n", _CRLF).rstrip(_CRLF)

        return Extraction(inner.texts, content, rebuild, inner.adapter, inner.notes)
    return _content_extraction(name, filename, ctype, content)


def _content_extraction(name: str, filename: str | None, ctype: str, data: bytes) -> Extraction:
    mime = ctype.split(";")[0].strip().lower()
    if filename is None and (mime in ("", "text/plain")):
        sniffed = sniff_text(data)
        if sniffed is not None:  # an ordinary form field (purpose=assistants, a prompt typed with a file...)
            if skippable(name, sniffed[0]):
                return Extraction.empty(data)
            return text_extraction(data, sniffed[1], sniffed[0], "form_field")
    if filename is None and mime == "application/json":  # upload metadata (Gemini multipart/related)
        try:
            return generic_json(data, parse_json(data))
        except ValueError:
            pass
    return file_extraction(data, mime, filename or "")


def multipart(body: bytes, content_type: str) -> Extraction | None:
    boundary = boundary_of(content_type)
    if boundary is None:
        return None
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    segments = body.split(delimiter)
    if len(segments) < 2:
        return None
    parts: list[tuple[int, Extraction, bytes, bytes]] = []  # (segment index, extraction, head, tail)
    for i, segment in enumerate(segments[1:], start=1):
        if segment.startswith(b"--"):
            break  # close delimiter; the rest is epilogue
        head_end = segment.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head, rest = segment[:head_end + 4], segment[head_end + 4:]
        tail = _CRLF if rest.endswith(_CRLF) else b""
        content = rest[:len(rest) - len(tail)]
        parts.append((i, _part_extraction(_headers(head), content), head, tail))
    else:
        return None  # no close delimiter: a truncated body

    def assemble(values: list[bytes]) -> bytes:
        out = list(segments)
        for (i, _, head, tail), value in zip(parts, values):
            out[i] = head + value + tail
        return delimiter.join(out)

    ex = join([e for _, e, _, _ in parts], assemble, body)
    ex.adapter = "multipart"
    return ex


def raw_upload(body: bytes, content_type: str, filename: str = "") -> Extraction:
    """The body is the file itself (resumable uploads, blob-storage PUTs)."""
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        try:
            return generic_json(body, parse_json(body))
        except ValueError:
            pass
    return file_extraction(body, mime, filename)
