"""The corpus tiers: one per kind of prompt, each with the failure class it measures and what it holds.

ORIGINAL_TIERS are the first corpus (issue 2): the engine was tuned on them and tests/detectors/test_eval.py holds
it to that corpus's targets there. The other tiers are issue 9's failure classes; its targets apply to them.
The builder refuses a prompt whose tier is not listed here, and README.md's tier table follows this list.
"""
from __future__ import annotations

LANGUAGES = {
    "en": "English", "cy": "Welsh", "pl": "Polish", "ro": "Romanian", "pt": "Portuguese", "lt": "Lithuanian",
    "tr": "Turkish", "ur": "Urdu (Latin script)", "vi": "Vietnamese", "ar": "Arabic", "so": "Somali",
    "uk": "Ukrainian", "mixed": "more than one language",
}

# tier -> (failure class of issue 9, or "issue 2" for the first corpus; what it holds)
TIERS: dict[str, tuple[str, str]] = {
    # -- the first corpus --------------------------------------------------------------------------------------
    "report_comment": ("issue 2", "report comments to polish, shorten, translate"),
    "parent_email": ("issue 2", "emails to and from parents; health or religion -> block"),
    "sen_plan": ("issue 2", "pupil passports, one-page profiles, EHCP reviews, IEPs"),
    "behaviour_log": ("issue 2", "incident write-ups, detentions; police or racist incidents -> block"),
    "safeguarding": ("issue 2", "disclosures, CPOMS chronologies, MASH referrals, LAC/PEP, CIN/CP"),
    "class_list": ("issue 2", "class lists built from roster rows; SEN/FSM/medical/ethnicity columns -> block"),
    "exam_entry": ("issue 2", "UPN, ULN, UCI, NHS, NI numbers, candidate lists"),
    "evasion": ("issue 2", "zero-width, look-alike letters, soft hyphens, case, particles"),
    "other_people": ("issue 2", "people not on the roster: new pupils, staff, governors, parents"),
    "special_with_id": ("issue 2", "special category about a named pupil"),
    "famous_people": ("issue 2", "lessons about public, historical and fictional people"),
    "name_words": ("issue 2", "words that are also roster names"),
    "special_no_id": ("issue 2", "special-category vocabulary with nobody identified"),
    "teaching_request": ("issue 2", "ordinary planning, marking, resources"),
    "holdout_teaching": ("issue 2", "hold-out: lessons about famous people, ordinary requests"),
    "holdout_school_admin": ("issue 2", "hold-out: tables, lists, house points, DOBs, phones"),
    "holdout_pastoral": ("issue 2", "hold-out: health, mental health, bereavement, refugees, disclosures"),
    "holdout_parent_email": ("issue 2", "hold-out: app messages, forwarded mail, texts"),
    "holdout_class_list": ("issue 2", "hold-out: other class-list layouts"),
    "holdout_evasion": ("issue 2", "hold-out: double spaces, split names, look-alikes"),
    # -- 1. Welsh and other languages ----------------------------------------------------------------------------
    "cy_clean": ("1 languages", "Welsh-medium teaching requests and letters to all parents; Welsh words that are names"),
    "cy_named": ("1 languages", "Welsh prompts naming pupils (report comments, messages home, mutated names)"),
    "cy_special": ("1 languages", "Welsh prompts naming a pupil with ADY/CDU, health, diogelu, PDG -> block"),
    "cy_special_no_id": ("1 languages", "Welsh ALN and wellbeing vocabulary with nobody identified"),
    "translated_clean": ("1 languages", "letters to all parents in Polish, Romanian, Portuguese, Lithuanian, Turkish, "
                                        "Urdu, Vietnamese, Arabic, Somali, Ukrainian"),
    "translated_named": ("1 languages", "letters and messages for one family, in their language, naming the pupil"),
    "translated_special": ("1 languages", "a named pupil with SEN or health written in another language -> block"),
    # -- 2. home addresses ---------------------------------------------------------------------------------------
    "address_home": ("2 addresses", "home addresses in letter heads, signatures, forms and prose; Welsh streets, flats"),
    "address_postcode": ("2 addresses", "postcodes in lower case, unspaced, split over lines"),
    "address_special": ("2 addresses", "an address with foster, refuge, LAC or child-protection context -> block"),
    "address_public": ("2 addresses", "school, venue and fictional addresses that identify nobody"),
    # -- 3. other people -----------------------------------------------------------------------------------------
    "parent_named": ("3 other people", "parents: unknown forename + roster surname, \"X (Y's mum)\", carers"),
    "staff_named": ("3 other people", "staff with roles, first names, initials in minutes"),
    "non_roster_child": ("3 other people", "ex-pupils, siblings, other schools' and exchange pupils"),
    "families": ("3 other people", "families in the plural (\"the Okonkwos\"), households"),
    "usernames_files": ("3 other people", "usernames, mailbox local parts and file names built from names"),
    "other_people_special": ("3 other people", "a parent's or sibling's health, religion or circumstances -> block"),
    # -- 4. special category across sentences --------------------------------------------------------------------
    "new_starter_sen": ("4 cross-sentence", "new starters, managed moves, siblings; SEN in a later sentence -> block"),
    "cross_sentence": ("4 cross-sentence", "a roster pupil named, the diagnosis sentences later by pronoun -> block"),
    # -- 5. evasions ---------------------------------------------------------------------------------------------
    "evasion_encoded": ("5 evasions", "letter-spaced, dotted, hyphen-spelled, leetspeak, reversed names -> block"),
    "evasion_base64": ("5 evasions", "base64 runs hiding pupil lists -> block"),
    "encoding_clean": ("5 evasions", "base64, reversed strings and spelt-out words in lessons, naming nobody"),
    # -- 6. names that are words, places, characters, products, code ---------------------------------------------
    "timetable": ("6 word-names", "timetables and calendars: Mon..Sun, Jan..Dec abbreviations, months"),
    "word_names_named": ("6 word-names", "roster word-names used as names, beside the same words used as words"),
    "word_names_clean": ("6 word-names", "roster word-names used only as words"),
    "places": ("6 word-names", "places that are roster names (Kent, Lincoln, Chester, Poole, Jordan, Paris)"),
    "set_texts": ("6 word-names", "English Literature set texts (AQA, OCR, Edexcel, WJEC Eduqas) and characters"),
    "school_products": ("6 word-names", "exam boards and school systems (SIMS, Hegarty, Pearson, Arbor, Hwb...)"),
    "python_code": ("6 word-names", "Python code with max, len, pip, del; a hard-coded pupil list -> redact"),
    # -- 7. over-blocking ----------------------------------------------------------------------------------------
    "overblock_clean": ("7 over-blocking", "bereavement in passing, withdrawn from a trip, lost coat, CPOMS questions"),
    "overblock_named": ("7 over-blocking", "the same innocent words about a named pupil -> redact, not block"),
    # -- 8. placeholders and tables ------------------------------------------------------------------------------
    "mis_tables": ("8 tables", "MIS pastes as markdown, CSV and tab tables; exam clashes; markbooks"),
    "seating_plans": ("8 tables", "seating plans, grids, two-letter preferred names (\"Al B\")"),
    "mail_merge": ("8 tables", "mail-merge data sources and merged letters"),
    "ehcp_cpoms": ("8 tables", "EHCP sections and CPOMS/MyConcern extracts -> block"),
    "long_paste": ("8 tables", "long pastes: email threads with signatures, minutes, reports"),
    # -- 9. smaller ----------------------------------------------------------------------------------------------
    "upn_no_check": ("9 smaller", "a UPN typed without its check letter"),
    "initials_special": ("9 smaller", "initials + registration group + diagnosis (\"T.R. in 8C has anorexia\") -> block"),
}

ORIGINAL_TIERS = frozenset(name for name, (failure_class, _) in TIERS.items() if failure_class == "issue 2")
