"""pupilguard detectors: text in -> findings, decision, redacted text out. A pure library.

Public names are imported lazily, so `import detectors.events` (the proxy spool, the admin API) does not
load spaCy or Presidio.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Engine": "detectors.engine",
    "Decision": "detectors.decision",
    "Finding": "detectors.decision",
    "EngineError": "detectors.engine",
    "Placeholders": "detectors.placeholders",
    "Policy": "detectors.policy",
    "PolicyError": "detectors.policy",
    "load_policy": "detectors.policy",
    "Roster": "detectors.roster",
    "RosterKey": "detectors.roster",
    "Allowlist": "detectors.allowlist",
    "AllowlistError": "detectors.allowlist",
    "load_allowlist": "detectors.allowlist",
    "Event": "detectors.events",
    "EventBatch": "detectors.events",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'detectors' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
