"""A placeholder replaces exactly the identifier: it never splits a word, never swallows a neighbouring word,
table cell or bracket, and two identifiers side by side are two placeholders (issue 9, class 8)."""
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.placeholders import PLACEHOLDER_RE

# Identifiers the test roster (tests/support/detectors.py) and the pattern recognisers find for certain.
IDENTIFIERS = ["Oliver Smith", "Priya Patel", "Zoë O'Brien", "Ibrahim Warsame", "Aleksandra Nowak-Kowalska",
               "H801200001001", "07911 123456", "j.bloggs@school.sch.uk", "CF10 1AA", "9276308686"]
# Words, marks and numbers around them in mark books, seating plans, clash tables and mail merges.
WORDS = ["Maths", "English", "Science", "homework", "target", "Set", "3", "45%", "8B", "Y9", "Room", "12",
         "Grade", "B", "absent", "late", "Paper", "2", "Monday", "Term", "score", "notes", "Front", "row",
         "Period", "clash", "French", "merit", "effort", "excellent", "TBC", "n/a", "yes", "no"]
SEPARATORS = [" ", " | ", "\t", ", ", "\n", " - ", ": ", "; ", " / ", ",", "|"]
OPENERS = ["", "(", "[", "\""]


@st.composite
def school_text(draw):
    """(text, the identifier values in it, the other tokens in order)."""
    n = draw(st.integers(min_value=2, max_value=14))
    parts, identifiers, others = [], [], []
    for i in range(n):
        if i:
            parts.append(draw(st.sampled_from(SEPARATORS)))
        opener = draw(st.sampled_from(OPENERS))
        closer = {"": "", "(": ")", "[": "]", "\"": "\""}[opener]
        if draw(st.booleans()):
            token = draw(st.sampled_from(IDENTIFIERS))
            identifiers.append(token)
        else:
            token = draw(st.sampled_from(WORDS))
            others.append(token)
        parts.append(opener + token + closer)
    return "".join(parts), identifiers, others


def _tokens(text):
    return [t for t in re.findall(r"[\w%/'.@-]+", text) if any(c.isalnum() for c in t)]


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(school_text())
def test_placeholders_replace_exactly_the_identifiers(roster_engine, case):
    text, identifiers, others = case
    d = roster_engine.scan([text])
    out = d.texts[0] if d.texts else text
    if d.action == "block":  # a block sends nothing; the excerpt shows the same redaction
        return
    for m in PLACEHOLDER_RE.finditer(out):  # never inside a word
        assert not out[m.start() - 1:m.start()].isalnum() and not out[m.end():m.end() + 1].isalnum(), (text, out)
    for value in identifiers:
        assert value not in out, (text, out)
    # Every other token survives, in order, with the separators and brackets around it.
    assert _tokens(PLACEHOLDER_RE.sub(" ", out)) == [t for w in others for t in _tokens(w)], (text, out)
    # As many placeholders as identifier mentions: "Sam kicked Max" is two, a row of names is one per name.
    assert len(PLACEHOLDER_RE.findall(out)) == len(identifiers), (text, out)


def test_a_seating_plan_and_a_mail_merge_keep_their_structure(roster_engine):
    plan = "Front row | Oliver Smith | Priya Patel | empty\nBack row | Zoë O'Brien | Ibrahim Warsame | empty"
    d = roster_engine.scan([plan])
    assert d.texts == ["Front row | [PUPIL_1] | [PUPIL_2] | empty\nBack row | [PUPIL_3] | [PUPIL_4] | empty"]
    merge = "Forename,Surname,Tutor,Parent email\nOliver,Smith,8B,j.bloggs@school.sch.uk"
    d = roster_engine.scan([merge])
    assert d.texts[0].splitlines()[0] == "Forename,Surname,Tutor,Parent email"
    assert d.texts[0].splitlines()[1].split(",")[2] == "8B" and d.texts[0].count(",") == merge.count(",")
    d = roster_engine.scan(["Oliver Smith (DOB 14/02/2013) and Priya Patel"])
    assert d.texts == ["[PUPIL_1] (DOB [DOB_1]) and [PUPIL_2]"]


def test_a_phone_number_after_a_mark_is_the_whole_number(roster_engine):
    assert roster_engine.scan(["2 07911 123456"]).texts == ["2 [PHONE_1]"]

