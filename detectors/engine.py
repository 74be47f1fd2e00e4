"""The detection engine: prompt texts in, a decision (allow / redact / block) and the redacted texts out.

Every recogniser runs on `normalise.clean(text)`, so zero-width characters and look-alike letters cannot
hide an identifier; spans are mapped back to the original text, which is otherwise preserved byte for byte.

Decision rules (the policy decides which apply, see detectors/data/policy.yaml):
- identifiers are redacted with typed, numbered placeholders (or block, per entity);
- a special-category term blocks when the same request also identifies someone (detectors/cooccurrence.py: the
  whole request, not the sentence; a PERSON counts as a rostered pupil would, because a DPO cannot tell "Jayden in
  8B has ADHD" from a rostered pupil and pseudonymised health or safeguarding detail is easily re-identified);
- topic mentions ("ADHD awareness week") are not special-category findings (see recognisers/special_category.py);
- an evasion blocks: a pupil name disguised (letter-spaced, leetspeak, reversed: recognisers/roster_spellings.py)
  or any identifier inside text hidden as base64 (detectors/decode.py, decoded and scanned here, so `pupilguard
  scan` and `eval` judge what the proxy judges);
- any failure or an exceeded time budget blocks (fail closed).

Overlaps: well-known people (gazetteer, or named for their work) are never PERSON, and a roster forename inside
one ("Oliver Twist") is the character, but a roster full name ("Harry Potter") is a pupil, and so is the lone
forename of a pupil named in full in the same request even where famous names are about ("Isaac Patel ... Isaac
Newton ... Isaac loved it"); overlapping identifier spans merge into one placeholder named by PRIORITY; a name found
once is redacted wherever it recurs.

(Over 350 lines on purpose: the order in which findings are settled — roster, cues, NER, famous names,
layout, co-occurrence, policy — is the engine, and it reads top to bottom here; each rule lives in its own module.)
"""
from __future__ import annotations

import logging
import os
import re
import time
import traceback
from collections import Counter
from collections.abc import Sequence

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import NhsRecognizer, UkNinoRecognizer
from spacy.lang.en.stop_words import STOP_WORDS

from detectors.cooccurrence import identifies_someone, initials_or_group_beside
from detectors.decision import Decision, Finding
from detectors.decode import hidden_texts
from detectors.entities import IDENTIFIERS
from detectors.layout import (
    name_table_rows, negative_headings, not_names_in_tables, split_at_borders, trim_person_edges, whole_logins,
    without_post_towns,
)
from detectors.nlp import (
    CAPITALISED, ModelError, NerOnlySpacyEngine, WindowContextEnhancer, default_model, maybe_name,
)
from detectors.normalise import clean, fold
from detectors.placeholders import PLACEHOLDER_RE, Placeholders
from detectors.policy import Policy, Rules, default_policy
from detectors.recognisers.addresses import UkAddressRecognizer
from detectors.recognisers.contact import OfflineEmailRecognizer, UkPhoneRecognizer, UkPostcodeRecognizer
from detectors.recognisers.dates import DateOfBirthRecognizer
from detectors.recognisers.name_cues import CueNameRecognizer
from detectors.recognisers.persons import (
    InitialledNameRecognizer, NerPersonRecognizer, PublicFigureRecognizer, PupilContextNameRecognizer,
    SignOffNameRecognizer, TitledNameRecognizer, famous_folded, named_for_their_work,
)
from detectors.recognisers.roles import ROLE_RECOGNISERS, could_be_name, listed_with_names, staff_beside
from detectors.recognisers.public_address import public_address
from detectors.recognisers.special_category import SpecialCategoryRecognizer
from detectors.recognisers.uk_ids import UciRecognizer, UlnRecognizer, UpnRecognizer, complete_upn
from detectors.word_sense import character_to_write, in_literature_question, set_text_cast_here
from detectors.wordlists import places

log = logging.getLogger("pupilguard.detectors")

SPECIAL = "SPECIAL_CATEGORY"
PUBLIC_FIGURE = PublicFigureRecognizer.ENTITY
PRIORITY = IDENTIFIERS  # overlapping identifier spans merge into the first of these (see detectors/entities.py)
NAMES = ("PUPIL", "PERSON")
EXCERPT_MAX = 500

# Roster matches of one name word, which the context can make someone else: a character in a literature question,
# a member of staff with a job beside the name (a full name is the pupil whatever).
_LONE = ("forename", "surname")


class EngineError(RuntimeError):
    """The engine cannot start (no model, or the policy needs an entity no recogniser finds)."""


class Engine:
    """Load once (the spaCy model takes seconds), then `scan` from any thread."""

    def __init__(self, policy: Policy | None = None, roster=None, model: str | None = None) -> None:
        self.policy = policy or default_policy()
        self.roster = roster
        self.model = model or default_model()
        self.nlp_engine = NerOnlySpacyEngine(self.model)
        try:
            self.nlp_engine.load()
        except ModelError as exc:
            raise EngineError(str(exc)) from None
        registry = RecognizerRegistry(supported_languages=["en"])
        for recogniser in self._recognisers(roster):
            registry.add_recognizer(recogniser)
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=self.nlp_engine, supported_languages=["en"],
                                       context_aware_enhancer=WindowContextEnhancer())
        self.entities = sorted({e for r in registry.recognizers for e in r.supported_entities})
        self._explainers = [r for r in registry.recognizers if isinstance(r, (
            PublicFigureRecognizer, TitledNameRecognizer, InitialledNameRecognizer, PupilContextNameRecognizer,
            SignOffNameRecognizer, *ROLE_RECOGNISERS))]
        self._check_policy(self.policy)
        places()  # ~9,000 place names folded once here (a third of a second), not by the first prompt naming a town
        # Warm up lazily built tables (look-alike map, suffix list, spaCy buffers) so the first prompt is not slow.
        self.scan(["Warm-up: Mr J. Smith, j.smith@example.org, 020 7946 0958, SW1A 1AA, caf\u00e9 \u200b."])

    @staticmethod
    def _recognisers(roster) -> list:
        recognisers = [
            UpnRecognizer(), UlnRecognizer(), UciRecognizer(), NhsRecognizer(), UkNinoRecognizer(),
            DateOfBirthRecognizer(), UkAddressRecognizer(), UkPostcodeRecognizer(), UkPhoneRecognizer(),
            OfflineEmailRecognizer(), NerPersonRecognizer(), TitledNameRecognizer(), InitialledNameRecognizer(),
            PupilContextNameRecognizer(), SignOffNameRecognizer(), CueNameRecognizer(), PublicFigureRecognizer(),
            SpecialCategoryRecognizer(), *(r() for r in ROLE_RECOGNISERS),
        ]
        if roster is not None:
            from detectors.recognisers.roster_ids import RosterIdentifierRecognizer
            from detectors.recognisers.roster_names import RosterNameRecognizer
            from detectors.recognisers.roster_spellings import RosterSpellingRecognizer

            recognisers += [RosterNameRecognizer(roster), RosterSpellingRecognizer(roster),
                            RosterIdentifierRecognizer(roster)]
        return recognisers

    def _check_policy(self, policy: Policy) -> None:
        """Refuse to start if the policy relies on an entity nothing here can find (lesson from tools that
        silently let such entities through). Without a roster, rostered names fall to PERSON, which must then be
        handled at least as strictly."""
        available = set(self.entities)
        missing: set[str] = set()
        for rules in policy.all_rules():
            needed = rules.relied_on
            if "PUPIL" in needed and "PUPIL" not in available:
                if rules.action_for("PERSON") == "ignore" or (
                        rules.action_for("PUPIL") == "block" and rules.action_for("PERSON") != "block"):
                    missing.add("PUPIL (no roster loaded, and PERSON is not handled as strictly)")
                needed = needed - {"PUPIL"}
            missing |= needed - available
        if missing:
            raise EngineError("the policy relies on entities with no recogniser: " + ", ".join(sorted(missing)))

    # -- scanning -------------------------------------------------------------------------------------------
    def scan(self, texts: Sequence[str], *, tool: str | None = None, profile: str | None = None,
             placeholders: Placeholders | None = None, deadline_ms: float | None = None) -> Decision:
        """Decide for one request's texts. Never raises: a failure or a missed deadline is a block."""
        started = time.perf_counter()
        try:
            if isinstance(texts, str):  # scan("...") would scan each character on its own
                raise TypeError("texts must be a sequence of strings, not a string")
            decision = self._scan(list(texts), self.policy.resolve(tool, profile),
                                  placeholders if placeholders is not None else Placeholders(), started, deadline_ms)
        except _Timeout:
            decision = Decision("block", None, reasons=["analysis_timeout"])
        except Exception as exc:  # fail closed; log the place, never the text (messages may quote it)
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
            log.error("analysis failed: %s%s", type(exc).__name__, where)
            decision = Decision("block", None, reasons=["analysis_error"])
        decision.elapsed_ms = (time.perf_counter() - started) * 1000
        if deadline_ms is not None and decision.elapsed_ms > deadline_ms and decision.action != "block":
            decision = Decision("block", None, reasons=["analysis_timeout"], elapsed_ms=decision.elapsed_ms)
        return decision

    def _explained_words(self, text: str) -> tuple[set[str], dict[str, list[RecognizerResult]]]:
        """Capitalised words other recognisers settle without NER: inside a well-known name, a titled or
        initialled name, a name marked by pupil context, or a roster forename/surname that is not also an ordinary
        word (the roster recogniser flags those on its own). Also the explaining recognisers' results, by
        recogniser id, for `analyse` to reuse."""
        explained: set[str] = set()
        found: dict[str, list[RecognizerResult]] = {}
        for recogniser in self._explainers:  # famous names; titled, initialled and pupil-context names
            found[recogniser.id] = recogniser.analyze(text, recogniser.supported_entities)
            for r in found[recogniser.id]:
                explained.update(CAPITALISED.findall(text[r.start:r.end]))
        if self.roster is not None:
            from detectors.roster import FORENAME, SURNAME
            from detectors.wordlists import word_names

            common = word_names()
            words = [w for w in set(CAPITALISED.findall(text)) - explained
                     if maybe_name(w, explained) and w.lower() not in common]
            if words:
                flags, _ = self.roster.lookup_folded([fold(w) for w in words])
                explained.update(w for w, f in zip(words, flags.tolist()) if f & (FORENAME | SURNAME))
        return explained, found

    def analyse(self, text: str, rules: Rules | None = None, nlp_artifacts: NlpArtifacts | None = None,
                known: dict[str, list[RecognizerResult]] | None = None) -> list[RecognizerResult]:
        """Raw recogniser results on the cleaned text (offsets of the cleaned text), context-weighted. `known`:
        results some recognisers already gave for this text, by recogniser id (they are not run again).

        Runs the registry's recognisers the way AnalyzerEngine.analyze does, but without its pairwise
        de-duplication (quadratic in the number of results, slow on long prompts): overlaps are resolved once,
        by entity priority, in `_resolve`."""
        rules = rules or self.policy.resolve()
        artifacts = nlp_artifacts or self.nlp_engine.process_text(text, "en")
        recognisers = self.analyzer.registry.recognizers
        results: list[RecognizerResult] = []
        for recogniser in recognisers:
            found = (known or {}).get(recogniser.id)
            if found is None:
                found = recogniser.analyze(text, recogniser.supported_entities, artifacts) or []
            for r in found:
                r.recognition_metadata = r.recognition_metadata or {}
                r.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] = recogniser.id
            results.extend(found)
        self.analyzer.context_aware_enhancer.enhance_using_context(text, results, artifacts, recognisers)
        if rules.deny_pattern is not None:
            for m in rules.deny_pattern.finditer(text):
                results.append(RecognizerResult(SPECIAL, m.start(), m.end(), 1.0,
                                                recognition_metadata={"subtype": m.lastgroup}))
        return results

    def _scan(self, texts: list[str], rules: Rules, placeholders: Placeholders, started: float,
              deadline_ms: float | None) -> Decision:
        if any(not isinstance(t, str) for t in texts):
            raise TypeError("texts must be strings")
        given = len(texts)
        texts = texts + [hidden for t in texts for hidden in hidden_texts(t)]  # scanned too; see _decide
        cleaned = [clean(t) for t in texts]
        todo = [i for i, c in enumerate(cleaned) if c.text.strip()]
        texts_todo = [cleaned[i].text for i in todo]
        explained = [self._explained_words(t) for t in texts_todo]
        artifacts = dict(zip(todo, self.nlp_engine.process_many(texts_todo, [words for words, _ in explained])))
        known = dict(zip(todo, (results for _, results in explained)))
        raw: dict[int, list[RecognizerResult]] = {}
        for i in todo:
            if deadline_ms is not None and (time.perf_counter() - started) * 1000 > deadline_ms:
                raise _Timeout
            raw[i] = self.analyse(cleaned[i].text, rules, artifacts[i], known[i])
        named = _named_in_full(cleaned, raw, rules)
        per_text: list[list[Finding]] = []
        refs: list[str] = []
        for i, c in enumerate(cleaned):
            findings, found_refs = self._resolve(c, raw.get(i, []), rules, i, named)
            per_text.append(findings)
            refs.extend(r for r in found_refs if r not in refs)
        return self._decide(texts, per_text, rules, placeholders, refs, given)

    def _resolve(self, cleaned, results: list[RecognizerResult], rules: Rules, index: int,
                 named: frozenset[str] = frozenset()) -> tuple[list[Finding], list[str]]:
        """Filter, prioritise and merge raw results; return findings in original-text offsets. `named`: folded
        words of pupils' full names found anywhere in the request (see `_named_in_full`)."""
        text = cleaned.text
        famous = _famous_spans(results)
        if famous and (rows := name_table_rows(text)):  # in an MIS table's rows a roster name is the pupil
            famous = [(s, e) for s, e in famous if not any(a <= s and e <= b for a, b in rows)]
        taken = [(m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)]  # already redacted
        kept: list[RecognizerResult] = []
        # NER's PERSON that is a thing ("Hegarty Maths", "Moon"), unless the same word is a person elsewhere in the
        # prompt ("Tom's dad ... picking Tom up": the second Tom alone looks like the ordinary word)
        public = {id(r): (r.start, r.end) for r in results if r.entity_type in ("UK_ADDRESS", "UK_POSTCODE")
                  and public_address(text, r.start, r.end)}
        streets = [(r.start, r.end) for r in results if r.entity_type == "UK_ADDRESS"]
        # ... or a street of a venue's address ("Venue: 55 Victoria Embankment, Bristol (Cadbury World)")
        ner_things = {id(r) for r in results if r.entity_type == "PERSON" and _from_ner(r)
                      and (_ner_thing(text, r.start, r.end)
                           or any(s <= r.start and r.end <= e for s, e in public.values()))}
        said_people = {text[r.start:r.end].strip() for r in results
                       if r.entity_type == "PERSON" and id(r) not in ner_things}
        for r in results:
            if r.entity_type == PUBLIC_FIGURE or (r.entity_type != SPECIAL and r.score < rules.score_threshold):
                continue  # the threshold tunes identifiers; it must not switch special-category blocking off
            value = text[r.start:r.end]
            if value != value.strip():  # some patterns (Presidio's NINO) take a neighbouring space along
                r.start += len(value) - len(value.lstrip())
                r.end -= len(value) - len(value.rstrip())
                value = value.strip()
            if not value:
                continue
            if rules.allowed_values and fold(value) in rules.allowed_values:
                continue
            if any(s < r.end and r.start < e for s, e in taken):
                continue
            if r.entity_type == "PERSON" and (fold(value) in famous_folded() or any(
                    s < r.end and r.start < e and _only_common_words_outside(text, (r.start, r.end), (s, e))
                    for s, e in famous) or named_for_their_work(text, r.start, r.end)
                    or character_to_write(text, r.start) or set_text_cast_here(text, value)):
                continue  # "Summarise Martin Luther King Jr" is the famous name plus an ordinary word; a story's fox
            if r.entity_type == "PUPIL" and (_is_famous_here(r, value, famous, named)
                                              or _set_text_character(text, value)):
                continue
            if r.entity_type == "PUPIL" and (r.recognition_metadata or {}).get("roster_match") in _LONE:
                if in_literature_question(text, r.start, r.end) or set_text_cast_here(text, value):
                    continue  # "How does Priestley use Sheila and Eric", "Is Juliet more mature than Romeo?"
                if staff_beside(text, r.start, r.end):
                    r = RecognizerResult("PERSON", r.start, r.end, r.score)  # "Siobhan (our SENCo)": staff
            if r.entity_type == SPECIAL and any(a <= r.start and r.end <= b for a, b in streets):
                continue  # "4 Church Lane", "Chapel Street": a street's name, no faith
            if id(r) in public:
                continue  # a school's, museum's or venue's address, an example, a story's (recognisers/public_address.py)
            if id(r) in ner_things and value not in said_people:
                continue  # "Hegarty Maths", "Mill Lane", "Moon": a product, a place, a word (detectors/word_sense.py)
            kept.append(r)
        # the prompt's layout: names cut at line and cell borders, no names in table headings or post towns
        kept = whole_logins(text, split_at_borders(text, kept))
        kept = not_names_in_tables(text, without_post_towns(text, trim_person_edges(text, kept)))
        pupils = [r for r in kept if r.entity_type == "PUPIL"]
        if pupils:  # NER running a pupil's name into a neighbouring word ("Ring Zoë") must not redact the word
            in_pupil = _coverage(pupils, len(text))
            kept = [piece for r in kept for piece in (
                _outside_pupils(text, r, pupils) if r.entity_type == "PERSON" and in_pupil.find(1, r.start, r.end)
                >= 0 else [r])]
        kept = [_with_first_name(text, r, famous) if r.entity_type == "PERSON" else r for r in kept]
        kept += _listed_names(text, kept, famous)
        kept += _repeat_person_findings(text, kept, famous)
        names = [r for r in kept if r.entity_type in NAMES]
        in_name = _coverage(names, len(text))
        identifiers = _merge([r for r in kept if r.entity_type in PRIORITY])
        told_nothing = negative_headings(text) if any(r.entity_type == SPECIAL for r in kept) else []
        specials = [r for r in _unique_spans(kept) if r.entity_type == SPECIAL
                    and (r.recognition_metadata or {}).get("subtype") in rules.special_subtypes
                    and in_name.find(1, r.start, r.end) < 0  # "Christian", "Grace" are names here
                    and not any(s <= r.start and r.end <= e for s, e in told_nothing)  # "SEN" over N, N, N
                    and not ((r.recognition_metadata or {}).get("role") and _names_someone(text, r, names))]
        refs: list[str] = []
        for r in identifiers:
            refs.extend((r.recognition_metadata or {}).get("pupil_refs", ()))
            if self.roster is not None and r.entity_type in ("UK_UPN", "UK_ULN"):
                value = text[r.start:r.end]
                value = complete_upn(value) if r.entity_type == "UK_UPN" else value
                ref = self.roster.lookup_identifier(r.entity_type[3:], value)
                if ref:
                    refs.append(ref)
        findings = []
        for r in sorted(identifiers + specials, key=lambda r: r.start):
            start, end = cleaned.to_original(r.start, r.end)
            meta = r.recognition_metadata or {}
            subtype = meta.get("subtype") if r.entity_type == SPECIAL else None
            findings.append(Finding(r.entity_type, start, end, round(float(r.score), 3), index, subtype,
                                    bool(meta.get("evasion"))))
        return findings, refs

    def _decide(self, texts: list[str], per_text: list[list[Finding]], rules: Rules, placeholders: Placeholders,
                refs: list[str], given: int) -> Decision:
        """`texts[given:]` were hidden in the others (base64): an identifier there was sent in disguise, an evasion
        the DPO must see, and the prompt is blocked; the redacted texts returned are the first `given`."""
        findings = [f for fs in per_text for f in fs if f.entity == SPECIAL or rules.action_for(f.entity) != "ignore"]
        identifiers = [f for f in findings if f.entity != SPECIAL]
        specials = [f for f in findings if f.entity == SPECIAL]
        reasons: list[str] = []
        if any(f.index >= given for f in identifiers) or any(f.evasion for f in identifiers):
            reasons.append("evasion")
        about_someone = bool(specials) and rules.special_category != "allow" and (
            identifies_someone(texts, identifiers, specials, rules.identifiers_for_special)
            or (rules.special_with_initials and initials_or_group_beside(texts, specials)))
        if specials and rules.special_category == "block":
            reasons.append("special_category")
        elif about_someone:
            reasons.append("special_category_with_identifier")
        if any(rules.action_for(f.entity) == "block" for f in identifiers):
            reasons.append("policy_block")
        # Monitor enforces the core rule only - special-category data about someone is blocked, identifiers are
        # redacted (one the policy would block included) - and reports whatever else the policy would block.
        # An identifier hidden by an encoding cannot be redacted in place: evasion blocks in monitor mode too.
        monitored = rules.mode == "monitor" and bool(reasons) and not about_someone and "evasion" not in reasons
        to_redact = [f for f in identifiers if rules.action_for(f.entity) == "redact"
                     or (monitored and rules.action_for(f.entity) == "block")]
        # Every identifier found is replaced in the excerpt, whatever the action: the DPO log never holds one.
        all_identifiers = [[f for f in fs if f.entity != SPECIAL] for fs in per_text]
        excerpt = _excerpt([_redact(t, fs, placeholders) for t, fs in zip(texts, all_identifiers)])
        counts = Counter(f.label for f in findings)
        if reasons and not monitored:
            action, out = "block", None
        else:
            would = [*reasons, "monitor_only"] if monitored else []
            if to_redact:
                action, reasons = "redact", ["identifier_redacted", *would]
                out = [_redact(t, [f for f in to_redact if f.index == i], placeholders)
                       for i, t in enumerate(texts[:given])]
            else:
                action, out, reasons = "allow", list(texts[:given]), would
        # the excerpt gave every identifier its placeholder; asking again returns the same one
        used = list(dict.fromkeys(placeholders.placeholder(f.entity, texts[f.index][f.start:f.end])
                                  for f in identifiers))
        return Decision(action, out, findings, reasons, dict(counts), refs, excerpt, placeholders_used=used)


class _Timeout(Exception):
    pass


def _famous_spans(results: list[RecognizerResult]) -> list[tuple[int, int]]:
    return [(r.start, r.end) for r in results if r.entity_type == PUBLIC_FIGURE]


def _is_famous_here(pupil: RecognizerResult, value: str, famous: list[tuple[int, int]],
                    named: frozenset[str] = frozenset()) -> bool:
    """Is this roster-name span the well-known person rather than the pupil?

    A roster forename inside a longer well-known name ("Oliver" in "Oliver Twist", "Florence" in "Florence
    Nightingale") is that person, always. A lone forename the gazetteer reads as a character only because other
    famous names are around ("Juliet" near "Romeo", "Isaac" near "Isaac Newton") is the character too, unless
    the request names the pupil in full: after "Isaac Patel did a project on Isaac Newton", "Isaac loved it" is
    Isaac Patel, and leaving him unredacted would undo his full name's redaction. The roster's full name
    "Harry Potter" is a pupil even though the gazetteer knows it."""
    single = " " not in value.strip()
    for s, e in famous:
        if s <= pupil.start and pupil.end <= e:
            if (s, e) != (pupil.start, pupil.end):
                return True
            if single and not (named and set(fold(value).split()) <= named):
                return True
    return False


def _named_in_full(cleaned: list, raw: dict[int, list[RecognizerResult]], rules: Rules) -> frozenset[str]:
    """Folded words of the pupils' full names found in the request's texts (a chat's earlier messages count:
    they go to the AI service with the rest), excluding full names that are the well-known person's."""
    named: set[str] = set()
    for i, results in raw.items():
        famous = None
        for r in results:
            if r.entity_type != "PUPIL" or (r.recognition_metadata or {}).get("roster_match") != "full_name" \
                    or r.score < rules.score_threshold:
                continue
            value = cleaned[i].text[r.start:r.end]
            if rules.allowed_values and fold(value) in rules.allowed_values:
                continue
            famous = _famous_spans(results) if famous is None else famous
            if not _is_famous_here(r, value, famous) and not _set_text_character(cleaned[i].text, value):
                named.update(fold(value).split())
    return frozenset(named)


def _from_ner(r: RecognizerResult) -> bool:
    return str((r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, "")).startswith(
        NerPersonRecognizer.__name__ + "_")


def _set_text_character(text: str, value: str) -> bool:
    from detectors.word_sense import set_text_character_here

    return set_text_character_here(text, value)


def _ner_thing(text: str, start: int, end: int) -> bool:
    from detectors.word_sense import ner_thing_not_person
    from detectors.wordlists import common_words, not_people

    return ner_thing_not_person(text, start, end, common_words(), not_people())


def _merge(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Overlapping identifier spans become one span (nothing half-redacted) named by PRIORITY."""
    merged: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (r.start, -r.end)):
        if merged and r.start < merged[-1].end:
            top = merged[-1]
            best = min((top, r), key=lambda x: PRIORITY.index(x.entity_type))
            meta = dict(top.recognition_metadata or {})
            meta["pupil_refs"] = [*meta.get("pupil_refs", ()), *(r.recognition_metadata or {}).get("pupil_refs", ())]
            meta["evasion"] = meta.get("evasion") or (r.recognition_metadata or {}).get("evasion")
            merged[-1] = RecognizerResult(best.entity_type, top.start, max(top.end, r.end),
                                          max(top.score, r.score), recognition_metadata=meta)
        else:
            merged.append(r)
    return merged


def _only_common_words_outside(text: str, outer: tuple[int, int], inner: tuple[int, int]) -> bool:
    """True when the parts of span `outer` outside span `inner` hold only lower-case or stop words: NER running
    a name into its neighbours ("Oliver said"). A capitalised word there may be a name ("Kerry Doyle") and stays."""
    outside = text[outer[0]:max(outer[0], inner[0])] + " " + text[min(outer[1], inner[1]):outer[1]]
    return all(w.islower() or w.lower() in STOP_WORDS for w in _WORD_RE.findall(outside))


_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _outside_pupils(text: str, person: RecognizerResult, pupils: list[RecognizerResult]) -> list[RecognizerResult]:
    """NER's PERSON span over a pupil's name and its neighbours ("Ring Zoë", "Maths Oliver Smith", two pupils
    side by side in a seating plan): the pupils are found already; a part left outside them stays a PERSON only
    where it holds a capitalised word that is no ordinary word ("Oliver Smith Kerry Doyle"), trimmed to its words."""
    pieces = [(person.start, person.end)]
    for p in [p for p in pupils if p.start < person.end and person.start < p.end]:  # only these can cut it
        pieces = [part for s, e in pieces for part in (
            ((s, max(s, p.start)), (min(e, p.end), e)) if p.start < e and s < p.end else ((s, e),))]
    from detectors.recognisers.persons import SCHOOL_WORDS
    from detectors.word_sense import CALENDAR
    from detectors.wordlists import not_people, word_names

    common = word_names()
    after_forename = {p.end for p in pupils if (p.recognition_metadata or {}).get("roster_match") == "forename"}
    out = []
    for s, e in pieces:  # "Paper" or "Maths" beside a pupil's name is the word; "Doyle" may be someone's name
        words = list(_WORD_RE.finditer(text, s, e))
        # right after a pupil's forename, NER's name goes on with a surname even if it is also a word ("Lukas
        # Becker", "Ella Baker"): another child of that forename, whose surname must not go out alone
        surname_next = bool(words) and words[0].start() - 1 in after_forename and text[words[0].start() - 1] == " "
        if any(w.group()[:1].isupper() and maybe_name(w.group(), set()) and (
                w.group().lower() not in common or (surname_next and i == 0 and w.group().lower() not in SCHOOL_WORDS
                                                     and w.group().lower() not in not_people()
                                                     and w.group().lower() not in CALENDAR))
               for i, w in enumerate(words)):
            out.append(RecognizerResult("PERSON", words[0].start(), words[-1].end(), person.score,
                                        recognition_metadata=person.recognition_metadata))
    return out


_ROLE_THEN_NAME = re.compile(r"[\s,:(\u2013-]*(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+)?")
_NAME_THEN_ROLE = re.compile(r"[\s,(\u2013-]*(?:(?:is|as|our|the|new|my|school|acting|interim|has|have|was|been|"
                             r"works|worked|working|y|yr|ein)\s+)*", re.IGNORECASE)  # "Nerys has worked as ALNCo"


def _names_someone(text: str, role: RecognizerResult, names: list[RecognizerResult]) -> bool:
    """A job title in apposition with a name ("SENCO, Mrs Shah" / "Priya Shah, our SENCO") says who someone is."""
    for n in names:
        if n.start >= role.end and _ROLE_THEN_NAME.fullmatch(text, role.end, n.start):
            return True
        if n.end <= role.start and _NAME_THEN_ROLE.fullmatch(text, n.end, role.start):
            return True
    return False


_WORD_BEFORE = re.compile(r"(?:^|(?<=[\s(\"'\u201c]))([A-Z][a-z'\u2019]+(?:-[A-Z][a-z'\u2019]+)*) $")  # not "Ex-pupil"


def _with_first_name(text: str, r: RecognizerResult, famous: list[tuple[int, int]]) -> RecognizerResult:
    """NER sometimes tags only the surname of a name on its own ("Amelia Watson" in a table row gives "Watson"): the
    capitalised word right before it joins the name when it could be one (not an ordinary word, a title or a
    school word)."""
    from detectors.normalise import fold
    from detectors.recognisers.roster_names import common_words
    from detectors.word_sense import person_word_before

    m = _WORD_BEFORE.search(text, max(0, r.start - 40), r.start)
    if m is None or not maybe_name(m.group(1), set()) or m.group(1).lower() in common_words() \
            or person_word_before(fold(m.group(1))) \
            or any(s < r.start and m.start(1) < e for s, e in famous):
        return r
    r.start = m.start(1)
    return r


def _repeat_person_findings(text: str, kept: list[RecognizerResult], famous: list[tuple[int, int]]
                            ) -> list[RecognizerResult]:
    """A name found once is a name wherever it recurs ("Jayden in 8B ... later Jayden said"), though NER or a
    context rule caught only one mention. Same spelling (or its capitals), whole words, not inside a well-known name
    or something already found; a name that is also an ordinary word ("Will", "Kerry", "Dean") only right before a
    found surname ("Thanks, Kerry" ... "From: Kerry Doyle") or alone on its line, as an e-mail is signed."""
    from detectors.recognisers.roster_names import common_words

    common = common_words()
    sources: dict[str, RecognizerResult] = {}
    for r in kept:
        value = text[r.start:r.end]
        if r.entity_type == "PERSON":
            sources.setdefault(value, r)
            sources.setdefault(value.upper(), r)
    for r in kept:  # the forename of a full name recurs alone: "Rhian Meirion (Pennaeth) ... Rhian agreed"
        words = text[r.start:r.end].split()
        if r.entity_type == "PERSON" and len(words) > 1 and len(words[0]) > 2 and words[0][:1].isupper() \
                and words[0].lower() not in STOP_WORDS:
            sources.setdefault(words[0], r)
    if not sources:
        return []
    pattern = re.compile(r"(?<![\w'-])(?:" + "|".join(map(re.escape, sorted(sources, key=len, reverse=True)))
                         + r")(?![\w-])")
    found = _coverage(kept, len(text))
    for s, e in famous:
        found[s:e] = b"\x01" * (e - s)
    extra = []
    for m in pattern.finditer(text):
        if found.find(1, m.start(), m.end()) >= 0:
            continue
        if " " not in m.group(0) and m.group(0).lower() in common and not (
                (text[m.end():m.end() + 1] == " " and found[m.end() + 1:m.end() + 2] == b"\x01")
                or _alone_on_its_line(text, m.start(), m.end())):
            continue  # an ordinary word ("Will", "Kerry") recurs as a name only before a found surname, or signing
        source = sources[m.group(0)]
        end = m.end()
        if " " not in m.group(0):  # "Nerys says ..." found, then "Reference for Nerys Tudor": the surname too
            after = re.match(r" ([^\W\d_][\w'\u2019-]*)", text[end:end + 40])
            if after and found.find(1, end, end + after.end()) < 0 and could_be_name(after.group(1), common):
                end += after.end()
        extra.append(RecognizerResult("PERSON", m.start(), end, source.score,
                                      recognition_metadata=dict(source.recognition_metadata or {})))
    return extra


_SIGN_OFF_TAIL = re.compile(r"[ \t]*[.,!]?[ \t]*(?:x+)?[ \t]*\r?$")


def _alone_on_its_line(text: str, start: int, end: int) -> bool:
    """Is text[start:end] all its line holds (but a full stop, a comma or kisses): "Dean", "Kerry x"?"""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return not text[line_start:start].strip() and bool(
        _SIGN_OFF_TAIL.fullmatch(text, end, len(text) if line_end < 0 else line_end))


def _listed_names(text: str, kept: list[RecognizerResult], famous: list[tuple[int, int]]) -> list[RecognizerResult]:
    """Names in a list with a name found ("thanks to Joanne and Sanjay"): see roles.listed_with_names."""
    names = [r for r in kept if r.entity_type in NAMES]
    if not names:
        return []
    taken = _coverage(kept, len(text))
    for s, e in famous:
        taken[s:e] = b"\x01" * (e - s)
    score = min(r.score for r in names)
    return [RecognizerResult("PERSON", s, e, score, recognition_metadata={"listed": True})
            for s, e in listed_with_names(text, [(r.start, r.end) for r in names], taken)]


def _coverage(results: list[RecognizerResult], n: int) -> bytearray:
    """1 for every character inside one of the spans: overlap tests become one C-level `find`."""
    covered = bytearray(n)
    for r in results:
        covered[r.start:r.end] = b"\x01" * (r.end - r.start)
    return covered


def _unique_spans(results: list[RecognizerResult]) -> list[RecognizerResult]:
    seen, out = set(), []
    for r in results:
        key = (r.entity_type, r.start, r.end)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _redact(text: str, findings: list[Finding], placeholders: Placeholders) -> str:
    out, pos = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < pos:
            continue
        out.append(text[pos:f.start])
        out.append(placeholders.placeholder(f.entity, text[f.start:f.end]))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def _excerpt(texts: list[str]) -> str:
    joined = " … ".join(" ".join(t.split()) for t in texts if t.strip())
    return joined if len(joined) <= EXCERPT_MAX else joined[:EXCERPT_MAX - 1] + "…"


__all__ = ["Decision", "Engine", "EngineError", "Finding", "Placeholders", "default_model"]
