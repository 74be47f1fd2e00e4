"""GET /api/v1/config and /api/v1/config/roster: what every proxy polls (conditional GETs are cheap)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import config_store, proxies
from admin_api.db import get_session
from admin_api.models import Proxy, RosterUpload
from admin_api.schemas import ConfigOut

from .deps import client_addr, client_version, require_proxy

router = APIRouter(prefix="/api/v1/config", tags=["proxies"])

_NOT_MODIFIED = {304: {"description": "Unchanged since the ETag in If-None-Match"}}


def _matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, f"W/{etag}", "*") for tag in sent.split(","))


@router.get("", response_model=ConfigOut, responses={**_NOT_MODIFIED, 401: {"description": "Bad proxy token"}})
def get_config(request: Request, proxy: Proxy = Depends(require_proxy),
               session: Session = Depends(get_session)) -> Response:
    """Allowlist YAML, policy YAML (null: the default policy) and the current roster's ETag, with an ETag over all."""
    doc, etag = config_store.config_document(session)
    proxies.record_seen(session, proxy.id, client_addr(request), client_version(request))
    session.commit()
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(ConfigOut(**doc).model_dump_json(), media_type="application/json", headers=headers)


@router.get(
    "/roster",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The hashed roster file"},
               404: {"description": "No roster uploaded yet"}, **_NOT_MODIFIED},
)
def get_roster(request: Request, proxy: Proxy = Depends(require_proxy),
               session: Session = Depends(get_session)) -> Response:
    """The latest hashed roster file (no plaintext names or identifiers), for `Roster.load(bytes, key)`."""
    upload = config_store.latest_roster(session)
    proxies.record_seen(session, proxy.id, client_addr(request), client_version(request))
    session.commit()
    if upload is None:
        return Response('{"detail":"No roster uploaded yet."}', status_code=404, media_type="application/json")
    etag = f'"{upload.etag}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    content = session.scalar(select(RosterUpload.content).where(RosterUpload.id == upload.id))
    return Response(content, media_type="application/octet-stream", headers=headers)
