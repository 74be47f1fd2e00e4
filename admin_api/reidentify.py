""""Who is P-XXXX?": a one-off look-up of a pupil reference in the MIS export the DSL uploads.

The export is read in memory, each row's reference derived exactly as the roster import derives it (the roster
key over the UPN, or the legal name and date of birth), and the names of the matching rows returned to show once.
Nothing of the export is stored or logged; the caller audits the reference and whether it matched.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from detectors import mis_import
from detectors.roster import RosterBuilder, RosterKey


@dataclass(frozen=True)
class Match:
    name: str
    date_of_birth: str | None


class _Matcher(RosterBuilder):
    """A roster builder that keeps the names of the rows whose reference is the one asked about (and nothing of
    any other row)."""

    def __init__(self, key: RosterKey, wanted: str) -> None:
        super().__init__(key)
        self.wanted = wanted
        self.matches: list[Match] = []

    def add_pupil(self, **fields: Any) -> tuple[str, bool]:
        ref, is_new = super().add_pupil(**fields)
        if ref == self.wanted:
            forename = fields.get("preferred_forename") or fields["legal_forename"]
            surname = fields.get("preferred_surname") or fields["legal_surname"]
            legal = f" (legal name {fields['legal_forename']} {fields['legal_surname']})" \
                if (forename, surname) != (fields["legal_forename"], fields["legal_surname"]) else ""
            dob = fields.get("date_of_birth")
            match = Match(f"{forename} {surname}{legal}", dob.strftime("%d/%m/%Y") if dob else None)
            if match not in self.matches:
                self.matches.append(match)
        return ref, is_new


def identify(key: RosterKey, export: bytes, pupil_ref: str) -> list[Match]:
    """The pupils in this MIS export whose reference is `pupil_ref` (usually one; none if the export is another
    school's or older than the pupil). Raises mis_import.MisImportError for a file that is not an MIS export."""
    # The importer's own header detection and row rules, so the reference is derived exactly as at import.
    text, encoding = mis_import._decode(export)
    report = mis_import.ImportReport(encoding=encoding, key_fingerprint=key.fingerprint)
    first = next((ln for ln in text[:20_000].split("\n") if ln.strip()), "")
    delimiter = max((",", ";", "\t", "|"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text.replace("\x00", ""), newline=""), delimiter=delimiter)
    matcher = _Matcher(key, pupil_ref.strip().upper())
    columns: dict[str, int] | None = None
    width = 0
    try:
        for row in reader:
            if columns is None:
                candidate = mis_import._map_columns(row) if any(c.strip() for c in row) else {}
                if mis_import._has_names(candidate):
                    columns, width = candidate, len(row)
                elif reader.line_num >= 10:
                    break
                continue
            mis_import._import_row(row, reader.line_num, columns, width, matcher, report)
    except csv.Error as exc:
        raise mis_import.MisImportError(f"CSV is malformed at line {reader.line_num}: {exc}") from None
    if columns is None:
        raise mis_import.MisImportError("no recognisable header row: upload the MIS pupil export (CSV)")
    return matcher.matches
