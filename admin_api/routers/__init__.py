"""The JSON API (documented by OpenAPI at /docs): proxies' ingest and config, events and statistics, health."""
