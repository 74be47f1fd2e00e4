"""Every identifier the engine finds has a plain-English name on the DPO's pages, not its code."""
from admin_api import labels
from detectors.entities import IDENTIFIERS


def test_every_identifier_has_a_label():
    missing = [entity for entity in IDENTIFIERS if entity not in labels.ENTITIES]
    assert missing == []
    assert labels.entity("UK_ADDRESS") == "Home address"
