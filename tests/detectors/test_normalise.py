"""clean() defeats invisible and look-alike characters while keeping an exact offset map; fold() gives one key
for every spelling of a name."""
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from detectors.normalise import _tables, clean, fold

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u202e", "\U000e0041"]


@pytest.mark.parametrize("spelling", ["Zoë O'Brien", "zoe obrien", "ZOË O’BRIEN", "Zoe\u0308 O\u2019Brien",
                                      "ZOE  O'BRIEN ", "Zо\u200bë О'Вrіеn"])
def test_spellings_of_one_name_fold_equal(spelling):
    assert fold(spelling) == "zoe obrien"


@pytest.mark.parametrize("text,expected", [
    ("Оliver", "Oliver"),                      # Cyrillic capital O
    ("аеорсхі", "aeopcxi"),                    # Cyrillic small letters
    ("Іsla", "Isla"),                          # Cyrillic capital I reads as Latin I, not l
    ("Αλέξης", "Αλέξης"),                      # a Greek word with letters no Latin one imitates stays Greek
    ("Тоm дислексія", "Tom дислексія"),        # a disguised name is mapped, a Ukrainian word is not
    ("Ｏｌｉｖｅｒ", "Oliver"),                  # fullwidth
    ("𝐎𝐥𝐢𝐯𝐞𝐫 𝘚𝘮𝘪𝘵𝘩", "Oliver Smith"),        # mathematical bold / sans-serif italic
    ("ﬁona", "fiona"),                         # ligature expands
    ("O’Brien", "O'Brien"), ("D‘Arcy", "D'Arcy"), ("D´Arcy", "D'Arcy"), ("Smith‐Jones", "Smith-Jones"), ("Smith–Jones", "Smith-Jones"),
    ("Zoë Chloé", "Zoë Chloé"),                # accents and case kept
    ("Oli\u200bver\u00a0Smith", "Oliver Smith"),
])
def test_clean_maps_lookalikes_and_keeps_accents(text, expected):
    assert clean(text).text == expected


def test_ascii_is_untouched_and_identity_mapped():
    c = clean("Oliver Smith, rm 12 - 'quoted'")
    assert c.text == "Oliver Smith, rm 12 - 'quoted'"
    assert c.to_original(7, 12) == (7, 12)


def test_offsets_map_back_to_the_original_span():
    original = "Hi Oli\u200bver S\u200dmith, and ﬁona."
    c = clean(original)
    start = c.text.index("Oliver Smith")
    s, e = c.to_original(start, start + len("Oliver Smith"))
    assert original[s:e] == "Oli\u200bver S\u200dmith"
    fs = c.text.index("fiona")
    s, e = c.to_original(fs, fs + 5)
    assert original[s:e] == "ﬁona"
    s, e = c.to_original(fs, fs + 1)  # half a ligature maps to the whole original character
    assert original[s:e] == "ﬁ"


def test_to_original_rejects_out_of_range():
    c = clean("a\u200bb")
    with pytest.raises(ValueError):
        c.to_original(0, 5)


def test_fold_treats_separators_alike():
    assert fold("Smith-Jones") == fold("Smith Jones") == fold("smith – jones") == "smith jones"
    assert fold("Smith,  Oliver") == "smith oliver"
    assert fold("Søren Łukasz Ærø") == "soren lukasz aero"
    assert fold("STRAßE") == "strasse"


def test_lookalike_table_never_maps_ascii_or_accented_latin():
    one_to_one, full, _ = _tables()
    for cp in full:
        ch = chr(cp)
        assert not ch.isascii()
        decomposed = unicodedata.normalize("NFD", ch)
        assert not (len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha()), ch


def test_clean_is_fast_enough_for_long_prompts():
    """Not a timing assertion: the ASCII fast path returns the very same string object."""
    text = "plain ascii prompt " * 1000
    assert clean(text).text is text


# -- properties ---------------------------------------------------------------------------------------
_one_to_one, _full, _length_changing = _tables()
_HOMOGLYPHS: dict[str, list[str]] = {}
for _cp, _target in _one_to_one.items():
    if _target.isascii() and _target.isalpha():
        _HOMOGLYPHS.setdefault(_target, []).append(chr(_cp))
_INVISIBLE = sorted(ch for ch in _length_changing if _full[ord(ch)] is None)

names = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéëçñøÆ' -")),
    min_size=0, max_size=30)


@given(st.text(max_size=40))
@settings(max_examples=400, deadline=None)
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


def test_fold_lowers_what_decomposing_leaves_in_capitals():
    # found by the property above: U+3390 SQUARE HZ decomposes to "Hz"
    assert fold("\u3390") == fold(fold("\u3390")) == "hz"


@given(names, st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(_INVISIBLE)), max_size=6))
@settings(max_examples=300, deadline=None)
def test_inserting_invisible_characters_never_changes_fold(name, inserts):
    mangled = name
    for pos, ch in inserts:
        pos %= len(mangled) + 1
        mangled = mangled[:pos] + ch + mangled[pos:]
    assert fold(mangled) == fold(name)


@given(names, st.data())
@settings(max_examples=300, deadline=None)
def test_swapping_homoglyphs_never_changes_fold(name, data):
    swapped = "".join(
        data.draw(st.sampled_from(_HOMOGLYPHS[ch])) if ch in _HOMOGLYPHS and data.draw(st.booleans()) else ch
        for ch in name)
    assert fold(swapped) == fold(name)


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_every_cleaned_span_maps_inside_the_original(text):
    c = clean(text)
    n = len(c.text)
    for start in range(0, n + 1, 3):
        for end in range(start, n + 1, 4):
            s, e = c.to_original(start, end)
            assert 0 <= s <= e <= len(text)
            if end > start:
                # a span that cuts a character cleaning expanded ("⑩" -> "10") maps to the whole character: the
                # original span holds at least what the cleaned one does, and exactly that when nothing is cut
                assert fold(c.text[start:end]) in fold(text[s:e])
                if c.to_original(start, start)[0] == s and c.to_original(end, end)[0] == e:
                    assert fold(text[s:e]) == fold(c.text[start:end])


@pytest.mark.parametrize("text, span, original", [("000\u2469", (0, 4), "000\u2469"), ("a\u2469b", (1, 3), "\u2469")])
def test_a_span_cutting_an_expanded_character_maps_to_the_whole_character(text, span, original):
    c = clean(text)
    s, e = c.to_original(*span)
    assert text[s:e] == original


def test_fold_drops_backtick_apostrophes_like_real_ones():
    assert fold("D`Arcy") == fold("D'Arcy") == fold("Darcy") == "darcy"


@given(st.text(max_size=60), st.lists(st.sampled_from(["\u200b", "\ufb01", "\u00ad", "\x00", "\u202e"]), max_size=4))
@settings(max_examples=300, deadline=None)
def test_fast_and_character_by_character_paths_agree(text, extras):
    from detectors.normalise import _clean_by_character

    mixed = text + "".join(extras) + text
    fast = clean(mixed)
    slow = _clean_by_character(mixed, _full)
    assert fast.text == slow.text
    n = len(fast.text)
    assert [fast.to_original(i, i + 1) for i in range(n)] == [slow.to_original(i, i + 1) for i in range(n)]
