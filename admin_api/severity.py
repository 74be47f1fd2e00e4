"""How serious an event is, derived from the proxy's decision: what the DPO and DSL see first.

    safeguarding (5) > other special category (4) > pupil identifiers (3) > unapproved tool (2)
    > evasion or fail-closed (1) > nothing to review (0)

Computed once at ingest (store.store_events) and stored with the event, so lists sort and filter on an index.
A monitor-only decision ("would_block") counts as what it would have been: the DPO still needs to see it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

SAFEGUARDING, SPECIAL_CATEGORY, IDENTIFIERS, UNAPPROVED_TOOL, FAIL_CLOSED, NONE = 5, 4, 3, 2, 1, 0
LEVELS = (SAFEGUARDING, SPECIAL_CATEGORY, IDENTIFIERS, UNAPPROVED_TOOL, FAIL_CLOSED)  # most serious first
NAMES = {SAFEGUARDING: "safeguarding", SPECIAL_CATEGORY: "special_category", IDENTIFIERS: "identifiers",
         UNAPPROVED_TOOL: "unapproved_tool", FAIL_CLOSED: "fail_closed", NONE: "none"}
BY_NAME = {name: level for level, name in NAMES.items()}

SPECIAL_REASONS = frozenset({"special_category", "special_category_with_identifier"})
IDENTIFIER_REASONS = frozenset({"identifier_redacted", "policy_block", "would_redact"})
# Requests refused because they could not be checked (or hid their content): the prompt did not leave.
FAIL_CLOSED_REASONS = frozenset({"analysis_error", "analysis_timeout", "unreadable_body", "body_too_large",
                                 "unredactable_body", "recheck_failed", "evasion"})


def severity_of(action: str, reasons: Iterable[str], entities: Mapping[str, int]) -> int:
    reasons = set(reasons)
    if reasons & SPECIAL_REASONS:
        return SAFEGUARDING if "SPECIAL_CATEGORY:SAFEGUARDING" in entities else SPECIAL_CATEGORY
    if reasons & IDENTIFIER_REASONS:
        return IDENTIFIERS
    if "tool_blocked" in reasons:
        return UNAPPROVED_TOOL
    if reasons & FAIL_CLOSED_REASONS or any(r.startswith("evasion") for r in reasons):
        return FAIL_CLOSED
    if action == "block":  # a block for a reason this service does not know yet is still worth a look
        return FAIL_CLOSED
    return NONE
