"""Prometheus metrics of one admin service instance (a registry per app, so tests can build many apps)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .db import Database


class ProxyHealth(Collector):
    """Per-proxy last-seen time and event count, read from the database at scrape time (a handful of rows), so
    an alert can fire when a proxy goes quiet."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        from .proxies import list_proxies

        seen = GaugeMetricFamily("pupilguard_admin_proxy_last_seen_timestamp_seconds",
                                 "When each proxy last called the admin API", labels=["proxy"])
        received = GaugeMetricFamily("pupilguard_admin_proxy_events_received",
                                     "Events each proxy has delivered", labels=["proxy"])
        with self.db.session() as session:
            for proxy in list_proxies(session):
                if proxy.revoked_at is not None:
                    continue
                if proxy.last_seen_at is not None:
                    seen.add_metric([proxy.name], proxy.last_seen_at.timestamp())
                received.add_metric([proxy.name], proxy.events_received)
            session.rollback()
        yield seen
        yield received


class Metrics:
    def __init__(self, db: Database | None = None) -> None:
        self.registry = CollectorRegistry()
        if db is not None:
            self.registry.register(ProxyHealth(db))
        self.events = Counter("pupilguard_admin_events_ingested", "Events received from proxies",
                              ["result"], registry=self.registry)
        self.auth_failures = Counter("pupilguard_admin_proxy_auth_failures", "Requests with a bad proxy token",
                                     registry=self.registry)
        self.requests = Histogram("pupilguard_admin_request_seconds", "API request duration",
                                  ["route", "status"], registry=self.registry,
                                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.restamped = Counter("pupilguard_admin_events_restamped", "Events that named another proxy than their "
                                 "token's, stored under the token's proxy", ["proxy"], registry=self.registry)
        self.excerpts_withheld = Counter("pupilguard_admin_excerpts_withheld", "Excerpts that still held an identifier "
                                         "on arrival, stored as placeholders only", ["proxy"], registry=self.registry)
        self.purged = Counter("pupilguard_admin_events_purged", "Events deleted by retention purges",
                              registry=self.registry)
