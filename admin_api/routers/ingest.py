"""POST /api/v1/events: event batches from proxies (at-least-once delivery, stored exactly once)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from admin_api import proxies
from admin_api.db import get_session
from admin_api.models import Proxy
from admin_api.schemas import IngestBatch, IngestResult
from admin_api.store import store_events

from .deps import client_addr, client_version, require_proxy

router = APIRouter(prefix="/api/v1", tags=["proxies"])


@router.post(
    "/events",
    response_model=IngestResult,
    summary="Ingest a batch of events from a proxy",
    responses={401: {"description": "Missing, invalid or revoked proxy token"},
               413: {"description": "Body too large"}},
)
def ingest_events(
    batch: IngestBatch,
    request: Request,
    proxy: Proxy = Depends(require_proxy),
    session: Session = Depends(get_session),
) -> IngestResult:
    """Idempotent on `event_id`: a re-delivered event is counted in `duplicates` and not stored again. Any field
    outside the event schema (a raw prompt in "prompt", "text", "body"…) makes the whole batch a 422."""
    accepted = store_events(session, batch.events)
    proxies.record_seen(session, proxy.id, client_addr(request), client_version(request), events=accepted)
    session.commit()
    result = IngestResult(accepted=accepted, duplicates=len(batch.events) - accepted)
    metrics = request.app.state.metrics
    metrics.events.labels("accepted").inc(result.accepted)
    metrics.events.labels("duplicate").inc(result.duplicates)
    return result
