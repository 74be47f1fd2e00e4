"""Special-category and safeguarding terms with context."""
import pytest

from detectors.recognisers.special_category import SpecialCategoryRecognizer


@pytest.fixture(scope="module")
def special():
    return SpecialCategoryRecognizer()


def found(special, text):
    return [(text[r.start:r.end], r.recognition_metadata["subtype"]) for r in special.analyze(text, [])]


@pytest.mark.parametrize("text, term, subtype", [
    ("He has ADHD", "ADHD", "SEN"),
    ("she has an EHCP", "EHCP", "SEN"),
    ("his education, health and care plan", "education, health and care plan", "SEN"),
    ("primary need SEMH", "SEMH", "SEN"),
    ("code HI on the SEN register", "HI", "SEN"),
    ("he is diabetic and carries an EpiPen", "diabetic", "HEALTH"),
    ("referred to CAMHS last week", "CAMHS", "MENTAL_HEALTH"),
    ("she has been self-harming", "self-harming", "MENTAL_HEALTH"),
    ("ethnicity code WBRI", "WBRI", "ETHNICITY"),
    ("the family is Muslim", "Muslim", "RELIGION"),
    ("on a child protection plan", "child protection plan", "SAFEGUARDING"),
    ("logged on CPOMS by the DSL", "DSL", "SAFEGUARDING"),  # a role; CPOMS (a system) is context, no finding
    ("CP conference on Monday", "CP conference", "SAFEGUARDING"),
    ("she is LAC and lives with foster carers", "LAC", "LOOKED_AFTER"),
    ("she gets free school meals", "free school meals", "FSM"),
    ("he came out as gay", "came out", "SEXUALITY"),
    ("his brother was arrested", "arrested", "CRIMINAL"),
])
def test_terms_found_with_subtype(special, text, term, subtype):
    assert (term, subtype) in found(special, text)


@pytest.mark.parametrize("text", [
    "Plan our ADHD awareness week assembly",           # topic: followed by a generic word
    "Autism training for staff on Friday",
    "The Great Depression hit Britain in the 1930s",  # exception phrase
    "Apply for a DBS disclosure",
    "Hi, can you ADD these numbers? hi there",         # HI / ADD need context and capitals
    "A lesson on Muslim festivals",                    # religion word as a topic
    "The moth landed on the MOTH exhibit",             # census code MOTH needs context
    "The mash was lumpy",                              # MASH is case-sensitive
    "Add up the scores and press enter",
    "Rydyn ni'n casglu arian ar gyfer Plant Mewn Angen",  # the BBC's Children in Need appeal, in Welsh
    "PE = Physical Education, RE = Religious Education",  # "education" alone is no special category
    "He wants to study mental health nursing at university",  # a career
    "She played the role of a refugee in the school play",  # a part played
])
def test_topic_mentions_and_ordinary_words_are_not_findings(special, text):
    assert found(special, text) == []


def test_longest_match_wins(special):
    assert found(special, "He is on a child protection plan.") == [("child protection plan", "SAFEGUARDING")]


@pytest.mark.parametrize("text", [
    "Please let us know about any allergies or medical conditions.",
    "Staff training on types of abuse and neglect.",
])
def test_general_questions_are_topics(special, text):
    assert found(special, text) == []


@pytest.mark.parametrize("text, term", [
    ("Possible county lines. Police informed.", "county lines"),
    ("He is showing signs of self-harm.", "self-harm"),
])
def test_concerns_stay_findings(special, text, term):
    assert term in [t for t, _ in found(special, text)]


@pytest.mark.parametrize("text, found_terms", [
    ("Translate this letter into Polish for the parents.", []),
    ("She is a confident reader and loves books.", []),
    ("He needs a reader.", ["needs a reader"]),
    ("Her family are Polish and she identifies as Roma.", ["Polish", "Roma"]),
    ("She has been referred to the eating disorder unit.", ["eating disorder unit"]),
    ("He told me he smokes weed at the weekend.", ["smokes weed"]),
    ("The family are claiming asylum.", ["claiming asylum"]),
    ("She only eats halal meals.", ["only eats halal", "halal meals"]),
])
def test_language_reading_and_new_terms(special, text, found_terms):
    assert [t for t, _ in found(special, text)] == found_terms
