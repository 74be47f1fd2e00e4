"""A rostered pupil's UPN typed without its check letter, found by looking it up in the roster.

"801200001001" has no check letter to verify, so on its own it is a twelve-digit number (UpnRecognizer needs a
context word in its sentence). Completed with the letter its digits call for, it is the roster's UPN or it is not;
when it is, it is that pupil's identifier wherever it appears.
"""
from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from detectors.roster import Roster
from detectors.recognisers.uk_ids import complete_upn

__all__ = ["RosterIdentifierRecognizer"]

_NO_CHECK_LETTER = re.compile(r"(?<![\w-])\d{11}[\dA-HJ-NP-RT-Za-hj-np-rt-z](?![\w-])")


class RosterIdentifierRecognizer(EntityRecognizer):
    """UPNs missing their check letter that complete to a rostered pupil's UPN (UK_UPN)."""

    ENTITY = "UK_UPN"
    SCORE = 0.95

    def __init__(self, roster: Roster, supported_language: str = "en") -> None:
        self.roster = roster
        super().__init__(supported_entities=[self.ENTITY], name="RosterIdentifierRecognizer",
                         supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        results = []
        for m in _NO_CHECK_LETTER.finditer(text):
            upn = complete_upn(m.group())
            ref = self.roster.lookup_identifier("UPN", upn) if upn != m.group() else None
            if ref:
                results.append(RecognizerResult(self.ENTITY, m.start(), m.end(), self.SCORE,
                                                recognition_metadata={"pupil_refs": [ref]}))
        return results
