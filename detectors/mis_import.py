"""Import a school MIS pupil export (CSV) into a hashed roster.

Header styles of SIMS, Arbor, Bromcom, Wonde and Groupcall Xporter are recognised from the header row;
UTF-8 (with or without BOM), UTF-16 (Excel "Unicode text") and Windows-1252 are detected; dates may be
DD/MM/YYYY or YYYY-MM-DD. Bad rows are skipped with a reason and their row number — the report never holds a
name or identifier, so it can be printed, logged and shown in the admin UI.
"""
from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from detectors.recognisers.uk_ids import uln_is_valid, upn_is_valid
from detectors.roster import RosterBuilder, RosterKey

__all__ = ["FIELDS", "ImportReport", "MisImportError", "import_mis_csv"]

# Our field -> header names that carry it, compared after lower-casing and dropping spaces, "_", "-" and ".".
FIELDS: dict[str, tuple[str, ...]] = {
    "legal_forename": ("legalforename", "legalfirstname"),
    "preferred_forename": ("preferredforename", "preferredfirstname", "knownasfirstname", "knownasforename",
                           "knownas", "chosenforename"),
    "middle_names": ("middlenames", "middlename", "legalmiddlenames", "othernames"),
    "legal_surname": ("legalsurname", "legallastname"),
    "preferred_surname": ("preferredsurname", "preferredlastname", "knownaslastname", "knownassurname"),
    "former_surname": ("formersurname", "previoussurname", "formerlastname"),
    "upn": ("upn", "uniquepupilnumber"),  # not Wonde's "upi": that is its own person id
    "former_upn": ("formerupn", "previousupn"),
    "uln": ("uln", "uniquelearnernumber"),
    "date_of_birth": ("dateofbirth", "dob", "birthdate"),
    # Some reports carry one name column ("Smith, Oliver" or "Oliver Smith") instead of two.
    "full_name": ("fullname", "name", "pupilname", "studentname", "learnername", "legalfullname"),
}
# A plain "Forename"/"First name" is the legal name when there is no legal column (SIMS-less exports such as
# Arbor, Bromcom) and the preferred name when there is one (Wonde, Xporter).
_PLAIN: dict[str, tuple[str, ...]] = {
    "forename": ("forename", "firstname", "givenname"),
    "surname": ("surname", "lastname", "familyname"),
}

# Exact header names (lower-case) that identify each MIS, for the report only: parsing uses FIELDS.
STYLES: dict[str, frozenset[str]] = {
    "SIMS": frozenset({"legal surname", "legal forename", "preferred surname", "preferred forename", "reg group",
                       "reg", "admission no", "dob"}),
    "Arbor": frozenset({"first name", "preferred first name", "last name", "registration form"}),
    "Bromcom": frozenset({"firstname", "preferredfirstname", "lastname", "preferredlastname", "first name",
                          "preferred first name", "last name", "preferred last name", "middle name", "tutor group"}),
    "Wonde": frozenset({"forename", "surname", "legal_forename", "legal_surname", "middle_names", "date_of_birth",
                        "upi", "mis_id"}),
    "Groupcall Xporter": frozenset({"legalforename", "legalsurname", "middlename", "formersurname", "formerupn",
                                    "dateofbirth", "idaasid"}),
}

_MAX_NAME = 100
_DATE_FORMATS = (
    re.compile(r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
)


class MisImportError(ValueError):
    """The export cannot be imported at all (no recognisable header, unreadable file). Holds no row data."""


@dataclass
class ImportReport:
    """What an import did. Row numbers are 1-based file lines (the header is a row); never names."""

    style: str = ""
    encoding: str = ""
    rows: int = 0
    pupils: int = 0
    merged_rows: int = 0
    name_forms: int = 0
    identifiers: int = 0
    skipped: dict[str, list[int]] = field(default_factory=dict)
    warnings: dict[str, list[int]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # our field -> header used (headers are not pupil data)
    key_fingerprint: str = ""
    elapsed_s: float = 0.0

    @property
    def skipped_rows(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def skip(self, reason: str, row: int) -> None:
        self.skipped.setdefault(reason, []).append(row)

    def warn(self, reason: str, row: int) -> None:
        self.warnings.setdefault(reason, []).append(row)

    def as_dict(self) -> dict:
        return {
            "style": self.style, "encoding": self.encoding, "rows": self.rows, "pupils": self.pupils,
            "merged_rows": self.merged_rows, "name_forms": self.name_forms, "identifiers": self.identifiers,
            "skipped_rows": self.skipped_rows, "skipped": self.skipped, "warnings": self.warnings,
            "columns": self.columns, "key_fingerprint": self.key_fingerprint, "elapsed_s": round(self.elapsed_s, 3),
        }


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Windows-1252 leaves five bytes undefined; replace them rather than fail the import.
        return data.decode("cp1252", errors="replace"), "windows-1252"


def _header_key(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.strip().lower().lstrip("\ufeff"))


def _map_columns(header: list[str]) -> dict[str, int]:
    keys = [_header_key(h) for h in header]

    def pick(aliases: tuple[str, ...]) -> int | None:
        return next((keys.index(a) for a in aliases if a in keys), None)

    columns = {fld: i for fld, aliases in FIELDS.items() if (i := pick(aliases)) is not None}
    for part, aliases in _PLAIN.items():
        plain = pick(aliases)
        if plain is not None:
            if f"legal_{part}" not in columns:
                columns[f"legal_{part}"] = plain
            else:
                columns.setdefault(f"preferred_{part}", plain)
    return columns


def _has_names(columns: dict[str, int]) -> bool:
    return ("legal_forename" in columns and "legal_surname" in columns) or "full_name" in columns


def _split_full_name(value: str) -> tuple[str, str]:
    """ "Smith, Oliver" -> ("Oliver", "Smith"); "Oliver van der Berg" -> ("Oliver", "van der Berg")."""
    if "," in value:
        surname, _, forename = value.partition(",")
        return forename.strip(), surname.strip()
    first, _, rest = value.strip().partition(" ")
    return first, rest.strip()


def _style(header: list[str]) -> str:
    names = {h.strip().lower().lstrip("\ufeff") for h in header}
    best, score = "generic", 0
    for style, marks in STYLES.items():
        hits = len(names & marks)
        if hits > score:
            best, score = style, hits
    return best


def _parse_date(text: str) -> date | None:
    text = text.strip()
    for pattern in _DATE_FORMATS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")


def _plausible_name(value: str) -> bool:
    return len(value) <= _MAX_NAME and not _DIGIT.search(value) and _LETTER.search(value) is not None


ProgressFn = Callable[[int, int], None]


def import_mis_csv(
    source: str | os.PathLike[str] | bytes,
    out_path: str | os.PathLike[str] | BinaryIO,
    key: RosterKey,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Import an MIS export (a path or the uploaded bytes) and write the hashed roster to out_path (a path,
    replaced atomically, or a binary file object such as io.BytesIO).

    progress(done_rows, total_rows) is called now and then. Raises MisImportError when nothing can be
    imported (unreadable file, no recognisable header, no valid pupil)."""
    started = time.perf_counter()
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise MisImportError(f"cannot read {source}: {exc.strerror}") from None
    text, encoding = _decode(data)
    del data
    report = ImportReport(encoding=encoding, key_fingerprint=key.fingerprint)
    if "\x00" in text:
        text = text.replace("\x00", "")
        report.warn("NUL characters removed", 0)

    total = text.count("\n") + 1
    first = next((ln for ln in text[:20_000].split("\n") if ln.strip()), "")
    delimiter = max((",", ";", "\t", "|"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    builder = RosterBuilder(key)
    columns: dict[str, int] | None = None
    header: list[str] = []
    looked_for = " and ".join(
        f"a {part} column ({' / '.join(FIELDS[f'legal_{part}'] + _PLAIN[part])})" for part in _PLAIN
    ) + f", or one full-name column ({' / '.join(FIELDS['full_name'])})"
    try:
        for row in reader:
            lineno = reader.line_num
            if columns is None:
                if not any(cell.strip() for cell in row):
                    continue
                candidate = _map_columns(row)
                if _has_names(candidate):
                    columns, header = candidate, row
                    report.style = _style(row)
                    report.columns = {fld: row[i].strip().lstrip("\ufeff") for fld, i in candidate.items()}
                elif lineno >= 10:
                    break
                continue
            report.rows += 1
            if progress and report.rows % 5000 == 0:
                progress(lineno, total)
            _import_row(row, lineno, columns, len(header), builder, report)
    except csv.Error as exc:
        raise MisImportError(f"CSV is malformed at line {reader.line_num}: {exc}") from None
    if columns is None:
        raise MisImportError(
            f"no recognisable header row in the first 10 lines: looked for {looked_for} "
            "(case, spaces, '_', '-' and '.' ignored)"
        )
    if builder.pupil_count == 0:
        raise MisImportError(f"no pupil could be imported ({report.skipped_rows} rows skipped)")
    counts = builder.write(out_path)
    report.pupils = counts["pupils"]
    report.name_forms = counts["name_forms"]
    report.identifiers = counts["identifiers"]
    report.elapsed_s = time.perf_counter() - started
    if progress:
        progress(total, total)
    return report


def _import_row(row: list[str], lineno: int, columns: dict[str, int], width: int, builder: RosterBuilder,
                report: ImportReport) -> None:
    if not any(cell.strip() for cell in row):
        report.skip("blank row", lineno)
        return

    def get(fld: str) -> str:
        i = columns.get(fld)
        return row[i].strip() if i is not None and i < len(row) else ""

    if len(row) != width:
        name_columns = [columns[f] for f in ("legal_forename", "legal_surname", "full_name") if f in columns]
        if len(row) < width and max(name_columns) >= len(row):
            report.skip("row has fewer cells than the header (names missing)", lineno)
            return
        report.warn("row has a different number of cells from the header", lineno)
    legal_forename, legal_surname = get("legal_forename"), get("legal_surname")
    if not (legal_forename and legal_surname) and get("full_name"):
        legal_forename, legal_surname = _split_full_name(get("full_name"))
    preferred_forename, preferred_surname = get("preferred_forename"), get("preferred_surname")
    forename = legal_forename or preferred_forename
    surname = legal_surname or preferred_surname
    if not forename or not surname:
        report.skip("missing forename or surname", lineno)
        return
    names = [forename, surname, preferred_forename, preferred_surname, get("middle_names"), get("former_surname")]
    if not all(_plausible_name(n) for n in names if n):
        report.skip("name contains digits, no letters, or is too long", lineno)
        return

    upns = []
    for fld in ("upn", "former_upn"):
        value = re.sub(r"\s", "", get(fld)).lstrip("'").upper()  # Excel's text marker: 'H801200001001
        if value:
            if upn_is_valid(value):
                upns.append(value)
            else:
                report.warn(f"{fld.replace('_', ' ').upper()} fails its check letter (not stored)", lineno)
    ulns = []
    uln = re.sub(r"\s", "", get("uln")).lstrip("'").removesuffix(".0")  # Excel turns ULNs into numbers
    if uln:
        if uln_is_valid(uln):
            ulns.append(uln)
        else:
            report.warn("ULN fails its check digit (not stored)", lineno)
    dob_text = get("date_of_birth")
    dob = _parse_date(dob_text) if dob_text else None
    if dob_text and dob is None:
        report.warn("unreadable date of birth (names still imported)", lineno)

    _, is_new = builder.add_pupil(
        legal_forename=forename,
        legal_surname=surname,
        preferred_forename=preferred_forename,
        preferred_surname=preferred_surname,
        middle_names=get("middle_names"),
        former_surnames=[s for s in (get("former_surname"),) if s],
        upns=upns,
        ulns=ulns,
        date_of_birth=dob,
    )
    if not is_new:
        report.merged_rows += 1
