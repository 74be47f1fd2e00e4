"""Submitted forms, parsed in memory: an uploaded MIS export is plaintext pupil data and must never touch the disk.

A route that reads a form's fields or files says so with a `FormDep` parameter. FastAPI runs a dependency once
per request, so the CSRF check (admin_api.web_session), which needs the same form for its token, shares the parse.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header


async def read_form(request: Request) -> dict[str, Any]:
    """The submitted form's fields, parsed in memory (use it as `FormDep`: FastAPI then parses once per request).

    Multipart bodies are parsed here rather than by Starlette, which spools file parts over 1 MB to a temporary
    file: an uploaded MIS export is plaintext pupil data and must never touch the disk. File parts come back as
    ``UploadedFile`` (name, content type, bytes); the app's body-size limit bounds the memory used.
    """
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"multipart/form-data" and b"boundary" in options:
        fields = await _parse_multipart(request, options[b"boundary"])
    elif content_type == b"application/x-www-form-urlencoded":
        fields = dict((await request.form()).items())  # parsed in memory by Starlette, which caches it too
    else:
        fields = {}
    return fields


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


async def _parse_multipart(request: Request, boundary: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    part: dict[str, Any] = {}
    header = bytearray()
    value = bytearray()

    def on_part_begin() -> None:
        part.clear()
        value.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.setdefault(bytes(header).lower(), bytearray()).extend(data[start:end])

    def on_header_end() -> None:
        header.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_part_end() -> None:
        _, disposition = parse_options_header(bytes(part.get(b"content-disposition", b"")))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            fields[name] = UploadedFile(disposition[b"filename"].decode("utf-8", "replace"),
                                        bytes(part.get(b"content-type", b"")).decode("latin-1"), bytes(value))
        else:
            fields[name] = bytes(value).decode("utf-8", "replace")

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_part_data": on_part_data, "on_part_end": on_part_end,
    })
    body = await request.body()  # cached on the request, so a later request.form() still works
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Malformed form data.") from None
    return fields


FormDep = Annotated[dict[str, Any], Depends(read_form)]
