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


@pytest.mark.parametrize("text", ["Why can't IbrahimWarsame log in to the Chromebook?",
                                  "The file is shared from /home/PriyaPatel/Desktop - how do I stop sharing?",
                                  r"OneDrive path C:\Users\ZoeOBrien\Documents won't sync.",
                                  "Rename 10warsamei-mock-results.xlsx please.", "Upload 14patelp_report.docx please.",
                                  "Reset i.warsame27 please.", "Rename patel.p-mock-results.xlsx please."])
def test_logins_glued_capitalised_year_first_or_initial_dotted_are_redacted(roster_engine, text):
    # forename and surname each keeping its capital; a two-digit intake year first; an initial and a dot
    d = roster_engine.scan([text])
    assert d.action == "redact"
    assert not any(name in d.texts[0].lower() for name in ("warsame", "patel", "obrien"))


@pytest.mark.parametrize("text", ["Reset the password for whall please, he's locked out.",
                                  "hallw can't log in to Teams.", "The account hall.w keeps getting locked.",
                                  "Forward it to w.hall27 before Friday.", "Why can't WillHall log in?"])
def test_a_login_is_a_login_where_the_text_says_account_though_its_name_is_a_word(roster_engine, text):
    d = roster_engine.scan([text])
    assert d.action == "redact" and "hall" not in d.texts[0].lower()


@pytest.mark.parametrize("text", ["Reset the password for the hall laptop please.",
                                  "Book the hall for Friday; my account shows the booking as locked.",
                                  "The account shall be settled by the PTA.", "Open PowerPoint and YouTube."])
def test_word_names_beside_account_words_stay_words(roster_engine, text):
    assert roster_engine.scan([text]).action == "allow"


LOGIN_NAMES_CSV = """Forename,Surname,Year
Kai,Nakamura,8
Ava,Jones,9
Thu,Nguyen,9
Minh,Ng,7
Jayden-Lee,Campbell,8
Mia,Okafor,9
"""


@pytest.fixture(scope="module")
def login_names_engine(tmp_path_factory):
    from tests.support.detectors import engine_for_roster

    return engine_for_roster(LOGIN_NAMES_CSV, tmp_path_factory.mktemp("login-names"))


@pytest.mark.parametrize("text", ["The account kain is locked again.", "Why can't thun log in to Teams?",
                                  "Reset the password for kain please.", r"Sync fails for C:\Users\thun\Documents."])
def test_a_short_login_is_redacted_where_the_text_names_it_an_account(login_names_engine, text):
    d = login_names_engine.scan([text])
    assert d.action == "redact" and "kain" not in d.texts[0] and "thun" not in d.texts[0]


@pytest.mark.parametrize("text", ["My account shows 'java not found' when I log in.",
                                  "What does data:image/png;base64,iVBORw0KGgo do?", "Plan the kain tour for Y8."])
def test_short_words_are_no_logins_without_an_account_beside_them(login_names_engine, text):
    # "java" is j + Ava and "png" is p + Ng only to a rule that ignores what the text says
    assert login_names_engine.scan([text]).action == "allow"


@pytest.mark.parametrize("text", ["Why can't Jayden-LeeCampbell log in?", "Forward it to jayden-leecampbell14 today.",
                                  "Rename miac17_mock.xlsx please.", "Email miao09@school.example.org today."])
def test_logins_of_hyphenated_forenames_and_short_names_with_digits_are_redacted(login_names_engine, text):
    # a hyphenated forename glued to the surname; digits make a login of a short forename and an initial
    d = login_names_engine.scan([text])
    assert d.action == "redact" and not any(n in d.texts[0].lower() for n in ("campbell", "miac", "miao"))
