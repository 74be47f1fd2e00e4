"""Placeholders replace exactly the identifier: tables, letter heads, usernames and UPNs without a check letter."""
import pytest

from detectors.recognisers.addresses import UkAddressRecognizer
from detectors.recognisers.uk_ids import UpnRecognizer, complete_upn, la_number


def spans(recogniser, text, threshold=0.5):
    return [text[r.start:r.end] for r in recogniser.analyze(text, recogniser.supported_entities)
            if r.score >= threshold]


@pytest.mark.parametrize("text, expected", [
    ("Visited him at 5a Clos Hafod, Moss Side, Manchester M14 4TX today", "5a Clos Hafod, Moss Side"),
    ("Her address is 2 Jubilee Gardens, Harehills, Leeds. Thanks", "2 Jubilee Gardens, Harehills"),
    ("Address: Apartment 12, Granville Square, Highfields, Leicester LE2 0DT", "Apartment 12, Granville Square, Highfields"),
    ("parents at Bwthyn y Nant, Heol Isaf, Y Felinheli. Their boy", "Bwthyn y Nant, Heol Isaf, Y Felinheli"),
    ("New address 6 Rhodfa'r Môr, Treforys, Swansea SA6 8BN. Same phone.", "6 Rhodfa'r Môr, Treforys"),
    ("to mr and mrs jones, 48b tudor rise, walthamstow, london e177jn - well done", "48b tudor rise, walthamstow"),
    ("Flat 22 Sycamore Court Toxteth\nLiverpool\nL82UF", "Flat 22 Sycamore Court Toxteth"),
])
def test_an_address_is_the_home_not_the_post_town(text, expected):
    assert spans(UkAddressRecognizer(), text) == [expected]


def test_an_address_never_runs_across_table_cells():
    assert spans(UkAddressRecognizer(), "Rhes 2\tBryn P\tTomasz N\tHaf L") == []


def test_upn_without_its_check_letter_needs_a_local_authority_and_context_in_its_sentence():
    r = UpnRecognizer()
    assert spans(r, "Is 801323519667 a valid UPN? The form says no.") == ["801323519667"]
    assert spans(r, "The CTF has 87360552050T for her.") == ["87360552050T"]
    assert spans(r, "Multiply 123456789012 by two for the pupil.") == []  # 123 is no local authority
    assert spans(r, "Order 801323519667 arrived.") == []
    assert la_number("801") and la_number("660") and not la_number("123")
    assert complete_upn("801200001001") == "H801200001001" and complete_upn("80120000101A") == "G80120000101A"


def test_a_rostered_pupils_upn_without_check_letter_is_found_with_no_context(roster_engine):
    d = roster_engine.scan(["801200001001 keeps failing, why?"])
    assert d.action == "redact" and d.texts == ["[UPN_1] keeps failing, why?"]


@pytest.mark.parametrize("heading", ["Adno\tSurname\tForename\tHouse", "Adm No\tSurname\tForename\tHouse"])
def test_a_table_keeps_its_headings_cells_and_borders(roster_engine, heading):
    table = f"{heading}\n004075\tSmith\tOliver\tDewi\n004045\tPatel\tPriya\tDewi"
    d = roster_engine.scan([table])
    assert d.action == "redact"
    out = d.texts[0]
    assert out.splitlines()[0] == heading
    assert out.count("\t") == table.count("\t") and out.count("\n") == table.count("\n")
    assert "Dewi" in out and "Oliver" not in out and "Priya" not in out


def test_a_lower_case_login_goes_whole_and_a_pupils_mailbox_keeps_the_school_domain(roster_engine):
    d = roster_engine.scan(["Why is the login oliver_smi locked? And oliver.smith@pupils.example.sch.uk bounces."])
    assert d.texts == ["Why is the login [PUPIL_1] locked? And [PUPIL_2]@pupils.example.sch.uk bounces."]
    # anyone else's address goes whole: a parent's mailbox at a public provider is theirs
    d = roster_engine.scan(["His dad's email is oliver.smith82@example.com."])
    assert d.texts == ["His dad's email is [EMAIL_1]."]


def test_a_post_town_is_not_a_person(roster_engine):
    d = roster_engine.scan(["Oliver Smith moved to 15 Highfield Road, Easton, Bristol BS5 6XJ."])
    assert d.texts == ["[PUPIL_1] moved to [ADDRESS_1], Bristol [POSTCODE_1]."]


def test_a_special_category_column_that_says_no_for_everyone_tells_nothing(roster_engine):
    table = "Name\tReg\tSEN\tFSM\tReading age\nOliver Smith\t9K\tN\tNo\t12.4\nPriya Patel\t9K\tN\tNo\t13.1"
    d = roster_engine.scan([table])
    assert d.action == "redact" and not any(k.startswith("SPECIAL_CATEGORY") for k in d.entity_counts)
    # one pupil on the SEN register (K) and the table says something about her
    assert roster_engine.scan([table.replace("9K\tN\tNo\t13.1", "9K\tK\tNo\t13.1")]).action == "block"
