"""Prometheus metrics of one admin service instance (a registry per app, so tests can build many apps)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter("pupilguard_admin_events_ingested", "Events received from proxies",
                              ["result"], registry=self.registry)
        self.auth_failures = Counter("pupilguard_admin_proxy_auth_failures", "Requests with a bad proxy token",
                                     registry=self.registry)
        self.requests = Histogram("pupilguard_admin_request_seconds", "API request duration",
                                  ["route", "status"], registry=self.registry,
                                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.purged = Counter("pupilguard_admin_events_purged", "Events deleted by retention purges",
                              registry=self.registry)
