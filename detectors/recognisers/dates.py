"""Dates of birth: a date counts when the text says it is a birth date ("DOB", "born on", "date of birth")
nearby; when the prompt has a DOB column (a pasted class list) and the year is a plausible pupil's; or, at the
threshold score, when it is a full date in a school-age birth year (4 to 19 years ago)."""
from __future__ import annotations

import re
from datetime import date

from presidio_analyzer import LocalRecognizer, RecognizerResult

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
           r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?P<d1>[0-3]?\d)[/.-](?P<m1>[01]?\d)[/.-](?P<y1>(?:19|20)?\d\d)"          # 03/09/2014, 3-9-14
    r"|(?P<y2>(?:19|20)\d\d)-(?P<m2>[01]\d)-(?P<d2>[0-3]\d)"                      # 2014-09-03
    rf"|(?P<d3>[0-3]?\d)(?:st|nd|rd|th)?(?: of)? (?P<m3>{_MONTHS})\.?,? (?P<y3>(?:19|20)\d\d)"   # 3rd September 2014
    rf"|(?P<m4>{_MONTHS})\.? (?P<d4>[0-3]?\d)(?:st|nd|rd|th)?,? (?P<y4>(?:19|20)\d\d)"           # September 3, 2014
    r")(?![\w/])",
    re.IGNORECASE,
)
_CUE = re.compile(r"\b(?:d\.?o\.?b|date of birth|birth ?date|born(?: on)?|birthday|b\.)\W*$", re.IGNORECASE)
_HEADER = re.compile(r"\b(?:DOB|D\.O\.B\.?|date of birth|birth ?date)\b", re.IGNORECASE)


class DateOfBirthRecognizer(LocalRecognizer):
    SCORE_WITH_CUE = 0.9
    SCORE_IN_TABLE = 0.6
    SCORE_BIRTH_YEAR = 0.5
    PUPIL_AGES = (4, 19)
    CUE_WINDOW = 30  # characters before the date

    def __init__(self) -> None:
        super().__init__(supported_entities=["DATE_OF_BIRTH"], name="DateOfBirthRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        has_header = _HEADER.search(text) is not None
        this_year = date.today().year
        results = []
        for m in _DATE.finditer(text):
            year = next(int(y) for y in (m.group("y1"), m.group("y2"), m.group("y3"), m.group("y4")) if y)
            if year < 100:
                year += 2000 if year <= this_year % 100 else 1900
            if _CUE.search(text[max(0, m.start() - self.CUE_WINDOW):m.start()]):
                results.append(RecognizerResult("DATE_OF_BIRTH", m.start(), m.end(), self.SCORE_WITH_CUE))
            elif has_header and this_year - 21 <= year <= this_year - 2:
                results.append(RecognizerResult("DATE_OF_BIRTH", m.start(), m.end(), self.SCORE_IN_TABLE))
            elif this_year - self.PUPIL_AGES[1] <= year <= this_year - self.PUPIL_AGES[0]:
                # "Bethan Jones, 22/04/2010, ULN ...": a full date in a school-age birth year is rarely anything
                # else in a teacher's prompt (events are this year or last; history is older).
                results.append(RecognizerResult("DATE_OF_BIRTH", m.start(), m.end(), self.SCORE_BIRTH_YEAR))
        return results
