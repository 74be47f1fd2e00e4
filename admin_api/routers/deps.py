"""Dependencies shared by the API routers: settings, metrics and proxy-token authentication."""
from __future__ import annotations

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from admin_api import proxies
from admin_api.db import get_session
from admin_api.metrics import Metrics
from admin_api.models import Proxy
from admin_api.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="A proxy token from `pupilguard admin proxy-token create NAME`.")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


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
    return request.client.host if request.client else None
