"""Other people named by what they are (issue 9, class 3), a child not on the roll with special category a sentence
later (class 4), and initials beside special category (class 9): staff with a role, parents and carers, ex-pupils
and visiting pupils, lists of names, forenames that recur, Welsh sentences whose subject is a person."""
import pytest


@pytest.mark.parametrize("text, redacted", [
    # a staff member with a role or subject in brackets or in apposition
    ("Reply to Colm (PE) saying I can't cover his lesson.", "Reply to [PERSON_1] (PE) saying I can't cover his lesson."),
    ("Congratulate Yetunde Bakare (learning mentor) on her diploma.",
     "Congratulate [PERSON_1] (learning mentor) on her diploma."),
    ("A leaving card for Rhian Meirion, our Pennaeth, please.", "A leaving card for [PERSON_1], our Pennaeth, please."),
    ("Present: Marcus Oyelaran (HoY11), Bernadette (minutes)", "Present: [PERSON_1] (HoY11), [PERSON_2] (minutes)"),
    # parents and carers with their relation
    ("Met Nasra (stepmum) at parents' evening.", "Met [PERSON_1] (stepmum) at parents' evening."),
    ("Grandad (Glenys ap Iorwerth) will collect him.", "Grandad ([PERSON_1]) will collect him."),
    # children who are not on the roll
    ("Cyn-ddisgybl, Rhydian Cadwaladr, sydd wedi ennill ysgoloriaeth.",
     "Cyn-ddisgybl, [PERSON_1], sydd wedi ennill ysgoloriaeth."),
    ("Ex-pupil Fatou Ceesay wants to talk to Year 11.", "Ex-pupil [PERSON_1] wants to talk to Year 11."),
    ("Mae Anwen Thrower yn dechrau gyda ni ddydd Llun.", "Mae [PERSON_1] yn dechrau gyda ni ddydd Llun."),
])
def test_a_name_with_its_role_or_relation_is_a_person(engine, text, redacted):
    assert engine.scan([text]).texts == [redacted]


def test_names_listed_with_a_found_name_are_names_too(engine):
    d = engine.scan(["Our partner school is sending two pupils, Lerato and Thabo, for a week."])
    assert d.texts == ["Our partner school is sending two pupils, [PERSON_1] and [PERSON_2], for a week."]
    # a listed ordinary or school word is not a name
    assert engine.scan(["Oliver Twist and Maths and Kent"]).action == "allow"


def test_a_person_doing_what_people_do_is_a_person(engine):
    d = engine.scan(["Gareth said Nerys does it, but Nerys says it's the office."])
    assert d.texts == ["[PERSON_1] said [PERSON_2] does it, but [PERSON_2] says it's the office."]


def test_the_forename_of_a_full_name_recurs_alone(engine):
    d = engine.scan(["Present: Rhian Meirion (Pennaeth). Rhian agreed to update the homework policy."])
    assert "Rhian" not in d.texts[0] and "Meirion" not in d.texts[0]


def test_welsh_places_are_not_sentence_subjects(engine):
    text = "Mae Bae Caerdydd yn brysur. Mae Pen y Fan yn uchel."
    assert engine.scan([text]).action == "allow"


@pytest.mark.parametrize("text", [
    "New starter next week - Ruairí Breathnach, joining Year 4. He has type 1 diabetes and needs insulin at lunch.",
    "Oskar Lindahl transfers in from Sweden after Easter. The paperwork mentions type 1 diabetes.",
    "Mae Nomvula Dube yn dechrau gyda ni ddydd Llun. The file says ADHD, medicated.",
    "Mum and the children have moved into a refuge. Harper's new address must not go on letters. Harper Quinn in 8B.",
])
def test_a_child_not_on_the_roll_with_special_category_later_is_blocked(engine, text):
    assert engine.scan([text]).action == "block"


@pytest.mark.parametrize("text", [
    "T.M. in 11W has anorexia and is refusing lunch.",
    "Quick advice: K.B. (11M) is on a CP plan.",
    "TR (9K) self-harming again. What do I say to her?",
    "A girl in 8C has anorexia; how do I support her?",
])
def test_initials_or_one_child_in_a_class_beside_special_category_are_blocked_by_default(engine, text):
    assert engine.scan([text]).action == "block"


@pytest.mark.parametrize("text", [
    "Prepare 8C's SEN register review for Friday.",
    "Plan a P.E. lesson for pupils with asthma.",
    "Log this in the diary (NOT CPOMS): Oliver lost his PE bag.",
])
def test_a_class_alone_an_abbreviation_or_a_system_said_no_to_do_not_block(engine, text):
    assert engine.scan([text]).action != "block"


@pytest.mark.parametrize("text, redacted", [
    # a job title NER takes for a name stays; a signature's name ends at its line
    ("Reference for Priyanka Desai: Priyanka has worked as Deputy Head since 2019.",
     "Reference for [PERSON_1]: [PERSON_2] has worked as Deputy Head since 2019."),
    ("Draft a reply to Huw Beynon (Pennaeth Cynorthwyol) agreeing to swap my duty.",
     "Draft a reply to [PERSON_1] (Pennaeth Cynorthwyol) agreeing to swap my duty."),
    ("--\nRachel Hargreaves\nHead of English | Pennaeth Saesneg", "--\n[PERSON_1]\nHead of English | Pennaeth Saesneg"),
    # a greeting before a name is no list; a contraction is no name
    ("Summarise: \"Hiya, Wayne here, Tom's dad, I'll be picking Tom up at 2.\"",
     "Summarise: \"Hiya, [PERSON_1] here, [PERSON_2]'s dad, I'll be picking [PERSON_2] up at 2.\""),
])
def test_only_the_name_is_replaced(engine, text, redacted):
    assert engine.scan([text]).texts == [redacted]


def test_a_staff_members_role_or_own_qualification_is_not_special_category(engine):
    d = engine.scan(["Reference for Nerys Tudor: Nerys has worked as ALNCo since 2019, reliable."])
    assert d.action == "redact" and "Nerys" not in d.texts[0] and "Tudor" not in d.texts[0]
    d = engine.scan(["Congratulate Yetunde Bakare (learning mentor) on finishing her counselling diploma."])
    assert d.action == "redact"


def test_special_category_in_ukrainian_about_a_pupil_blocks(roster_engine):
    assert roster_engine.scan(["У Oliver дислексія, тому на іспитах буде додатковий час."]).action == "block"
    assert roster_engine.scan(["Oliver дуже покращив англійську в цьому семестрі."]).action == "redact"
