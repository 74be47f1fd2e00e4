"""GET /api/v1/proxies: each proxy's last-seen health, for IT (and monitoring scripts)."""
from __future__ import annotations

from fastapi import APIRouter

from admin_api import audit, proxies
from admin_api.db import SessionDep
from admin_api.identity import ApiUser
from admin_api.schemas import ProxyOut

router = APIRouter(prefix="/api/v1", tags=["proxies"])


@router.get("/proxies", response_model=list[ProxyOut], summary="Proxies and their last-seen health")
def list_proxies(user: ApiUser,
                 session: SessionDep) -> list[ProxyOut]:
    rows = [ProxyOut.model_validate(p, from_attributes=True) for p in proxies.list_proxies(session)]
    audit.record(session, user.username, "proxies.list")
    session.commit()
    return rows
