"""Liveness/readiness (/healthz) and Prometheus metrics (/metrics).

Anyone may ask whether the service is up (`{"status": "ok"}`, or 503). The detail of /healthz (database, schema
revision) and /metrics (proxy names, event counts, request timings) are for monitoring only: a client on the
loopback interface (directly — not through a reverse proxy), or one sending `Authorization: Bearer <metrics
token>` (setting `metrics_token`).
"""
from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from admin_api.clients import client_address
from admin_api.db import SessionDep
from admin_api.schemas import Health

router = APIRouter(tags=["health"])
_FORWARDING = ("x-forwarded-for", "forwarded", "x-real-ip")


def is_monitoring(request: Request) -> bool:
    token = request.app.state.settings.metrics_token
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    address = client_address(request)
    if request.client is None or address != request.client.host:
        return _loopback(address)  # a trusted reverse proxy named the client
    # The peer itself: local only if it forwards for nobody — a reverse proxy on this host that is not configured
    # as trusted would otherwise make every request through it look local.
    return _loopback(address) and not any(header in request.headers for header in _FORWARDING)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@router.get("/healthz", response_model=Health, response_model_exclude_none=True,
            responses={503: {"description": "Database unavailable"}})
def healthz(request: Request, session: SessionDep) -> Health | Response:
    try:
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return Response('{"status":"unavailable"}', status_code=503, media_type="application/json")
    if not is_monitoring(request):
        return Health(status="ok")
    return Health(status="ok", database=session.get_bind().dialect.name, schema_revision=revision)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}, 403: {"description": "Not a monitoring client"}})
def metrics(request: Request) -> Response:
    if not is_monitoring(request):
        raise HTTPException(403, "Metrics are served to loopback clients or with the metrics token.",
                            headers={"WWW-Authenticate": "Bearer"})
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
