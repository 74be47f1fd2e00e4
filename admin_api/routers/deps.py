"""Dependencies shared by the API routers: proxy-token authentication and who is calling."""
from __future__ import annotations

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from admin_api import proxies
from admin_api.auth import client_address
from admin_api.db import get_session
from admin_api.models import Proxy

_bearer = HTTPBearer(auto_error=False, description="A proxy token from `pupilguard admin proxy-token create NAME`.")


def require_proxy(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    session: Session = Depends(get_session),
) -> Proxy:
    """The proxy presenting a valid, unrevoked bearer token; 401 otherwise."""
    proxy = proxies.authenticate(session, credentials.credentials) if credentials else None
    if proxy is None:
        request.app.state.metrics.auth_failures.inc()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Invalid or revoked proxy token.", headers={"WWW-Authenticate": "Bearer"}
        )
    return proxy


def client_version(request: Request) -> str | None:
    return request.headers.get("user-agent")


def client_addr(request: Request) -> str | None:
    return client_address(request) or None
