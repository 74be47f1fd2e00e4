"""Importing MIS exports: every header style and encoding, malformed files, and the `roster` command."""
import argparse
import os

import pytest

from detectors.cli import register_roster
from detectors.mis_import import MisImportError, import_mis_csv
from detectors.roster import Roster, RosterKey

DATA = os.path.join(os.path.dirname(__file__), "data")
KEY = RosterKey(b"i" * 32)


def _import(name, tmp_path):
    out = tmp_path / "r.roster"
    report = import_mis_csv(os.path.join(DATA, name), out, KEY)
    return report, Roster.load(out, KEY)


@pytest.mark.parametrize("fixture,style,encoding,pupils", [
    ("sims_utf8_bom.csv", "SIMS", "utf-8-sig", 4),
    ("arbor.csv", "Arbor", "utf-8", 3),
    ("bromcom.csv", "Bromcom", "utf-8", 2),
    ("wonde.csv", "Wonde", "utf-8", 2),
    ("xporter_cp1252.csv", "Groupcall Xporter", "windows-1252", 2),
])
def test_each_header_style_and_encoding(fixture, style, encoding, pupils, tmp_path):
    report, roster = _import(fixture, tmp_path)
    assert (report.style, report.encoding, report.pupils) == (style, encoding, pupils)
    assert report.skipped_rows == 0 and not report.warnings
    assert len(roster) == pupils


def test_sims_names_preferred_and_legal(tmp_path):
    _, roster = _import("sims_utf8_bom.csv", tmp_path)
    zoe = roster.match_full_name("Zoë", "O'Brien")
    assert zoe and roster.match_full_name("zoe", "obrien") == zoe
    assert roster.match_full_name("Kobe", "Nakamura-Oduya") == roster.match_full_name("Kwabena", "Tobias",
                                                                                          "Nakamura-Oduya")


def test_arbor_plain_first_name_is_legal_and_iso_dates(tmp_path):
    report, roster = _import("arbor.csv", tmp_path)
    assert report.columns["legal_forename"] == "First name"
    assert report.columns["preferred_forename"] == "Preferred first name"
    assert roster.match_full_name("Mo", "Al-Rashid") == roster.match_full_name("Mohammed", "Al Rashid") != []
    assert roster.match_full_name("Siobhan", "MacAllister")
    assert roster.match_full_name("Chloe", "D’Souza")


def test_bromcom_preferred_surname(tmp_path):
    _, roster = _import("bromcom.csv", tmp_path)
    assert roster.match_full_name("Tobiah", "Fanshawe") == roster.match_full_name("Tobiah", "Featherstonehaugh")
    assert roster.match_full_name("Ola", "Kowalczyk")


def test_wonde_plain_forename_is_preferred_and_upi_is_not_a_upn(tmp_path):
    report, roster = _import("wonde.csv", tmp_path)
    assert report.columns["legal_forename"] == "legal_forename"
    assert report.columns["preferred_forename"] == "forename"
    assert report.columns["upn"] == "upn"
    assert roster.match_full_name("Freddie", "Okonkwo-Baptiste") == roster.match_full_name(
        "Frederick", "Okonkwo Baptiste")
    assert roster.match_full_name("Niamh", "O Suilleabhain")


def test_xporter_windows_1252_temporary_upn_uln_former_names(tmp_path):
    report, roster = _import("xporter_cp1252.csv", tmp_path)
    renee = roster.match_full_name("Renée", "Lefèvre")
    assert renee and roster.match_full_name("RENEE", "LEFEVRE") == renee
    assert roster.match_full_name("Renee", "Dubois") == renee  # former surname
    assert roster.lookup_identifier("UPN", "G80120000101A") == renee[0]
    assert roster.lookup_identifier("UPN", "Z801200000012") == renee[0]  # former UPN
    assert roster.lookup_identifier("ULN", "9276308686") == renee[0]
    assert roster.match_full_name("Jake", "Thorncliffe") == roster.match_full_name("Jacob", "Thorncliffe")


def test_malformed_rows_are_skipped_or_kept_with_reasons(tmp_path):
    report, roster = _import("malformed.csv", tmp_path)
    assert report.skipped == {
        "blank row": [3, 4],
        "missing forename or surname": [5],
        "row has fewer cells than the header (names missing)": [8],
        "name contains digits, no letters, or is too long": [10],
    }
    assert report.warnings["unreadable date of birth (names still imported)"] == [6]
    assert report.warnings["UPN fails its check letter (not stored)"] == [11]
    assert report.warnings["row has a different number of cells from the header"] == [7, 13]
    assert report.warnings["NUL characters removed"] == [0]
    assert report.merged_rows == 1  # row 12 repeats row 2's pupil
    assert report.pupils == 6
    for first, last in [("Imogen", "Whitfield"), ("Theodore", "Hargreaves"), ("Beatrix", "Ashworth"),
                        ("Ottilie", "Blackwood"), ("Cressida", "Fairbanks"), ("Perry", "Lockhart")]:
        assert roster.match_full_name(first, last), first
    assert roster.lookup_identifier("UPN", "X801200000000") is None


def test_report_never_contains_names(tmp_path):
    report, _ = _import("malformed.csv", tmp_path)
    text = repr(report.as_dict())
    for name in ("Whitfield", "Imogen", "Pemberton", "Quill", "R2D2", "Fairbanks", "X801200000000"):
        assert name not in text


def test_utf16_and_bytes_input_and_semicolons(tmp_path):
    csv_text = "Legal Surname;Legal Forename;DOB\r\nBrontë;Anne;17/01/2012\r\n"
    report = import_mis_csv(csv_text.encode("utf-16"), tmp_path / "r.roster", KEY)
    assert (report.encoding, report.pupils) == ("utf-16", 1)
    assert Roster.load(tmp_path / "r.roster", KEY).match_full_name("anne", "bronte")


def test_header_after_a_title_line(tmp_path):
    data = b"Student list exported 01/09/2025\n\nSurname,Forename\nEyre,Jane\n"
    report = import_mis_csv(data, tmp_path / "r.roster", KEY)
    assert report.pupils == 1


@pytest.mark.parametrize("data,message", [
    (b"Colour,Size\nred,10\n", "looked for a forename column"),
    (b"", "no recognisable header"),
    (b"Legal Surname,Legal Forename\n,,\n", "no pupil could be imported"),
])
def test_unimportable_files_give_clear_errors(data, message, tmp_path):
    with pytest.raises(MisImportError, match=message):
        import_mis_csv(data, tmp_path / "r.roster", KEY)
    assert not (tmp_path / "r.roster").exists()


def test_unreadable_path(tmp_path):
    with pytest.raises(MisImportError, match="cannot read"):
        import_mis_csv(tmp_path / "nope.csv", tmp_path / "r.roster", KEY)


def test_progress_is_reported(tmp_path):
    rows = "".join(f"Surname{chr(65 + i % 26)}{chr(65 + i // 26 % 26)},Forename\n" for i in range(12000))
    calls = []
    import_mis_csv(("Surname,Forename\n" + rows).encode(), tmp_path / "r.roster", KEY,
                   progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 3 and calls[-1][0] == calls[-1][1]


# -- the `pupilguard roster` command -----------------------------------------------------------------------
def _run(argv):
    parser = argparse.ArgumentParser(prog="pupilguard")
    register_roster(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_cli_import_prints_counts_and_row_numbers_not_names(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY", raising=False)
    key_file = tmp_path / "roster.key"
    out = tmp_path / "school.roster"
    assert _run(["roster", "import", os.path.join(DATA, "malformed.csv"), "--out", str(out),
                 "--key-file", str(key_file)]) == 0
    printed = capsys.readouterr()
    assert "pupils" in printed.out and "6" in printed.out
    assert "missing forename or surname" in printed.out
    for name in ("Whitfield", "Imogen", "Pemberton", "Blackwood"):
        assert name not in printed.out + printed.err
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert _run(["roster", "info", str(out), "--key-file", str(key_file)]) == 0
    assert "pupils: 6" in capsys.readouterr().out


def test_cli_errors_are_one_line_and_nonzero(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY", raising=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("Colour,Size\nred,10\n")
    assert _run(["roster", "import", str(bad), "--out", str(tmp_path / "r"), "--key-file",
                 str(tmp_path / "k")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pupilguard roster import: error: no recognisable header") and err.count("\n") == 1
    assert _run(["roster", "import", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "PUPILGUARD_ROSTER_KEY" in capsys.readouterr().err


def test_import_to_a_file_object_for_web_uploads():
    import io

    buffer = io.BytesIO()
    report = import_mis_csv(open(os.path.join(DATA, "arbor.csv"), "rb").read(), buffer, KEY)
    roster = Roster.load(buffer.getvalue(), KEY)
    assert report.pupils == len(roster) == 3
    assert roster.find_pupils("Siobhan MacAllister")


@pytest.mark.e2e
def test_installed_pupilguard_command_imports_with_env_key(tmp_path):
    """The real console script, as IT would run it: key from the environment, no traceback on errors."""
    import shutil
    import subprocess
    import sys

    exe = shutil.which("pupilguard", path=os.path.dirname(sys.executable))
    assert exe, "pupilguard console script not installed (pip install -e .)"
    env = {**os.environ, "PUPILGUARD_ROSTER_KEY": "ab" * 32}
    ok = subprocess.run([exe, "roster", "import", os.path.join(DATA, "xporter_cp1252.csv"), "--out",
                         str(tmp_path / "r.roster")], capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "Groupcall Xporter" in ok.stdout and "windows-1252" in ok.stdout
    assert Roster.load(tmp_path / "r.roster", RosterKey(bytes.fromhex("ab" * 32))).match_full_name("Jake", "Thorncliffe")
    bad = subprocess.run([exe, "roster", "import", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "x")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "cannot read" in bad.stderr


def test_single_full_name_column(tmp_path):
    data = "Name,Reg\nSmith, Oliver,\"9C\"\nAnna van der Berg,7A\n".replace("Smith, Oliver", '"Smith, Oliver"')
    report = import_mis_csv(data.encode(), tmp_path / "r.roster", KEY)
    roster = Roster.load(tmp_path / "r.roster", KEY)
    assert report.pupils == 2 and report.columns["full_name"] == "Name"
    assert roster.match_full_name("Oliver", "Smith") and roster.match_full_name("Anna", "van der Berg")
    assert roster.is_surname("Berg")


def test_excel_mangled_identifiers_are_repaired(tmp_path):
    data = b"Surname,Forename,UPN,ULN\nEyre,Jane,'H801200001001,9276308686.0\n"
    report = import_mis_csv(data, tmp_path / "r.roster", KEY)
    roster = Roster.load(tmp_path / "r.roster", KEY)
    assert not report.warnings
    assert roster.lookup_identifier("UPN", "H801200001001") == roster.lookup_identifier("ULN", "9276308686")


def test_oversized_field_is_a_clear_error_not_a_crash(tmp_path):
    data = b"Surname,Forename\nEyre,Jane\n\"" + b"x" * 300_000 + b"\",Rochester\n"
    with pytest.raises(MisImportError, match="malformed at line 3"):
        import_mis_csv(data, tmp_path / "r.roster", KEY)


def test_quoted_fields_with_commas_and_line_breaks(tmp_path):
    data = b'Surname,Forename,Notes\n"Smith, Jr",Oliver,"line one\nline two"\nEyre,Jane,\n'
    report = import_mis_csv(data, tmp_path / "r.roster", KEY)
    assert report.pupils == 2 and report.skipped_rows == 0
    assert report.rows == 2
