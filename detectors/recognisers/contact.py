"""Contact details: UK phone numbers, UK postcodes, email addresses."""
from __future__ import annotations


import re

import phonenumbers
import tldextract
from presidio_analyzer import LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer

# Presidio's PhoneRecognizer asks phonenumbers for region "UK", which does not exist ("GB" does), so UK numbers
# in national format (07700 900123, 020 7946 0958) were missed. This one uses GB and keeps only valid numbers.


class UkPhoneRecognizer(LocalRecognizer):
    """UK phone numbers in national (07700 900123) and international (+44 7700 900123) form, and other
    countries' numbers written with their +CC prefix. Validated by libphonenumber."""

    SCORE = 0.75
    CONTEXT = ["phone", "tel", "telephone", "mobile", "mob", "call", "contact", "number", "ring", "text"]

    def __init__(self) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], name="UkPhoneRecognizer", context=self.CONTEXT)

    def load(self) -> None:
        pass

    # Stretches of text that could hold a number; libphonenumber's matcher is slow on long prose, so it only
    # sees these.
    CANDIDATE = re.compile(r"[+(]?\d[\d \t().-]{7,}\d")

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for candidate in self.CANDIDATE.finditer(text):
            # POSSIBLE, not VALID: Ofcom's drama ranges (07700 900xxx) are real-looking numbers people paste
            # too. Requiring the trunk "0" or a "+" keeps bare digit runs (ULNs, NHS numbers) out.
            for m in phonenumbers.PhoneNumberMatcher(candidate.group(0), "GB", leniency=phonenumbers.Leniency.POSSIBLE):
                if m.raw_string.lstrip("(")[:1] in ("0", "+"):
                    start = candidate.start() + m.start
                    results.append(RecognizerResult("PHONE_NUMBER", start, start + len(m.raw_string), self.SCORE))
        return results


class UkPostcodeRecognizer(PatternRecognizer):
    """UK postcodes, upper case (SW1A 1AA) or all lower case with the space (sw1a 1aa); mixed case is prose."""

    PATTERNS = [Pattern(
        "UK postcode",
        r"\b(?:GIR ?0AA"
        r"|[A-PR-UWYZ](?:[0-9][A-HJKPSTUW]?|[0-9]{2}|[A-HK-Y][0-9][ABEHMNPRV-Y]?|[A-HK-Y][0-9]{2}) ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
        0.6,
    )]
    CONTEXT = ["postcode", "post code", "address", "lives", "live", "road", "street", "avenue", "close", "lane"]

    def __init__(self) -> None:
        super().__init__(supported_entity="UK_POSTCODE", patterns=self.PATTERNS, context=self.CONTEXT,
                         name="UkPostcodeRecognizer")

    def validate_result(self, pattern_text: str) -> bool | None:
        if pattern_text.isupper() or (pattern_text.islower() and " " in pattern_text):
            return None  # keep the pattern's score
        return False


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recogniser, checking the domain against the bundled public-suffix snapshot only:
    the stock one lets tldextract fetch the list from the internet, and detectors never touch the network."""

    _extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def __init__(self) -> None:
        super().__init__(name="OfflineEmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        # A known suffix is enough: `*.sch.uk` makes every school's domain a public suffix itself, so the stock
        # "has a registrable domain" test rejected j.bloggs@school.sch.uk.
        return self._extract(pattern_text.rsplit("@", 1)[-1]).suffix != ""


