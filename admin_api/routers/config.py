"""GET /api/v1/config and /api/v1/config/roster: what every proxy polls (conditional GETs are cheap); and the
same configuration changed from scripts (PUT allowlist/policy, POST an MIS export), validated and audited; a change
that weakens protection needs the DPO (config_store.change)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import config_store, proxies
from admin_api.db import SessionDep
from admin_api.identity import ApiUser
from admin_api.models import RosterUpload, User
from admin_api.schemas import ConfigOut
from detectors.allowlist import AllowlistError
from detectors.mis_import import MisImportError
from detectors.policy import PolicyError

from .deps import ProxyDep, client_addr, client_version

router = APIRouter(prefix="/api/v1/config", tags=["proxies"])

_NOT_MODIFIED = {304: {"description": "Unchanged since the ETag in If-None-Match"}}


def _matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, f"W/{etag}", "*") for tag in sent.split(","))


@router.get("", response_model=ConfigOut, responses={**_NOT_MODIFIED, 401: {"description": "Bad proxy token"}})
def get_config(request: Request, proxy: ProxyDep,
               session: SessionDep) -> Response:
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
def get_roster(request: Request, proxy: ProxyDep,
               session: SessionDep) -> Response:
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


# --- changes by IT (or the DPO): scripts such as a nightly MIS export push --------------------------------------

class RosterImported(BaseModel):
    roster_etag: str
    pupils: int
    name_forms: int
    identifiers: int
    skipped_rows: int
    skipped: dict[str, int] = Field(description="Rows skipped, by reason (no names or identifiers, only counts)")


async def _body(request: Request) -> bytes:
    return await request.body()


RequestBody = Annotated[bytes, Depends(_body)]


def _text_body(content_type: str, description: str) -> dict:  # type: ignore[type-arg]
    return {"requestBody": {"required": True, "description": description,
                            "content": {content_type: {"schema": {"type": "string"}}}}}


def _utf8(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, "The body must be UTF-8 text.") from None
    if "\x00" in text:
        raise HTTPException(422, "The body must not contain NUL characters.")
    return text


_WEAKENING = {202: {"description": "Weakens protection: waiting for a second DPO (setting second_approver)"},
              403: {"description": "Weakens protection (or not your role): only the DPO may; the message says how"}}


@router.put("/allowlist", status_code=204, tags=["config"], summary="Replace the allowlist (validated)",
            openapi_extra=_text_body("application/yaml", "allowlist.yaml text"),
            responses={422: {"description": "Invalid allowlist; the message names the line and field"},
                       **_WEAKENING})
def put_allowlist(
    request: Request,
    body: RequestBody,
    user: ApiUser,
    session: SessionDep,
) -> Response:
    return _change(request, session, config_store.ALLOWLIST, _utf8(body), user)


@router.put("/policy", status_code=204, tags=["config"], summary="Replace the policy (empty body: default policy)",
            openapi_extra=_text_body("application/yaml", "policy YAML text; empty for the shipped default"),
            responses={422: {"description": "Invalid policy; the message says what to fix"}, **_WEAKENING})
def put_policy(
    request: Request,
    body: RequestBody,
    user: ApiUser,
    session: SessionDep,
) -> Response:
    return _change(request, session, config_store.POLICY, _utf8(body), user)


def _change(request: Request, session: Session, setting: str, value: str, user: User) -> Response:
    """204 applied; 202 kept for a second DPO; 403 a weakening change by a role that may not make it; 422 invalid."""
    try:
        pending = config_store.change(session, request.app.state.settings, setting, value, user)
    except (AllowlistError, PolicyError) as exc:
        raise HTTPException(422, str(exc)) from None
    except config_store.NeedsDpo as exc:
        session.commit()  # the refusal's audit row
        raise HTTPException(403, str(exc)) from None
    session.commit()
    return Response(status_code=204 if pending is None else 202)


@router.post("/roster", response_model=RosterImported, tags=["config"],
             summary="Upload an MIS export (CSV); it is hashed on arrival and never stored",
             openapi_extra=_text_body("text/csv", "SIMS, Arbor, Bromcom or Wonde/Xporter pupil export"),
             responses={422: {"description": "Not an MIS export this service can read"}})
def post_roster(
    request: Request,
    body: RequestBody,
    user: ApiUser,
    session: SessionDep,
) -> RosterImported:
    try:
        result = config_store.store_roster_upload(session, body, request.app.state.roster_key, user.username)
    except MisImportError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    report = result.report
    return RosterImported(roster_etag=result.upload.etag, pupils=report.pupils, name_forms=report.name_forms,
                          identifiers=report.identifiers, skipped_rows=report.skipped_rows,
                          skipped={reason: len(rows) for reason, rows in report.skipped.items()})
