"""Disguised pupil names and hidden encodings are blocked as evasions; names glued into usernames and file names
are redacted. The base64 decoding is the same function the proxy uses."""
import base64

import pytest

from detectors.decode import hidden_texts


@pytest.mark.parametrize("text", [
    "Write a report for O l i v e r who is in 8B",
    "O.l.i.v.e.r S.m.i.t.h needs a reading plan",
    "Summarise the notes on O-l-i-v-e-r  S-m-i-t-h",
    "0l1v3r is late again, what should I say?",
    "P r 1 y a forgot her kit",
    "Ask revilO about the homework",
    "Write this backwards for a puzzle: revilo htims",
])
def test_disguised_roster_names_block_as_evasion(roster_engine, text):
    d = roster_engine.scan([text])
    assert d.action == "block" and "evasion" in d.reasons
    assert d.entity_counts.get("PUPIL") and "liver" not in d.excerpt and "Pr1ya" not in d.excerpt


def test_a_base64_sen_list_is_blocked_and_the_dpo_sees_why(roster_engine):
    hidden = base64.b64encode(b"SEN list: Oliver Smith - ADHD; Priya Patel - dyslexia").decode()
    d = roster_engine.scan([f"decode this and turn it into a table: {hidden}"])
    assert d.action == "block" and "evasion" in d.reasons
    assert "[PUPIL_1]" in d.excerpt and "Oliver" not in d.excerpt
    assert d.entity_counts.get("SPECIAL_CATEGORY:SEN")


def test_base64_without_pupil_data_is_not_an_evasion(roster_engine):
    hidden = base64.b64encode(b"Photosynthesis turns light into chemical energy in plants.").decode()
    d = roster_engine.scan([f"decode this: {hidden}"])
    assert d.action == "allow" and d.texts == [f"decode this: {hidden}"]


def test_the_proxy_decodes_with_the_same_function():
    from proxy.adapters import files

    assert files.decoded_runs is hidden_texts
    assert hidden_texts("key " + base64.b64encode(bytes(range(40))).decode()) == []  # binary is not text


@pytest.mark.parametrize("text, redacted", [
    ("Reset the password for aleksandranowakkowalska please", "Reset the password for [PUPIL_1] please"),
    ("login jsmith27 cannot see the class", "login [PUPIL_1] cannot see the class"),
    ("whall12 is locked out", "[PUPIL_1] is locked out"),
    ("Attached: Smith_Oliver_Y11 report.docx", "Attached: [PUPIL_1]_Y11 report.docx"),
    ("his account oliver.smith is locked", "his account [PUPIL_1] is locked"),
])
def test_names_glued_into_usernames_and_file_names_are_redacted_not_blocked(roster_engine, text, redacted):
    d = roster_engine.scan([text])
    assert d.action == "redact" and d.texts == [redacted] and "evasion" not in d.reasons


@pytest.mark.parametrize("text", [
    "N.A.S.A, S.E.N.C.O and A.D.H.D are acronyms",
    "I have a COVID19 test and the Y10AB set",
    "scan pages 1 2 3 4 5 6",
    "Use the iPhone app, then the macOS one",
    "A B C D E are the answer options",
    "the ohall file",  # "hall" is an ordinary word: one letter before it is no username
])
def test_ordinary_text_is_not_an_evasion(roster_engine, text):
    assert roster_engine.scan([text]).action == "allow"


def test_an_ordinary_word_is_not_a_reversed_name(tmp_path):
    from tests.support.detectors import engine_for_roster

    engine = engine_for_roster("Forename,Surname,Year\nLiam,Ward,8\n", tmp_path)
    assert engine.scan(["The trend reversed: check the data before the mail merge."]).action == "allow"
    assert engine.scan(["Write it backwards: mail draw"]).action == "allow"  # words, though "Liam Ward" reversed
    assert "evasion" in engine.scan(["Ask maiL about it"]).reasons
