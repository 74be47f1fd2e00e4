"""AI tools not in the catalogue, for scripts: what the proxies saw, approve one host in one step, and the central
corrections to the proxies' list of AI domains."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from admin_api import ai_tools, config_store
from admin_api.db import SessionDep
from admin_api.identity import ApiUser
from detectors.ai_domains import AIDomainsError
from detectors.allowlist import AllowlistError, Status

router = APIRouter(prefix="/api/v1", tags=["ai tools"])


class SeenHostOut(BaseModel):
    host: str
    connections: int = Field(description="Connections recorded (at most one a minute per person)")
    blocked: int
    people: int
    profiles: list[str]
    first_seen: datetime
    last_seen: datetime
    allowed_for: dict[str, str] = Field(description="The allowlist's ai_hosts entry for this host, if any")


class AllowHost(BaseModel):
    host: str = Field(max_length=253, examples=["gamma.app"])
    statuses: dict[str, Status] = Field(min_length=1, examples=[{"staff": "approved"}])


@router.get("/ai-tools/uncatalogued", response_model=list[SeenHostOut],
            summary="AI tools not in the catalogue that the proxies saw")
def list_seen(user: ApiUser, session: SessionDep) -> list[SeenHostOut]:
    allowlist = config_store.get_setting(session, config_store.ALLOWLIST)
    return [SeenHostOut(**vars(h)) for h in ai_tools.seen_hosts(session, allowlist)]


@router.post("/ai-tools/allow", status_code=204, summary="Set one uncatalogued AI host's status per profile",
             responses={202: {"description": "Held for a second DPO"}, 403: {"description": "Needs the DPO"},
                        422: {"description": "Not a host, a profile or a status"}})
def allow(body: AllowHost, request: Request, user: ApiUser,
          session: SessionDep) -> Response:
    try:
        pending = ai_tools.allow_host(session, request.app.state.settings, body.host, dict(body.statuses), user)
    except (ValueError, AllowlistError) as exc:  # AllowlistError: a profile the allowlist does not have
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    except config_store.NeedsDpo as exc:
        session.commit()
        raise HTTPException(403, str(exc)) from None
    session.commit()
    return Response(status_code=204 if pending is None else 202)


@router.put("/config/ai-domains", status_code=204, tags=["config"],
            summary="Replace the central additions/removals to the proxies' list of AI domains",
            openapi_extra={"requestBody": {"required": True, "description": "one domain a line; !domain removes",
                                           "content": {"text/plain": {"schema": {"type": "string"}}}}},
            responses={422: {"description": "A line that is not a domain; the message names it"}})
async def put_ai_domains(request: Request, user: ApiUser,
                         session: SessionDep) -> Response:
    try:
        text = (await request.body()).decode("utf-8")
        ai_tools.set_ai_domains(session, text, user.username)
    except (UnicodeDecodeError, AIDomainsError) as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return Response(status_code=204)
