"""Other people and smaller identifiers: families, parents, staff with a role, seating-plan names, UPNs without
their check letter, and the optional initials rule (issue 9, classes 3 and 9)."""
import pytest

from tests.support.detectors import engine_for_roster


def test_a_family_named_in_the_plural_by_a_roster_surname_is_redacted(roster_engine):
    d = roster_engine.scan(["I met the Patels and the Halls at parents' evening."])
    assert d.texts == ["I met the [PUPIL_1] and the [PUPIL_2] at parents' evening."]


def test_a_family_plural_after_a_sibilant_is_redacted(tmp_path):
    engine = engine_for_roster("Forename,Surname,Year\nSienna,Marsh,5\nGeraint,Jones,6\nAlfie,Fox,4\n", tmp_path)
    d = engine.scan(["Please write to the Marshes, the Joneses and the Foxes about the trip."])
    assert d.texts == ["Please write to the [PUPIL_1], the [PUPIL_2] and the [PUPIL_3] about the trip."]
    assert engine.scan(["The marshes and foxes of the Somerset Levels: a Year 5 habitat lesson."]).action == "allow"


# What the engine writes for prompts about people other than the pupil named: (prompt, expected text).
OTHER_PEOPLE = [
    # -- relatives, even when their name is also a word
    ("Her nan Pat collects her on Fridays.", "Her nan [PERSON_1] collects her on Fridays."),
    ("Mr Smith and his partner Gemma want a meeting.", "Mr [PUPIL_1] and his partner [PERSON_1] want a meeting."),
    ("His dad Mark is picking him up.", "His dad [PERSON_1] is picking him up."),
    # Welsh: whose mother first, then her name in apposition
    ("Roedd mam Oliver, Nia, yn hwyr eto.", "Roedd mam [PUPIL_1], [PERSON_1], yn hwyr eto."),
    # whose relation someone is, even when the name is also a word
    ("Mason's cousin Tia won the art prize.", "[PERSON_1]'s cousin [PERSON_2] won the art prize."),
    # a child with a pupil's forename and a surname that is also a word: the surname does not go out alone
    ("A visiting pupil, Oliver Becker, joins us for two weeks.", "A visiting pupil, [PUPIL_1], joins us for two weeks."),
    # -- a family named with a family word
    ("The Pritchard-Adeyemi children are moving to Bristol.", "The [PERSON_1] children are moving to Bristol."),
    ("Please ring the Halloran household before 4pm.", "Please ring the [PERSON_1] household before 4pm."),
    ("Mae teulu Achterberg yn symud i Abertawe.", "Mae teulu [PERSON_1] yn symud i Abertawe."),
    # ... or in the plural, written to or doing what a family does; a people or a band is left alone
    ("The Hallorans have complained about the homework policy.",
     "The [PERSON_1] have complained about the homework policy."),
    ("Write a letter to the Fitzgeralds about the welcome evening.",
     "Write a letter to the [PERSON_1] about the welcome evening."),
    ("Please ask the Mendoza kids to wait in reception.", "Please ask the [PERSON_1] kids to wait in reception."),
    ("The Hallorans' eldest starts in Year 7; the Halloran's new address is on Arbor.",
     "The [PERSON_1]' eldest starts in Year 7; the [PERSON_2]'s new address is on Arbor."),
    ("Re: Oyelaran siblings - can they sit together?", "Re: [PERSON_1] siblings - can they sit together?"),
    ("Draft a thank-you card to the Fitzgeralds for the raffle prizes.",
     "Draft a thank-you card to the [PERSON_1] for the raffle prizes."),
    ("Minutes: Oyelarans (parents) raised the bus times.", "Minutes: [PERSON_1] (parents) raised the bus times."),
    # a pupil's family by a surname that is also a word, where the family word says so
    ("Both the Grey twins were late again.", "Both the [PUPIL_1] twins were late again."),
    ("Write a lesson about The Addams Family musical and the Royal family.",
     "Write a lesson about The Addams Family musical and the Royal family."),
    ("Write a letter to the Romans as a Celtic chief, then one to the Victorians.",
     "Write a letter to the Romans as a Celtic chief, then one to the Victorians."),
    # -- staff asked, spoken to, given an action in minutes, or listed in a rota beside a pupil
    ("Can you ask Nkechi to cover P3 on Thursday?", "Can you ask [PERSON_1] to cover P3 on Thursday?"),
    ("I've spoken to Hywel Rees-Jones in the office.", "I've spoken to [PERSON_1] in the office."),
    ("Action: Tunde to book the coach by Friday.", "Action: [PERSON_1] to book the coach by Friday."),
    ("Rota: Mon - Oliver, Tue - Alun, Wed - Mr Smith.", "Rota: Mon - [PUPIL_1], Tue - [PERSON_1], Wed - Mr [PUPIL_2]."),
    ("Ask Claude to summarise this, then ask Gemini and Copilot.",
     "Ask Claude to summarise this, then ask Gemini and Copilot."),  # the AI tools asked, not staff
    ("Clubs: Mon - Swimming, Tue - Forest School, Wed - Priya, Thu - Cardiff Museum, Fri - Hegarty.",
     "Clubs: Mon - Swimming, Tue - Forest School, Wed - [PUPIL_1], Thu - Cardiff Museum, Fri - Hegarty."),
    # -- NER's one span over two people is two names; a new sentence after an initial is no part of a name
    ("Thanks to Dave and Lily for running the bake sale.",
     "Thanks to [PERSON_1] and [PERSON_2] for running the bake sale."),
    ("Here's our rota: Wednesday – Mr Obi, Thursday – Gemma R. Make it a table.",
     "Here's our rota: Wednesday – Mr [PERSON_1], Thursday – [PERSON_2]. Make it a table."),
    # -- a greeting and a title are no part of a name, in any language
    ('Can you check my Portuguese? "Caro Sr. Patel, o Oliver esteve muito bem esta semana."',
     'Can you check my Portuguese? "Caro Sr. [PUPIL_1], o [PUPIL_2] esteve muito bem esta semana."'),
    # a title that is no English word marks a name even where the passage reads as English
    ('Check my Portuguese: "Caro Sr. Fernandes, o Oliver esteve bem." The Sr. Principal sent it.',
     'Check my Portuguese: "Caro Sr. [PERSON_1], o [PUPIL_1] esteve bem." The Sr. Principal sent it.'),
    # -- "from" signs a message, but a school's name after it is no signature
    ("A girl from St Joseph's, Nevaeh Okoro-Smith, is coming for a taster day.",
     "A girl from St Joseph's, [PERSON_1], is coming for a taster day."),
    # -- a name signed alone under an e-mail whose header named the sender, even when it is also a word
    ("From: Dean Fairclough <d.fairclough@example.com>\nIs the trip still on?\nDean",
     "From: [PERSON_1] <[EMAIL_1]>\nIs the trip still on?\n[PERSON_2]"),
    # -- the person a message greets (not "Dear Parents,")
    ('Check my reply: "Dear Ieuan, thank you for covering my lessons."',
     'Check my reply: "Dear [PERSON_1], thank you for covering my lessons."'),
    ("Hi Gwenllian,\nThe minutes are attached.", "Hi [PERSON_1],\nThe minutes are attached."),
    ("Dear Parents,\nThe trip is on Friday.", "Dear Parents,\nThe trip is on Friday."),
    ("Hi all, the coach is booked.", "Hi all, the coach is booked."),
    # -- Welsh cues for a person, and not for a place
    # a Welsh sentence opens with its verb, which makes no name with the pupil's after it; mid-sentence, an English
    # word in Welsh is a name
    ("Cafodd Ibrahim ei anfon allan o'r wers am regi.", "Cafodd [PUPIL_1] ei anfon allan o'r wers am regi."),
    ("Mae Will yn gweithio'n galed. Gofynnwch i Grey ddod â'r ffurflen yfory.",
     "Mae [PUPIL_1] yn gweithio'n galed. Gofynnwch i [PUPIL_2] ddod â'r ffurflen yfory."),
    ("Gofynnwch i'r swyddfa anfon y ffurflenni at Aled cyn dydd Gwener.",
     "Gofynnwch i'r swyddfa anfon y ffurflenni at [PERSON_1] cyn dydd Gwener."),
    ("Diolch yn fawr i Sioned am drefnu'r cyngerdd Nadolig.", "Diolch yn fawr i [PERSON_1] am drefnu'r cyngerdd Nadolig."),
    ("Bydd Ieuan Prys yn dechrau yn y dosbarth ddydd Llun.", "Bydd [PERSON_1] yn dechrau yn y dosbarth ddydd Llun."),
    ("Helpwch fi i ysgrifennu neges at rieni Cai am ei ymddygiad.",
     "Helpwch fi i ysgrifennu neges at rieni [PERSON_1] am ei ymddygiad."),
    ("Mae gan Ela apwyntiad deintydd am 2 o'r gloch.", "Mae gan [PERSON_1] apwyntiad deintydd am 2 o'r gloch."),
    ("Rydyn ni'n mynd i Gaerdydd ddydd Llun i weld yr amgueddfa.",
     "Rydyn ni'n mynd i Gaerdydd ddydd Llun i weld yr amgueddfa."),
    ("Rho ganllawiau am y Cod ADY: pwy sy'n penderfynu a oes gan ddisgybl ADY?",
     "Rho ganllawiau am y Cod ADY: pwy sy'n penderfynu a oes gan ddisgybl ADY?"),  # an acronym names no one
    ("Llythyr i rieni: Bydd Blwyddyn 6 yn mynd i Gaerdydd ddydd Iau.",
     "Llythyr i rieni: Bydd Blwyddyn 6 yn mynd i Gaerdydd ddydd Iau."),
    # -- a pupil's name mutated after a Welsh preposition is the pupil
    ("Rhowch adborth i Briya ac i Harry ar eu traethodau.",
     "Rhowch adborth i [PUPIL_1] ac i [PUPIL_2] ar eu traethodau."),
    ("Diolch i Batel a'i deulu am y rhodd.", "Diolch i [PUPIL_1] a'i deulu am y rhodd."),
    # -- staff in cover lists
    ("Tutor: Mr. Fairweather (9W), Room 12", "Tutor: Mr. [PERSON_1] (9W), Room 12"),
    ("Cover: 9W Maths P2 - Kowalczyk (absent), covered by Fairweather.",
     "Cover: 9W Maths P2 - [PERSON_1] (absent), covered by [PERSON_2]."),
    # -- whom a message goes to, but not a product
    ("Reply to Priyanka: yes, the trip forms can go out on Monday.",
     "Reply to [PERSON_1]: yes, the trip forms can go out on Monday."),
    ("Ask ChatGPT to email Arbor support from Cardiff about the MIS.",
     "Ask ChatGPT to email Arbor support from Cardiff about the MIS."),
    # -- a list of names each with its part in brackets
    ("Fair rota: Lorna (tombola), Gurpreet (cakes), Danny (raffle).",
     "Fair rota: [PERSON_1] (tombola), [PERSON_2] (cakes), [PERSON_3] (raffle)."),
    # -- a colleague praised, or whose class it is
    ("Well done Tunde for the displays! Tunde's class will go first.",
     "Well done [PERSON_1] for the displays! [PERSON_1]'s class will go first."),
    # ... or whom thanks go to, but not a shop or a country
    ("Staff shout-out: thanks to Nerys and Wojciech for running the Year 7 residential!",
     "Staff shout-out: thanks to [PERSON_1] and [PERSON_2] for running the Year 7 residential!"),
    ("Thanks to Tesco for the fruit, and congratulations to Wales on reaching the final.",
     "Thanks to Tesco for the fruit, and congratulations to Wales on reaching the final."),
    # -- what children do says a child; a country does things too
    ("Tyler-Jay keeps kicking the ball over the fence at break.",
     "[PERSON_1] keeps kicking the ball over the fence at break."),
    ("Brooklyn and Nevaeh fell out at lunch, how do I do a restorative chat?",
     "[PERSON_1] and [PERSON_2] fell out at lunch, how do I do a restorative chat?"),
    ("Wales refused to play on; write a match report.", "Wales refused to play on; write a match report."),
    # -- parents and staff
    ("Sarah Smith rang about Oliver's trip.", "[PERSON_1] rang about [PUPIL_1]'s trip."),
    ("pls ask Kasia Patel to ring me re the trip", "pls ask [PERSON_1] to ring me re the trip"),  # a parent
    ("Halima (Yusuf's mum) rang.", "[PERSON_1] ([PERSON_2]'s mum) rang."),
    ("Please email Mr Daniel Hughes, SENCo, about the trip.", "Please email Mr [PERSON_1], SENCo, about the trip."),
]


@pytest.mark.parametrize("text, redacted", OTHER_PEOPLE)
def test_other_people_are_redacted_and_words_stay_words(roster_engine, text, redacted):
    assert roster_engine.scan([text]).texts == [redacted]


def test_a_famous_family_stays(roster_engine):
    assert roster_engine.scan(["Which of the Brontë sisters wrote Jane Eyre?"]).action == "allow"


def test_a_relation_before_a_month_or_place_is_no_name(roster_engine):
    assert roster_engine.scan(["Her mum Monday morning said the trip to Kent was great."]).texts[0].count("[") == 0


def test_a_name_split_over_table_cells_keeps_the_cells(roster_engine):
    d = roster_engine.scan(["Forename,Surname,Tutor\nOliver,Smith,8B", "Oliver\tSmith\t8B"])
    assert d.texts == ["Forename,Surname,Tutor\n[PUPIL_1],[PUPIL_2],8B", "[PUPIL_1]\t[PUPIL_2]\t8B"]


@pytest.fixture(scope="module")
def seating_engine(tmp_path_factory):
    return engine_for_roster("Forename,Surname,Year\nAl,Barker,8\nJo,Khan,8\nMo,Tahir,8\n",
                             tmp_path_factory.mktemp("seating"))


def test_two_letter_preferred_names_in_a_seating_plan(seating_engine):
    d = seating_engine.scan(["Seating plan 8B\nRow 1: Al B | Jo K | Mo T\nRow 2: empty"])
    assert d.texts == ["Seating plan 8B\nRow 1: [PUPIL_1] B | [PUPIL_2] K | [PUPIL_3] T\nRow 2: empty"]
    assert seating_engine.scan(["Is vitamin A B or C? Plan A B C."]).action == "allow"


def test_a_upn_without_its_check_letter_counts_next_to_upn(roster_engine):
    d = roster_engine.scan(["UPN 801200001001 for the new starter"])
    assert d.texts == ["UPN [UPN_1] for the new starter"] and d.pupil_refs  # completed to H801200001001
    assert roster_engine.scan(["Invoice 123456789012 paid"]).action == "allow"


def test_initials_beside_special_category_block_unless_the_policy_turns_the_rule_off(engine):
    from detectors.engine import Engine
    from detectors.policy import load_policy

    lax = Engine(policy=load_policy("version: 1\ndefault: {special_with_initials: false}\n"))
    for text in ("T.R. in 8C has anorexia, how can I support her?", "T.R. has anorexia."):
        assert engine.scan([text]).action == "block"  # on by default
        assert lax.scan([text]).action == "allow"
    assert engine.scan(["Plan an anorexia awareness assembly for Year 9."]).action == "allow"
