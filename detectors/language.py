"""Which language each passage of a prompt is written in, so that English-only steps (spaCy's English NER) skip
the passages that are not English: run over Welsh or Polish, English NER tags ordinary words as names.

A passage is a sentence or a line. Most passages settle cheaply: English function words or ordinary English
vocabulary make a passage English, Welsh function words make it Welsh, letters of a non-Latin script make it
foreign. Only what is left goes to a statistical identifier (py3langid: langid.py's byte n-gram model, restricted
to the Latin-script languages UK staff write), and only its lower-case words: the capitalised ones may be names, and
a list of Polish names in an English prompt is still English. A passage with too few such words to judge (a
greeting, a sign-off, a table row of names) takes the language of the passage before it, else the one after, else
English. "Foreign" means "not English": which language it is only matters to the caller for reporting.

Results are remembered for the few most recent texts (the engine and the recognisers ask about the same text in
one scan) under a keyed digest of the text: no prompt text outlives its request here.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

ENGLISH = "en"
# English words frequent in any English sentence and rare as words of the other languages here. Short words
# that are also Welsh, Polish, Romance or German words (a, i, in, to, do, na, am, an, as, no, was, will, die...)
# are left out: they would make a Welsh or Polish passage look English.
_ENGLISH_WORDS = frozenset("""
the and of is are were for with that this these those have has had you your be been being would should could
can they their them it its from by what which who how when where why please our we us he she his her him not but
or if about into there here all some more any also does did my me it's i'm don't can't won't isn't there's
they're we're you're should've each every than then after before because just very much many only
""".split())
# Welsh function words that are not English words: they settle a Welsh passage too short to identify
# ("Cyfieithwch i'r Gymraeg:", "Annwyl rieni,").
_WELSH_WORDS = frozenset("""
i'r o'r a'r yn mae mae'n sy'n ydy yw dyma gyfer wedi gyda eich hefyd neu ddim hwn hon fy annwyl diolch cofion
gywir llun mawrth mercher iau gwener sadwrn sul
""".split())  # (the days of the week open a Welsh timetable's lines: "Llun - Mathemateg")
ENGLISH_SHARE = 0.2  # a passage with at least this share of English function words is English
ENGLISH_VOCABULARY = 0.7  # ... or with at least this share of its lower-case words ordinary English words
MIN_WORDS = 4  # words needed to identify a passage's language (3 of them in lower case: the others may be names)
FOREIGN_CONFIDENCE = 0.5  # the identifier's probability for the best non-English language to call a passage foreign
# The Latin-script languages of UK schools' staff and families (ISO 639-1). Urdu, Punjabi and Hindi written in Latin
# script are not among them; the identifier gives them to a neighbour, which is still "not English".
_LATIN_LANGUAGES = ("en", "cy", "ga", "pl", "ro", "pt", "lt", "lv", "tr", "es", "fr", "it", "de", "nl", "so", "vi",
                    "sq", "cs", "sk", "hu", "hr", "tl", "yo", "sw")

_PASSAGE_END = re.compile(r"(?<=[.!?;:])[ \t]+|\n")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_NON_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u052f\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u1100-\u11ff"
                        r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\ufb1d-\ufdff\ufe70-\ufeff]")


@dataclass(frozen=True, slots=True)
class Passage:
    start: int
    end: int
    language: str  # ISO 639-1 code, "en" for English; "xx" for a non-Latin script the identifier was not asked about


class _Recent:
    """The last `size` results, by a keyed digest of the text they are about (never the text itself)."""

    _KEY = os.urandom(16)

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, compute: Callable[[str], object]):
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), key=self._KEY, digest_size=16).digest()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute(text)
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_RECENT_TEXTS = _Recent(64)
_RECENT_PASSAGES = _Recent(1024)  # pastes repeat their lines ("sits at front")


def passages(text: str) -> tuple[Passage, ...]:
    """The text's passages with their languages (offsets into `text`; together they cover every word)."""
    return _RECENT_TEXTS.get(text, _passages)


def _passages(text: str) -> tuple[Passage, ...]:
    spans, pos = [], 0
    for m in _PASSAGE_END.finditer(text):
        if text[pos:m.start()].strip():
            spans.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        spans.append((pos, len(text)))
    judged = [_judge(text[s:e]) for s, e in spans]
    # too short to judge: the previous judged passage's language, else the next one's, else English
    following, nxt = [], ENGLISH
    for lang in reversed(judged):
        nxt = lang or nxt
        following.append(nxt)
    following.reverse()
    out, previous = [], None
    for (s, e), lang, after in zip(spans, judged, following):
        previous = lang or previous
        out.append(Passage(s, e, previous or after))
    return tuple(out)


def foreign_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the passages that are not English, neighbours merged."""
    spans: list[tuple[int, int]] = []
    for p in passages(text):
        if p.language == ENGLISH:
            continue
        if spans and not text[spans[-1][1]:p.start].strip():
            spans[-1] = (spans[-1][0], p.end)
        else:
            spans.append((p.start, p.end))
    return spans


def in_foreign_passage(text: str, i: int) -> bool:
    """Is offset i of the text in a passage that is not English?"""
    return any(start <= i < end for start, end in foreign_spans(text))


def _judge(passage: str) -> str | None:
    """The passage's language, or None when it has too few words to tell."""
    words = _WORD.findall(passage)
    if not words:
        return None
    lower = [w for w in words if w.islower()]
    if sum(w.lower() in _ENGLISH_WORDS for w in words) >= max(1, ENGLISH_SHARE * len(words)):
        return ENGLISH
    if len(_NON_LATIN.findall(passage)) * 2 > sum(map(len, words)):
        return "xx"
    if (lower or len(words) <= 3) and (words[0].lower() in _WELSH_WORDS or any(w in _WELSH_WORDS for w in lower)):
        return "cy"  # the first word counts too ("Annwyl rieni"), but not in a line of names ("Mae Thompson")
    # (words of one or two letters say nothing: "a", "i", "y" are Welsh words too)
    content = [w for w in lower if len(w) > 2]
    if len(content) > 1 and sum(map(_english_word, content)) >= ENGLISH_VOCABULARY * len(content):
        return ENGLISH
    if len(words) < MIN_WORDS or len(lower) < MIN_WORDS - 1:
        return None
    return _RECENT_PASSAGES.get(" ".join(lower), _identify)


def _english_word(word: str) -> bool:
    """An ordinary English word, or one with an English ending on one ("sits", "rushed", "struggles")."""
    common = _common_words()
    return word in common or any(word.endswith(end) and word[:-len(end)] + add in common
                                 for end, add in _ENDINGS)


_ENDINGS = (("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", ""),
            ("er", ""), ("ers", ""))


def _identify(words: str) -> str:
    code, probability = _identifier().classify(words)
    return code if code != ENGLISH and probability >= FOREIGN_CONFIDENCE else ENGLISH


def _common_words() -> frozenset[str]:
    from detectors.recognisers.roster_names import common_words

    return common_words()


# Welsh initial mutations: radical -> soft, nasal, aspirate forms ("cynllun" -> gynllun, nghynllun, chynllun).
_MUTATIONS = (("ll", ("l",)), ("rh", ("r",)), ("ch", ()), ("ph", ()), ("th", ()), ("ff", ()), ("dd", ()),
              ("ng", ()), ("p", ("b", "mh", "ph")), ("t", ("d", "nh", "th")), ("c", ("g", "ngh", "ch")),
              ("b", ("f", "m")), ("d", ("dd", "n")), ("g", ("", "ng")), ("m", ("f",)))


def welsh_mutations(phrase: str) -> list[str]:
    """The phrase and the forms its first word takes after a mutating word ("ei gynllun", "fy nghynllun", "ei
    chynllun"; a vowel takes h-: "ei hiselder"). Acronyms (ADY, CDU) never mutate."""
    if not phrase[:1].isalpha() or phrase.split(" ")[0].isupper():
        return [phrase]
    lower = phrase[0].lower() + phrase[1:]
    if lower[0] in "aeiouwyâêîôûŵŷ":
        return [phrase, "h" + lower]
    for radical, mutated in _MUTATIONS:
        if lower.startswith(radical):
            rest = lower[len(radical):]
            return [phrase, *(m + rest for m in mutated if (m + rest)[:1].isalpha())]
    return [phrase]


def welsh_radicals(word: str) -> list[str]:
    """The forms a Welsh word may have before it mutated ("Ddafydd" -> "dafydd", "Fethan" -> "bethan" or "methan",
    "Wen" -> "gwen"), lower case; the word itself is not among them."""
    lower = word.lower()
    found = [lower[1:]] if lower[:1] == "h" and lower[1:2] in "aeiouwyâêîôûŵŷ" else []
    for radical, mutated in _MUTATIONS:
        found += [radical + lower[len(m):] for m in mutated if m and lower.startswith(m)]
        if "" in mutated:
            found.append(radical + lower)
    return [f for f in dict.fromkeys(found) if f != lower]


@cache
def _identifier():
    """py3langid's identifier over _LATIN_LANGUAGES, giving probabilities (its 4.5 MB model, about a second to load
    once per process)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(_LATIN_LANGUAGES)
    return identifier


def preload() -> None:
    """Load the model now (the engine calls this at start-up, so no prompt pays for it)."""
    _identifier()
