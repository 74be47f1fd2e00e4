"""Contact details: UK phone numbers, UK postcodes, email addresses (street addresses: recognisers/addresses.py)."""
from __future__ import annotations


import re

import phonenumbers
import tldextract
from presidio_analyzer import LocalRecognizer, Pattern, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer
from presidio_analyzer.predefined_recognizers import UkPostcodeRecognizer as PresidioUkPostcodeRecognizer

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
    # A number starts with its "+" or its trunk "0" ("2 07911 123456" is a mark and a number, not one number).
    CANDIDATE = re.compile(r"(?<![\d+])(?:\+|\(?0)[\d \t().-]{7,}\d")

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


# The postcode areas in use (Royal Mail), plus BF (BFPO) and GIR (GIR 0AA): a code of the right shape in any
# other area ("Y10AB", "KS4AB") is a class or a course code, not a postcode.
POSTCODE_AREAS = frozenset("""
AB AL B BA BB BD BF BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH EN EX FK
FY G GIR GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN
NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB
W WA WC WD WF WN WR WS WV YO ZE
""".split())


class UkPostcodeRecognizer(PresidioUkPostcodeRecognizer):
    """Presidio's UK postcode recogniser (off by default there), trusted more and checked harder: upper case
    ("SW1A 1AA", "CF101AA") or all lower case, spaced or not ("cf10 1aa", "cf101aa"), as people type them;
    mixed case ("Ab1 2cd") is prose. The area must be a real postcode area."""

    SCORE = 0.6
    CONTEXT = [*PresidioUkPostcodeRecognizer.CONTEXT, "lives", "live", "road", "street", "avenue", "close", "lane",
               "heol", "ffordd", "cod post"]

    def __init__(self) -> None:
        patterns = [Pattern(p.name, p.regex, self.SCORE) for p in PresidioUkPostcodeRecognizer.PATTERNS]
        super().__init__(patterns=patterns, context=self.CONTEXT, name="UkPostcodeRecognizer")

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if is_postcode(pattern_text) else False


def is_postcode(text: str) -> bool:
    """A postcode-shaped `text` (as Presidio's pattern finds them) in one case and a real postcode area."""
    if not (text.isupper() or text.islower()):
        return False
    compact = "".join(text.split()).upper()
    area = compact[:2] if compact[1:2].isalpha() else compact[:1]
    return compact.startswith("GIR") or area in POSTCODE_AREAS


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


