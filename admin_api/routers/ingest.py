"""POST /api/v1/events: event batches from proxies (at-least-once delivery, stored exactly once).

A proxy's word is checked, not trusted: its token fixes the proxy id (an event naming another proxy is re-stamped
with the token's proxy and counted in pupilguard_admin_events_restamped_total — refusing it would strand a proxy
whose --proxy-id differs from its token's name), user and department names must look like names (schemas.IngestEvent;
422 otherwise), and every excerpt is scanned again (admin_api/integrity.py): one still holding an identifier is stored
as placeholders only, with an alert for the DPO.
"""
from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from admin_api import config_store, integrity, protection, proxies
from admin_api.db import SessionDep
from admin_api.models import Proxy
from admin_api.schemas import IngestBatch, IngestEvent, IngestResult
from admin_api.store import store_events

from .deps import ProxyDep, client_addr, client_version

router = APIRouter(prefix="/api/v1", tags=["proxies"])
ALERT_EVENT_IDS = 50  # an alert names at most this many events (the rest are counted)


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
    proxy: ProxyDep,
    session: SessionDep,
) -> IngestResult:
    """Idempotent on `event_id`: a re-delivered event is counted in `duplicates` and not stored again. Any field
    outside the event schema (a raw prompt in "prompt", "text", "body"…) makes the whole batch a 422."""
    metrics = request.app.state.metrics
    claimed_other = [e for e in batch.events if e.proxy_id != proxy.name]
    for event in claimed_other:
        event.proxy_id = proxy.name
    if claimed_other:
        metrics.restamped.labels(proxy.name).inc(len(claimed_other))
    _recheck_excerpts(session, request, proxy, batch.events)
    accepted = store_events(session, batch.events)
    proxies.record_seen(session, proxy.id, client_addr(request), client_version(request), events=accepted)
    session.commit()
    result = IngestResult(accepted=accepted, duplicates=len(batch.events) - accepted)
    metrics.events.labels("accepted").inc(result.accepted)
    metrics.events.labels("duplicate").inc(result.duplicates)
    return result


def _recheck_excerpts(session: Session, request: Request, proxy: Proxy, events: list[IngestEvent]) -> None:
    """Replace any excerpt that still holds an identifier by placeholders (in place), with one alert for the batch.
    (A re-delivered event raises the alert again; the DPO acknowledges both.)"""
    roster = config_store.current_roster(session, request.app.state.roster_key)
    policy = integrity.policy_from(config_store.get_setting(session, config_store.POLICY))
    withheld, found = [], Counter[str]()
    for event in events:
        verdict = integrity.check_excerpt(event.excerpt, policy.resolve(event.tool, event.profile), roster)
        if not verdict.clean:
            event.excerpt = verdict.placeholder_excerpt()
            event.reasons = [*event.reasons, integrity.WITHHELD_REASON]
            event.pupil_refs = list(dict.fromkeys([*event.pupil_refs, *verdict.pupil_refs]))
            withheld.append(str(event.event_id))
            found.update(verdict.identifiers)
            found.update(f"SPECIAL_CATEGORY:{s}" for s in verdict.special)
    if withheld:
        request.app.state.metrics.excerpts_withheld.labels(proxy.name).inc(len(withheld))
        kinds = ", ".join(sorted(found))
        protection.raise_alert(
            session, "excerpt_integrity",
            f"Proxy {proxy.name} sent {len(withheld)} excerpt{'s' if len(withheld) > 1 else ''} still holding "
            f"identifiers ({kinds}); stored with placeholders only. Check that proxy's version and detection.",
            proxy.name, {"events": withheld[:ALERT_EVENT_IDS], "count": len(withheld), "entities": dict(found)})
