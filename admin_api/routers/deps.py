"""Dependencies shared by the API routers: proxy-token authentication (`ProxyDep`) and the client's address and
version."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from admin_api import proxies
from admin_api.clients import client_address
from admin_api.db import SessionDep
from admin_api.models import Proxy

_bearer = HTTPBearer(auto_error=False, description="A proxy token from `pupilguard admin proxy-token create NAME`.")


def require_proxy(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: SessionDep,
) -> Proxy:
    """The proxy presenting a valid, unrevoked bearer token; 401 otherwise."""
    proxy = proxies.authenticate(session, credentials.credentials) if credentials else None
    if proxy is None:
        request.app.state.metrics.auth_failures.inc()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Invalid or revoked proxy token.", headers={"WWW-Authenticate": "Bearer"}
        )
    return proxy


ProxyDep = Annotated[Proxy, Depends(require_proxy)]


def client_version(request: Request) -> str | None:
    return request.headers.get("user-agent")


def client_addr(request: Request) -> str | None:
    return client_address(request) or None
