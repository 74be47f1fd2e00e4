"""Liveness/readiness (/healthz) and Prometheus metrics (/metrics)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from admin_api.db import get_session
from admin_api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"description": "Database unavailable"}})
def healthz(session: Session = Depends(get_session)) -> Health | Response:
    try:
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return Response('{"status":"unavailable"}', status_code=503, media_type="application/json")
    return Health(status="ok", database=session.get_bind().dialect.name, schema_revision=revision)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
