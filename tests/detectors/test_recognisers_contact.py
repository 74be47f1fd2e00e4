"""Phone numbers, postcodes, email, dates of birth, NHS and NI numbers."""
import pytest

from detectors.recognisers.contact import OfflineEmailRecognizer, UkPhoneRecognizer, UkPostcodeRecognizer
from detectors.recognisers.dates import DateOfBirthRecognizer


def spans(recogniser, text):
    return [text[r.start:r.end] for r in recogniser.analyze(text, recogniser.supported_entities)
            if r.score > 0]


def test_uk_phone_numbers_national_and_international():
    text = "Mum: 07911 123456, home 020 7946 0958, +44 7911 123456, (0161) 496 0000, drama 07700 900123"
    assert spans(UkPhoneRecognizer(), text) == ["07911 123456", "020 7946 0958", "+44 7911 123456",
                                                "(0161) 496 0000", "07700 900123"]


@pytest.mark.parametrize("text", ["ULN 9276308686", "NHS 9434765919", "scored 12 15 18 20 in tests", "2023-2024"])
def test_phone_negatives(text):
    assert spans(UkPhoneRecognizer(), text) == []


def test_postcodes():
    r = UkPostcodeRecognizer()
    assert spans(r, "Lives at SW1A 1AA, moved from m1 1ae and B33 8TH") == ["SW1A 1AA", "m1 1ae", "B33 8TH"]
    assert spans(r, "Grade Ab1 2cd and Y10 assessment") == []


def test_email_offline():
    r = OfflineEmailRecognizer()
    assert spans(r, "write to j.bloggs@school.sch.uk or mum123@gmail.com") == ["j.bloggs@school.sch.uk",
                                                                            "mum123@gmail.com"]
    assert spans(r, "not@an-email") == []


@pytest.mark.parametrize("text, expected", [
    ("DOB: 03/09/2013", ["03/09/2013"]),
    ("date of birth 2013-09-03", ["2013-09-03"]),
    ("born on 3rd September 2013", ["3rd September 2013"]),
    ("Name, DOB, Year\nOliver, 14/02/2013, 8", ["14/02/2013"]),   # a class list with a DOB column
    ("Trip on 14/03/2026, deadline 1 May 2025, war ended 8 May 1945", []),   # other dates are not birth dates
    ("Bethan Jones, 22/04/2010, Year 11", ["22/04/2010"]),          # a full date in a school-age birth year
])
def test_dates_of_birth(text, expected):
    assert spans(DateOfBirthRecognizer(), text) == expected


def test_nhs_and_nino_through_the_engine(engine):
    d = engine.scan(["NHS 943 476 5919, NI number AB 12 34 56 C; not NHS 943 476 5918, not QQ 12 34 56 C"])
    assert d.texts == ["NHS [NHS_1], NI number [NINO_1]; not NHS 943 476 5918, not QQ 12 34 56 C"]


def test_identifiers_beat_phone_on_the_same_digits(engine):
    d = engine.scan(["UPN H801200001001 and NHS number 9434765919"])
    assert d.entity_counts == {"UK_UPN": 1, "UK_NHS": 1}
