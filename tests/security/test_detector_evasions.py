"""Identifiers written to dodge the detectors (separators, combining marks, compatibility digits) are still found.

A UPN carries a check letter, so accepting separators between its characters does not make ordinary text match."""
from __future__ import annotations

import pytest

UPN = "T801200115100"
PROMPT = "Write a report comment for the child with UPN {} who worked hard this term."


@pytest.mark.parametrize(("name", "written"), [
    ("plain", UPN),
    ("spaced", " ".join(UPN)),
    ("dotted", ".".join(UPN)),
    ("nbsp groups", "T801\u00a0200\u00a0115\u00a0100"),
    ("combining marks", "\u0301".join(UPN)),
    ("superscript digits", "T" + "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in UPN[1:])),
])
def test_upn_written_to_dodge_detection_is_still_redacted(engine, name, written):
    decision = engine.scan([PROMPT.format(written)])
    assert decision.action != "allow", f"{name}: a UPN went out unredacted"
    assert decision.entity_counts.get("UK_UPN") == 1
