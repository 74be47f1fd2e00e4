"""The engine end to end: decisions, placeholders, byte-for-byte preservation, evasions, fail-closed."""
import logging
import pickle

import pytest

from detectors import Placeholders, load_policy
from detectors.engine import Engine, EngineError, Finding

NAME_CASES = [
    "Oliver Smith in 8B did really well this week.",
    "Can you write a report comment for Zoë O'Brien? She is working hard.",
]


def rebuild(original: str, findings: list[Finding], redacted: str) -> None:
    """Everything outside the findings is byte-for-byte the original."""
    pos, parts = 0, []
    for f in sorted((f for f in findings if f.entity != "SPECIAL_CATEGORY"), key=lambda f: f.start):
        parts.append(original[pos:f.start])
        pos = f.end
    parts.append(original[pos:])
    # the redacted text is the kept parts with one placeholder between each pair
    rest = redacted
    for i, part in enumerate(parts):
        assert rest.startswith(part), (i, part)
        rest = rest[len(part):]
        if i < len(parts) - 1:
            assert rest.startswith("[") and "]" in rest
            rest = rest[rest.index("]") + 1:]
    assert rest == ""


# -- decisions ------------------------------------------------------------------------------------------
def test_rostered_name_redacted_with_pupil_ref(roster_engine):
    d = roster_engine.scan([NAME_CASES[0]])
    assert d.action == "redact" and d.reasons == ["identifier_redacted"]
    assert d.texts == ["[PUPIL_1] in 8B did really well this week."]
    assert d.entity_counts == {"PUPIL": 1} and len(d.pupil_refs) == 1
    assert d.pupil_refs[0].startswith("P-")


def test_special_category_with_pupil_blocks_and_excerpt_is_redacted(roster_engine):
    d = roster_engine.scan(["Oliver Smith (UPN H801200001001) has ADHD and an EHCP."])
    assert d.action == "block" and d.texts is None
    assert d.reasons == ["special_category_with_identifier"]
    assert d.entity_counts["SPECIAL_CATEGORY:SEN"] == 2
    assert "Oliver" not in d.excerpt and "H801200001001" not in d.excerpt
    assert "[PUPIL_1]" in d.excerpt and "[UPN_1]" in d.excerpt and "ADHD" in d.excerpt


def test_special_category_without_identifier_is_allowed_unchanged(roster_engine):
    text = "Suggest strategies for a Year 8 pupil with dyslexia and ADHD in a maths lesson."
    d = roster_engine.scan([text])
    assert d.action == "allow" and d.texts == [text] and d.reasons == []
    assert d.entity_counts == {"SPECIAL_CATEGORY:SEN": 2}


def test_unrostered_person_in_pupil_context_with_special_category_blocks(engine):
    assert engine.scan(["Jayden in 8B has ADHD, what should I do?"]).action == "block"
    assert engine.scan(["My Year 9 student Kacper Nowicki self-harms."]).action == "block"
    # a person in the same sentence as the term, even without pupil words
    assert engine.scan(["Mrs Okafor told me she has epilepsy."]).action == "block"


def test_awareness_style_mention_with_a_name_is_redacted_not_blocked(engine):
    d = engine.scan(["Mr Daniel Hughes is running our ADHD awareness week assembly."])
    assert d.action == "redact"
    assert d.texts == ["Mr [PERSON_1] is running our ADHD awareness week assembly."]


def test_job_titles_next_to_a_name_are_not_special_category(engine, roster_engine):
    d = engine.scan(["Write a short bio for our new SENCO, Priyanka Venkatesh, who joins in April."])
    assert d.action == "redact" and d.entity_counts == {"PERSON": 1}
    assert roster_engine.scan(["Ask the SENCO to look at Oliver Smith's reading."]).action == "block"


def test_religious_observance_of_a_pupil_blocks(roster_engine):
    d = roster_engine.scan(["Reply to Mrs Warsame: can Ibrahim leave early on Friday for Jummah prayers?"])
    assert d.action == "block" and d.entity_counts["SPECIAL_CATEGORY:RELIGION"] == 1


def test_rostered_forename_that_is_a_character_in_company(roster_engine):
    text = "Summarise the chapter where Lucy first meets Mr Tumnus in Narnia."
    assert roster_engine.scan([text]).texts == [text]
    assert roster_engine.scan(["Lucy was late again today."]).texts == ["[PUPIL_1] was late again today."]


def test_findings_carry_positions_never_text(roster_engine):
    text = "Ring Zoë's mum on 07911 123456."
    d = roster_engine.scan([text])
    fields = set(Finding.__dataclass_fields__)
    assert fields == {"entity", "start", "end", "score", "index", "subtype", "evasion"}
    spans = {f.entity: text[f.start:f.end] for f in d.findings}
    assert spans == {"PUPIL": "Zoë", "PHONE_NUMBER": "07911 123456"}


def test_many_texts_are_one_request(roster_engine):
    d = roster_engine.scan(["You are a helpful SENCO assistant.", "Oliver Smith needs his EHCP annual review."])
    assert d.action == "block"
    assert {f.index for f in d.findings} == {0, 1}
    d = roster_engine.scan(["Write to Oliver Smith.", "", "And to Priya Patel about Oliver Smith."])
    assert d.texts == ["Write to [PUPIL_1].", "", "And to [PUPIL_2] about [PUPIL_1]."]


# -- placeholders ----------------------------------------------------------------------------------------
def test_same_value_same_placeholder_across_spellings_and_calls(roster_engine):
    ph = Placeholders()
    d1 = roster_engine.scan(["Oliver Smith and OLIVER SMITH and Ol\u200biver Smith; email o.smith@example.org"],
                            placeholders=ph)
    assert d1.texts == ["[PUPIL_1] and [PUPIL_1] and [PUPIL_1]; email [EMAIL_1]"]
    d2 = roster_engine.scan(["Priya Patel sat next to oliver smith"], placeholders=ph)
    assert d2.texts == ["[PUPIL_2] sat next to [PUPIL_1]"]
    # each decision names only its own placeholders: the proxy restores a reply with just those
    assert d1.placeholders_used == ["[PUPIL_1]", "[EMAIL_1]"]
    assert d2.placeholders_used == ["[PUPIL_2]", "[PUPIL_1]"]
    assert ph.restore("[PUPIL_1] and [PUPIL_2] ([EMAIL_1]) [PUPIL_9]") == \
        "Oliver Smith and Priya Patel (o.smith@example.org) [PUPIL_9]"


def test_placeholders_pickle_and_copy():
    ph = Placeholders()
    assert ph.placeholder("PHONE_NUMBER", "07911 123456") == "[PHONE_1]"
    assert ph.placeholder("PHONE_NUMBER", "+44 7911 123456") == "[PHONE_1]"
    clone = pickle.loads(pickle.dumps(ph))
    assert clone.placeholder("UK_UPN", "h801200001001") == "[UPN_1]"
    assert clone.placeholder("PHONE_NUMBER", "07911123456") == "[PHONE_1]"
    copy = clone.copy()
    copy.placeholder("UK_UPN", "T938123424001")
    assert len(copy) == 3 and len(clone) == 2 and len(ph) == 1


def test_redacted_output_rescanned_is_allowed(roster_engine):
    d = roster_engine.scan(["Dear Mrs Okafor, Oliver Smith (DOB 14/02/2013) lives at SW1A 1AA."])
    assert d.action == "redact"
    again = roster_engine.scan(d.texts)
    assert again.action == "allow", again.findings


def test_everything_else_preserved_byte_for_byte(roster_engine):
    text = ("\ufeffRe:\tOliver Smith\u2019s report \U0001F600\r\n  • Priya Patel — 07911 123456\r\n"
            "Résumé café naïve \u00a0 spacing\u200d kept   \n")
    d = roster_engine.scan([text])
    assert d.action == "redact"
    rebuild(text, d.findings, d.texts[0])
    assert d.texts[0].endswith("Résumé café naïve \u00a0 spacing\u200d kept   \n")


# -- evasions ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Ol\u200biver Sm\u200cith in 8B did well",            # zero-width characters
    "\u041eliver Smith in 8B did well",                   # Cyrillic capital O
    "Oliver Sm\u0456th in 8B did well",                   # Cyrillic i
    "OLIVER SMITH IN 8B DID WELL",                        # all caps
    "oliver smith in 8b did well",                        # all lower case
    "Ｏｌｉｖｅｒ Ｓｍｉｔｈ in 8B did well",                  # fullwidth
])
def test_evasions_still_find_the_pupil(roster_engine, text):
    d = roster_engine.scan([text])
    assert d.action == "redact" and d.entity_counts == {"PUPIL": 1}
    assert d.texts[0].startswith("[PUPIL_1] ")
    f = d.findings[0]
    assert (f.start, f.end) == (0, len(text.split(" ")[0]) + 1 + len(text.split(" ")[1]))


def test_zero_width_inside_identifiers(engine):
    text = "UPN H801\u200b2000\u200b01001 and NHS 943\u200b476\u200b5919"
    d = engine.scan([text])
    assert d.texts == ["UPN [UPN_1] and NHS [NHS_1]"]


def test_unrostered_all_caps_names_found(engine):
    d = engine.scan(["NOTE FROM MRS ADEYEMI ABOUT KACPER NOWICKI"])
    assert d.action == "redact" and "ADEYEMI" not in d.texts[0] and "NOWICKI" not in d.texts[0]


# -- famous people and ordinary words ---------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Write a lesson plan comparing Florence Nightingale and Mary Seacole for Year 9.",
    "How does Lady Macbeth persuade Macbeth to kill Duncan?",
    "Summarise Martin Luther King Jr's 'I Have a Dream' speech and Winston Churchill's war speeches.",
    "Explain Isaac Newton's laws and Marie Curie's discoveries to a Year 7 class.",
    "In An Inspector Calls, how is Mr Birling presented? Compare Sheila Birling and Inspector Goole.",
    "Create a quiz about Oliver Twist and Ebenezer Scrooge by Charles Dickens.",
])
def test_famous_people_left_alone(roster_engine, text):
    d = roster_engine.scan([text])
    assert d.action == "allow" and d.texts == [text], d.findings


def test_roster_full_name_beats_famous_name(roster_engine):
    d = roster_engine.scan(["Harry Potter forgot his PE kit again."])
    assert d.texts == ["[PUPIL_1] forgot his PE kit again."]


@pytest.mark.parametrize("text,expected", [
    # the forename inside a longer famous name stays that person; the pupil's lone forename later is the pupil
    ("Oliver Smith wrote about Oliver Cromwell. Oliver said the Civil War was his best topic.",
     "[PUPIL_1] wrote about Oliver Cromwell. [PUPIL_2] said the Civil War was his best topic."),
    # "Lucy" near Aslan is read as the Narnia character, but here the pupil Lucy Grey is named in full
    ("Lucy Grey wrote a diary entry as Aslan. Lucy read it to the class.",
     "[PUPIL_1] wrote a diary entry as Aslan. [PUPIL_2] read it to the class."),
])
def test_lone_forename_of_a_pupil_named_in_full_beats_famous_company(roster_engine, text, expected):
    assert roster_engine.scan([text]).texts == [expected]


def test_pupil_named_in_an_earlier_message_of_the_request(roster_engine):
    d = roster_engine.scan(["Write a report comment for Lucy Grey.", "She loved Aslan. Lucy read it aloud."])
    assert d.texts == ["Write a report comment for [PUPIL_1].", "She loved Aslan. [PUPIL_2] read it aloud."]


@pytest.mark.parametrize("text", [
    "Compare Oliver Cromwell and Charles I for a Year 8 history lesson.",   # no pupil named: nothing to redact
    "Lucy first meets Mr Tumnus, and later Aslan. Why does Lucy trust him?",
])
def test_famous_names_without_the_pupil_named_stay(roster_engine, text):
    d = roster_engine.scan([text])
    assert d.action == "allow" and d.texts == [text], d.findings


@pytest.mark.parametrize("text", [
    "Will you help me plan the summer term?",
    "The school hall is booked for the May Day assembly.",
    "Please mark these essays and grade them fairly.",
    "Write a poem about autumn leaves for Year 3.",
    "Plan a lesson on the French Revolution with three activities.",
])
def test_ordinary_words_are_not_names(roster_engine, text):
    d = roster_engine.scan([text])
    assert d.action == "allow" and d.texts == [text], d.findings


# -- policy in the engine -----------------------------------------------------------------------------------
def test_profile_and_tool_overrides(roster_engine, test_roster):
    policy = load_policy("""version: 1
default:
  deny_terms: {SAFEGUARDING: [Operation Encompass]}
profiles:
  pupil: {entities: {PUPIL: block}}
tools:
  copilot: {mode: monitor}
""")
    e = Engine(policy=policy, roster=test_roster)
    assert e.scan(["Oliver Smith did well"], profile="pupil").reasons == ["policy_block"]
    assert e.scan(["Oliver Smith did well"], profile="staff").action == "redact"
    d = e.scan(["Operation Encompass call about Oliver Smith"])
    assert d.action == "block" and d.entity_counts["SPECIAL_CATEGORY:SAFEGUARDING"] == 1
    # monitor never lets special-category data about a pupil out, and still redacts identifiers
    d = e.scan(["Oliver Smith has ADHD"], tool="copilot")
    assert d.action == "block" and d.reasons == ["special_category_with_identifier"]
    assert "Oliver" not in d.excerpt
    d = e.scan(["Oliver Smith did well"], tool="copilot")
    assert d.action == "redact" and d.reasons == ["identifier_redacted"] and "Oliver" not in d.texts[0]
    # what monitor only reports: the pupil profile's extra block of names (the name is still redacted)
    d = e.scan(["Oliver Smith did well"], tool="copilot", profile="pupil")
    assert d.action == "redact" and d.reasons == ["identifier_redacted", "policy_block", "monitor_only"]
    assert "Oliver" not in d.texts[0]


def test_allow_terms_and_ignored_entities(engine):
    policy = load_policy("version: 1\nacknowledge_special_category_unredacted: true\n"
                         "default:\n  allow_terms: [Mrs Okafor, Okafor]\n  entities: {PHONE_NUMBER: ignore}\n")
    e = Engine(policy=policy)
    d = e.scan(["Mrs Okafor's number is 07911 123456"])
    assert d.action == "allow" and d.findings == []
    assert "07911" not in d.excerpt  # ignored for the decision, still kept out of the DPO's log


def test_score_threshold_tunes_identifiers_not_special_categories():
    e = Engine(policy=load_policy("version: 1\ndefault:\n  score_threshold: 0.9\n"))
    d = e.scan(["Mrs Okafor has epilepsy. UPN H801200001001."])
    assert d.entity_counts == {"UK_UPN": 1, "SPECIAL_CATEGORY:HEALTH": 1}  # NER names (0.85) below 0.9
    assert d.action == "block"


def test_start_up_refuses_a_policy_it_cannot_honour():
    # Blocking rostered names needs a roster: without one, names would only be redacted as PERSON.
    with pytest.raises(EngineError, match="PUPIL"):
        Engine(policy=load_policy("version: 1\ndefault:\n  entities: {PUPIL: block}\n"))


# -- fail closed -------------------------------------------------------------------------------------------
class Exploding:
    supported_entities = ["PERSON"]
    context = []
    id = "exploding"

    def analyze(self, text, entities, nlp_artifacts=None):
        raise RuntimeError(f"boom on {text}")


def test_recogniser_exception_blocks_and_logs_no_text(roster_engine, caplog, monkeypatch):
    monkeypatch.setattr(roster_engine.analyzer.registry, "recognizers",
                        [*roster_engine.analyzer.registry.recognizers, Exploding()])
    with caplog.at_level(logging.ERROR, logger="pupilguard.detectors"):
        d = roster_engine.scan(["Oliver Smith secret text"])
    assert d.action == "block" and d.reasons == ["analysis_error"] and d.texts is None
    assert "RuntimeError" in caplog.text and "Oliver" not in caplog.text and "secret" not in caplog.text


def test_bad_input_blocks_instead_of_raising(engine):
    d = engine.scan(["fine", None])
    assert d.action == "block" and d.reasons == ["analysis_error"]
    assert engine.scan("a bare string, not a list").reasons == ["analysis_error"]


def test_decision_pickles_for_worker_processes(roster_engine):
    d = roster_engine.scan(["Oliver Smith has ADHD"])
    again = pickle.loads(pickle.dumps(d))
    assert again == d and again.findings[0].entity == d.findings[0].entity


def test_deadline_exceeded_blocks(engine):
    d = engine.scan(["Oliver Smith did well. " * 200], deadline_ms=0.001)
    assert d.action == "block" and d.reasons == ["analysis_timeout"] and d.texts is None
    assert engine.scan(["short"], deadline_ms=60_000).action == "allow"


def test_concurrent_scans_share_placeholders_consistently(roster_engine):
    from concurrent.futures import ThreadPoolExecutor

    ph = Placeholders()
    texts = ["Oliver Smith and Priya Patel.", "Priya Patel then Oliver Smith.", "Zoë O'Brien met Oliver Smith."] * 8
    with ThreadPoolExecutor(max_workers=4) as pool:
        decisions = list(pool.map(lambda t: roster_engine.scan([t], placeholders=ph), texts))
    restored = [ph.restore(d.texts[0]) for d in decisions]
    assert restored == texts
    assert len(ph) == 3  # three pupils, one placeholder each, whichever thread saw them first


def test_long_noisy_prompt_is_scanned(roster_engine):
    text = ("Oliver\u200b Smith was late. " + "Plain words about fractions and decimals. " * 40) * 25
    d = roster_engine.scan([text])
    assert d.action == "redact" and d.entity_counts == {"PUPIL": 25}
    rebuild(text, d.findings, d.texts[0])


def test_a_name_found_once_is_redacted_everywhere(engine):
    text = "From: Kerry Doyle\nSent: Monday\n\nCan he have a new book? Thanks, Kerry\n\nFrom: Kerry Doyle"
    d = engine.scan([text])
    assert "Kerry" not in d.texts[0] and "Doyle" not in d.texts[0]
    d = engine.scan(["Jayden in 8B was late. Later Jayden said sorry."])
    assert d.texts == ["[PERSON_1] in 8B was late. Later [PERSON_1] said sorry."]
