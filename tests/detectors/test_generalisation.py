"""Rostered names hidden in usernames, e-mail local parts and file names, in forms generated from the roster
rather than copied from any corpus: a rule that works only for the spellings it was tuned on is no rule."""
import pytest

# (forename, surname) of pupils in the shared test roster (tests/support/detectors.py).
PUPILS = [("Ibrahim", "Warsame"), ("Priya", "Patel")]


def _forms(fore: str, sur: str) -> list[str]:
    f, s, i = fore.lower(), sur.lower(), fore[0].lower()
    return [f + s, i + s, f"{i}.{s}", f"{i}_{s}", s + i, f"{s}.{i}", f"{i}{s}27", f"27{i}{s}", f"{s}{i}09",
            f"{i.upper()}{sur}", f"{sur}{i.upper()}",
            f"{sur}{fore[:2]}", f"y9{i}{s}"]  # SIMS-style "HughesAm"; a year group before the login


CASES = [(fore, sur, form) for fore, sur in PUPILS for form in _forms(fore, sur)]


@pytest.mark.parametrize("fore,sur,form", CASES)
def test_username_from_a_rostered_name_is_redacted(roster_engine, fore, sur, form):
    result = roster_engine.scan([f"Reset the password for {form} please, locked out again."])
    assert result.action in {"redact", "block"}


@pytest.mark.parametrize("fore,sur,form", CASES)
def test_email_local_part_from_a_rostered_name_is_redacted(roster_engine, fore, sur, form):
    result = roster_engine.scan([f"Forward it to {form}@school.example.org before Friday."])
    assert result.action in {"redact", "block"}


@pytest.mark.parametrize("name", ["Warsame_Ibrahim_Y11 report.docx", "priya-patel-ehcp.pdf", "Y9 Warsame I.xlsx"])
def test_file_name_with_a_rostered_name_is_redacted(roster_engine, name):
    assert roster_engine.scan([f"Can you summarise {name} for me?"]).action in {"redact", "block"}


def _file_names(fore: str, sur: str) -> list[str]:
    """Logins and names as parts of file names and paths, beside years, classes and extensions."""
    f, s, i = fore.lower(), sur.lower(), fore[0].lower()
    return [f"{i}{s}_y9.docx", f"{fore}{sur}_Y9.docx", f"{sur}{i.upper()}_art.jpg", f"{f}{s}-report-2026.pdf",
            rf"C:\Reports\{fore}{sur}_Y11.docx", f"{i}{s}27_mock.xlsx",
            f"Y11-{sur.upper()}-{i.upper()}-mock.pdf", f"mock_paper_{s}_{i}.pdf",  # a surname and an initial
            f"{fore}{sur}Report.docx", f"{i.upper()}{sur}-Y9-Report.pdf"]  # a word glued on; "NOBrien"


@pytest.mark.parametrize("fore,sur,name", [(fore, sur, name) for fore, sur in PUPILS + [("Zoë", "O'Brien")]
                                            for name in _file_names(fore, sur.replace("'", ""))])
def test_a_login_inside_a_file_name_or_path_is_redacted(roster_engine, fore, sur, name):
    d = roster_engine.scan([f"Please rename {name} before Friday."])
    assert d.action in {"redact", "block"}
    assert sur.replace("'", "").lower() not in d.texts[0].lower()


@pytest.mark.parametrize("text", ["Account 2013whall is locked.", "The folder /home/pupils/y8/whall/ is full.",
                                  "The file WHALL_Y8.docx won't open.", "User: WARSAMEI, last login 09:14"])
def test_a_login_is_a_login_even_when_the_surname_is_a_word(roster_engine, text):
    # Will Hall and Ibrahim Warsame are on the test roster; "hall" is also an ordinary word
    assert roster_engine.scan([text]).action == "redact"


def test_ordinary_file_names_are_left_alone(roster_engine):
    text = ("Rename worksheet_y9.docx, FinalReport_Y11.docx, MarksheetA_art.jpg, lesson-plan-2026.pdf, plan_b.docx "
            "and Y11-SCIENCE-A-mock.pdf please.")
    assert roster_engine.scan([text]).action == "allow"


def test_ordinary_sentence_is_left_alone(roster_engine):
    assert roster_engine.scan(["Reset the password for the printer please, it is locked again."]).action == "allow"
