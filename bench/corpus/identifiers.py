"""Check-digit rules for the UK identifiers in the corpus, written from the published specifications (DfE UPN guide, ULN, UCI, NHS and NI rules).

Used to generate valid fake identifiers for the corpus and to verify its labels. Deliberately independent of the
detectors package: the corpus must not inherit a bug from the code it measures.
"""
from __future__ import annotations

import random
import re
import string

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # index = remainder mod 23; I, O and S are never used
UCI_LETTERS = "ABCDEFGHKLMRTVWXY"  # index = remainder mod 17


def _upn_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else UPN_LETTERS.index(ch)


def upn_check_letter(body: str) -> str:
    """Check letter for the 12 characters after it (positions 2-13, weighted 2..13)."""
    total = sum(_upn_value(ch) * weight for weight, ch in enumerate(body, start=2))
    return UPN_LETTERS[total % 23]


def is_valid_upn(value: str) -> bool:
    value = value.upper()
    if not re.fullmatch(rf"[{UPN_LETTERS}]\d{{11}}[\d{UPN_LETTERS}]", value):
        return False
    return upn_check_letter(value[1:]) == value[0]


def is_valid_uln(value: str) -> bool:
    if not re.fullmatch(r"[1-9]\d{9}", value):
        return False
    return sum(int(d) * w for d, w in zip(value, range(10, 0, -1))) % 11 == 10


def uci_check_character(body: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(body, range(16, 4, -1)))
    return UCI_LETTERS[total % 17]


def is_valid_uci(value: str) -> bool:
    value = value.upper()
    if not re.fullmatch(rf"\d{{5}}[0-9A-Z]\d{{6}}[{UCI_LETTERS}]", value):
        return False
    if not value[5].isdigit():  # the reference gives no value for letters; the corpus only uses digit boards
        return False
    return uci_check_character(value[:12]) == value[12]


def is_valid_nhs(value: str) -> bool:
    digits = value.replace(" ", "")
    if not re.fullmatch(r"\d{10}", digits):
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def is_valid_nino(value: str) -> bool:
    value = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", value):
        return False
    first, second = value[0], value[1]
    return (first not in "DFIQUV" and second not in "DFIQUVO" and value[:2] not in _NINO_BAD_PREFIX)


VALIDATORS = {
    "UK_UPN": is_valid_upn,
    "UK_ULN": is_valid_uln,
    "UK_UCI": is_valid_uci,
    "UK_NHS": is_valid_nhs,
    "UK_NINO": is_valid_nino,
}


class IdentifierFactory:
    """Deterministic generator of valid, unique fake identifiers."""

    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.seen: set[str] = set()

    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self.seen:
                self.seen.add(value)
                return value

    def upn(self, temporary: bool = False, la: str | None = None) -> str:
        def make() -> str:
            rng = self.rng
            la_no = la or rng.choice(["201", "330", "383", "420", "660", "801", "873", "908", "938"])
            body = la_no + f"{rng.randint(2000, 6999):04d}" + rng.choice(["16", "17", "18", "19", "20", "21"])
            if temporary:
                body += f"{rng.randint(0, 99):02d}" + rng.choice(UPN_LETTERS)
            else:
                body += f"{rng.randint(1, 999):03d}"
            return upn_check_letter(body) + body
        return self._unique(make)

    def uln(self) -> str:
        def make() -> str:
            while True:
                nine = str(self.rng.randint(1, 9)) + "".join(self.rng.choice(string.digits) for _ in range(8))
                r = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1))) % 11
                if r != 0:  # check digit = 10 - r; r = 0 would need an 11th symbol
                    return nine + str(10 - r)
        return self._unique(make)

    def uci(self, centre: str | None = None) -> str:
        def make() -> str:
            rng = self.rng
            body = (centre or f"{rng.randint(10000, 79999)}") + rng.choice("0123456789") + "26" + f"{rng.randint(1, 9999):04d}"
            return body + uci_check_character(body)
        return self._unique(make)

    def nhs(self) -> str:
        def make() -> str:
            while True:
                nine = "".join(self.rng.choice(string.digits) for _ in range(9))
                check = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1))) % 11
                check = 0 if check == 11 else check
                if check != 10:
                    return nine + str(check)
        return self._unique(make)

    def nino(self) -> str:
        def make() -> str:
            rng = self.rng
            while True:
                prefix = rng.choice("ABCEGHJKLMNOPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ")
                if prefix not in _NINO_BAD_PREFIX:
                    break
            return prefix + "".join(rng.choice(string.digits) for _ in range(6)) + rng.choice("ABCD")
        return self._unique(make)

    def make(self, entity: str) -> str:
        return {"UK_UPN": self.upn, "UK_ULN": self.uln, "UK_UCI": self.uci, "UK_NHS": self.nhs,
                "UK_NINO": self.nino}[entity]()
